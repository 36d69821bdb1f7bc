"""OAuth 2 as Genesys Cloud speaks it: client credentials, authorization code (+ PKCE),
implicit grant, refresh, and bearer-token authentication for every API call.

Every password and client-secret check runs on the SecretVerifier's threads, not the event
loop, and goes through the LoginThrottle (per account and per source address) first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from parley.domain.access import Principal, Role
from parley.domain.directory import (
    AuthorizationCode,
    GrantType,
    OAuthClient,
    Organization,
    TokenRecord,
    User,
)
from parley.domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from parley.services.credentials import SecretVerifier, digest, new_token
from parley.services.login_throttle import Attempt, LoginThrottle
from parley.services.ports import Clock, UnitOfWorkFactory

CODE_TTL_MS = 5 * 60 * 1000
REFRESH_TTL_MS = 30 * 24 * 3600 * 1000
"""A refresh token is good for 30 days after its access token expired."""


class OAuthError(Exception):
    """An RFC 6749 error: rendered as {"error", "error_description"} at the token endpoint."""

    def __init__(self, error: str, description: str, status: int = 400, *,
                 retry_after_s: int | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    refresh_token: str | None = None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    principal: Principal
    organization: Organization
    client: OAuthClient
    grant_type: GrantType


class TokenCache:
    """Recently seen tokens, so a request does not hit the database to authenticate.

    Entries live at most `ttl_ms` (and never past the token's expiry), which bounds how long a
    token revoked on another node stays usable here. Revocation on this node is immediate.
    """

    def __init__(self, ttl_ms: int = 30_000, max_entries: int = 100_000) -> None:
        self._ttl_ms = ttl_ms
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[int, Principal]] = OrderedDict()
        self._on_evict: list[Callable[[str, Principal | None], None]] = []

    def get(self, token_id: str, now_ms: int) -> Principal | None:
        hit = self._entries.get(token_id)
        if hit is None:
            return None
        until, principal = hit
        if now_ms >= until:
            del self._entries[token_id]
            return None
        return principal

    def put(self, principal: Principal, now_ms: int) -> None:
        self._entries[principal.token_id] = (
            min(principal.expires_at_ms, now_ms + self._ttl_ms), principal)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def evict(self, token_id: str, successor: Principal | None = None) -> None:
        """The token was revoked, replaced by `successor` (a refresh) or its role changed:
        forget it, and tell who asked."""
        self._entries.pop(token_id, None)
        for listener in self._on_evict:
            listener(token_id, successor)

    def on_evict(self, listener: Callable[[str, Principal | None], None]) -> None:
        self._on_evict.append(listener)


class AuthService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, token_ttl_s: int,
                 cache: TokenCache | None = None, verifier: SecretVerifier | None = None,
                 throttle: LoginThrottle | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._ttl_s = token_ttl_s
        self.cache = cache or TokenCache()
        self.verifier = verifier or SecretVerifier()
        self.throttle = throttle or LoginThrottle(clock)

    # -- the token endpoint ---------------------------------------------------------------

    async def _client(self, client_id: str | None, secret: str | None, *,
                      require_secret: bool, source: str | None) -> OAuthClient:
        if not client_id:
            raise OAuthError("invalid_client", "client authentication is missing: send HTTP "
                             "Basic auth with the client id and secret", 401)
        checks_secret = require_secret or secret is not None
        attempt: Attempt | None = None
        if checks_secret:
            try:
                attempt = self.throttle.begin(f"client {client_id}", source)
            except TooManyRequests as e:
                raise OAuthError("temporarily_unavailable", e.message, 429,
                                 retry_after_s=e.retry_after_s) from None
        try:
            async with self._uow(read_only=True) as uow:
                client = await uow.clients.get(client_id)
            if client is None or client.state != "active":
                if attempt is not None:
                    attempt.end(failed=True)
                raise OAuthError("invalid_client", f"unknown OAuth client '{client_id}'", 401)
            if require_secret and client.secret_hash is None:
                raise OAuthError("invalid_client", f"client '{client.name}' is a public "
                                 "client: send code_verifier (PKCE) instead of a secret", 401)
            if attempt is not None:
                right = await self.verifier.verify(client.secret_hash, secret or "")
                attempt.end(failed=not right)
                if not right:
                    raise OAuthError("invalid_client", "client secret is wrong", 401)
        finally:
            if attempt is not None:
                attempt.end(failed=None)
        return client

    async def _issue(self, *, org_id: str, client: OAuthClient, user: User | None,
                     grant: GrantType, with_refresh: bool,
                     replacing: str | None = None) -> IssuedToken:
        now = self._clock.now_ms()
        token = new_token()
        refresh = new_token() if with_refresh else None
        record = TokenRecord(
            id=digest(token), org_id=org_id, client_id=client.id,
            user_id=None if user is None else user.id,
            role=client.role if user is None else user.role, grant_type=grant,
            created_ms=now, expires_ms=now + self._ttl_s * 1000,
            refresh_hash=None if refresh is None else digest(refresh))
        async with self._uow() as uow:
            await uow.tokens.add(record)
            await uow.commit()
        if replacing is not None:
            self.cache.evict(replacing, successor=Principal(
                org_id=org_id, role=record.role, client_id=client.id, user_id=record.user_id,
                token_id=record.id, expires_at_ms=record.expires_ms))
        return IssuedToken(access_token=token, expires_in=self._ttl_s, refresh_token=refresh)

    async def client_credentials(self, client_id: str | None, secret: str | None, *,
                                 source: str | None = None) -> IssuedToken:
        client = await self._client(client_id, secret, require_secret=True, source=source)
        if GrantType.CLIENT_CREDENTIALS not in client.grant_types:
            raise OAuthError("unauthorized_client",
                             f"client '{client.name}' may not use the client_credentials grant")
        return await self._issue(org_id=client.org_id, client=client, user=None,
                                 grant=GrantType.CLIENT_CREDENTIALS, with_refresh=False)

    async def exchange_code(self, *, client_id: str | None, secret: str | None,
                            code: str | None, redirect_uri: str | None,
                            code_verifier: str | None, source: str | None = None
                            ) -> IssuedToken:
        if not code:
            raise OAuthError("invalid_request", "code is required")
        client = await self._client(client_id, secret, require_secret=code_verifier is None,
                                    source=source)
        async with self._uow() as uow:
            stored = await uow.tokens.take_code(digest(code))
            await uow.commit()
        now = self._clock.now_ms()
        if stored is None or stored.client_id != client.id or stored.expires_ms < now:
            raise OAuthError("invalid_grant", "the authorization code is unknown, expired or "
                             "already used; start the login again")
        if stored.code_challenge is None and secret is None:
            raise OAuthError("invalid_client", "this code was issued without PKCE, so redeeming "
                             "it needs the client secret (HTTP Basic auth)", 401)
        if redirect_uri is not None and redirect_uri != stored.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization "
                             "request")
        if stored.code_challenge is not None:
            if not code_verifier:
                raise OAuthError("invalid_grant", "code_verifier is required (PKCE)")
            if not hmac.compare_digest(pkce_challenge(code_verifier), stored.code_challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match code_challenge")
        async with self._uow(read_only=True) as uow:
            user = await uow.users.get(client.org_id, stored.user_id)
        if user is None or user.state != "active":
            raise OAuthError("invalid_grant", "the user of this code no longer exists")
        return await self._issue(org_id=client.org_id, client=client, user=user,
                                 grant=GrantType.AUTHORIZATION_CODE, with_refresh=True)

    async def refresh(self, *, client_id: str | None, secret: str | None,
                      refresh_token: str | None, source: str | None = None) -> IssuedToken:
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required")
        client = await self._client(client_id, secret, require_secret=False, source=source)
        async with self._uow() as uow:
            old = await uow.tokens.by_refresh(digest(refresh_token))
            too_old = old is not None and \
                old.expires_ms + REFRESH_TTL_MS < self._clock.now_ms()
            if old is None or too_old or old.client_id != client.id or old.user_id is None:
                raise OAuthError("invalid_grant", "the refresh token is unknown or revoked")
            await uow.tokens.delete(old.id)
            user = await uow.users.get(old.org_id, old.user_id)
            await uow.commit()
        if user is None:
            self.cache.evict(old.id)
            raise OAuthError("invalid_grant", "the user of this token no longer exists")
        return await self._issue(org_id=old.org_id, client=client, user=user,
                                 grant=GrantType.AUTHORIZATION_CODE, with_refresh=True,
                                 replacing=old.id)

    # -- the browser login (GET/POST /oauth/authorize) -------------------------------------

    async def authorization_client(self, client_id: str | None, redirect_uri: str | None,
                                   response_type: str | None) -> OAuthClient:
        """Check an authorize request before showing the login page.

        Errors here are shown on the page, never redirected: the redirect URI is not trusted
        until it matches the client's list.
        """
        if not client_id:
            raise InvalidInput("client_id is required", field="client_id")
        async with self._uow(read_only=True) as uow:
            client = await uow.clients.get(client_id)
        if client is None or client.state != "active":
            raise InvalidInput(f"unknown OAuth client '{client_id}'", field="client_id")
        if not redirect_uri:
            raise InvalidInput("redirect_uri is required", field="redirect_uri")
        client.check_redirect_uri(redirect_uri)
        grant = {"token": GrantType.IMPLICIT, "code": GrantType.AUTHORIZATION_CODE}.get(
            response_type or "")
        if grant is None:
            raise InvalidInput("response_type must be 'token' (implicit grant) or 'code' "
                               "(authorization code)", field="response_type")
        if grant not in client.grant_types:
            raise InvalidInput(f"client '{client.name}' may not use response_type "
                               f"'{response_type}'", field="response_type")
        return client

    async def login(self, username: str, password: str, *,
                    source: str | None = None) -> User:
        """The active user with this email and password; raises Unauthenticated, or
        TooManyRequests while the account or the source address must wait.

        An unknown email is checked against a dummy hash, so it takes as long as a wrong
        password and the answer does not tell which it was.
        """
        email = username.strip()
        attempt = self.throttle.begin(f"user {email.lower()}", source)
        try:
            async with self._uow(read_only=True) as uow:
                user = await uow.users.by_email(email)
            right = await self.verifier.verify(
                None if user is None else user.password_hash, password)
            failed = user is None or user.state != "active" or not right
            attempt.end(failed=failed)
        finally:
            attempt.end(failed=None)
        if failed or user is None:
            raise Unauthenticated("wrong email or password")
        return user

    async def authorize(self, *, client: OAuthClient, user: User, redirect_uri: str,
                        response_type: str, state: str | None, code_challenge: str | None,
                        code_challenge_method: str | None) -> str:
        """Return the URL to redirect the browser to after a successful login."""
        if user.org_id != client.org_id:
            raise Forbidden("this user belongs to another organisation than the app")
        if response_type == "token":
            issued = await self._issue(org_id=user.org_id, client=client, user=user,
                                       grant=GrantType.IMPLICIT, with_refresh=False)
            fragment = {"access_token": issued.access_token, "token_type": "bearer",
                        "expires_in": str(issued.expires_in)}
            if state is not None:
                fragment["state"] = state
            return f"{redirect_uri}#{urlencode(fragment)}"
        if code_challenge is not None and (code_challenge_method or "plain") != "S256":
            raise InvalidInput("code_challenge_method must be S256",
                               field="code_challenge_method")
        if code_challenge is None and client.secret_hash is None:
            raise InvalidInput(f"'{client.name}' is a public client: the authorization code "
                               "grant needs PKCE (code_challenge with method S256)",
                               field="code_challenge")
        code = new_token()
        async with self._uow() as uow:
            await uow.tokens.add_code(AuthorizationCode(
                id=digest(code), client_id=client.id, user_id=user.id,
                redirect_uri=redirect_uri, expires_ms=self._clock.now_ms() + CODE_TTL_MS,
                code_challenge=code_challenge,
                code_challenge_method=None if code_challenge is None else "S256"))
            await uow.commit()
        query = {"code": code}
        if state is not None:
            query["state"] = state
        sep = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{sep}{urlencode(query)}"

    # -- bearer tokens --------------------------------------------------------------------

    async def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("No authentication bearer token specified in authorization "
                                  "header.")
        token_id = digest(token)
        now = self._clock.now_ms()
        cached = self.cache.get(token_id, now)
        if cached is not None:
            return cached
        async with self._uow(read_only=True) as uow:
            row = await uow.tokens.get(token_id)
        if row is None:
            raise Unauthenticated("Invalid login credentials: the token is unknown or revoked; "
                                  "log in again")
        if row.expires_ms <= now:
            raise Unauthenticated("the access token has expired; log in again")
        principal = Principal(org_id=row.org_id, role=row.role, client_id=row.client_id,
                              user_id=row.user_id, token_id=row.id,
                              expires_at_ms=row.expires_ms)
        self.cache.put(principal, now)
        return principal

    async def revoke(self, principal: Principal) -> None:
        async with self._uow() as uow:
            await uow.tokens.delete(principal.token_id)
            await uow.commit()
        self.cache.evict(principal.token_id)

    async def purge_expired(self) -> int:
        now = self._clock.now_ms()
        async with self._uow() as uow:
            purged = await uow.tokens.purge_expired(now, now - REFRESH_TTL_MS)
            await uow.commit()
        return purged

    async def token_info(self, principal: Principal) -> TokenInfo:
        async with self._uow(read_only=True) as uow:
            org = await uow.orgs.get(principal.org_id)
            client = await uow.clients.get(principal.client_id)
            row = await uow.tokens.get(principal.token_id)
        if org is None or client is None or row is None:
            raise NotFound("token not found")
        return TokenInfo(principal=principal, organization=org, client=client,
                         grant_type=row.grant_type)


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()


def parse_basic_auth(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        raw = base64.b64decode(header[6:].strip()).decode()
    except (ValueError, UnicodeDecodeError):
        return None, None
    client_id, _, secret = raw.partition(":")
    return client_id, secret


__all__ = ["AuthService", "IssuedToken", "OAuthError", "Role", "TokenCache", "TokenInfo"]
