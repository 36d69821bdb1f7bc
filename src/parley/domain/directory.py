"""Organisations, users and OAuth clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from parley.domain.access import Role
from parley.domain.errors import InvalidInput


@dataclass(slots=True)
class Organization:
    id: str
    name: str
    created_ms: int


@dataclass(slots=True)
class User:
    id: str
    org_id: str
    name: str
    email: str
    role: Role
    password_hash: str
    state: str = "active"
    version: int = 1
    created_ms: int = 0


class GrantType(StrEnum):
    CLIENT_CREDENTIALS = "client_credentials"
    AUTHORIZATION_CODE = "authorization_code"
    IMPLICIT = "implicit"

    @property
    def genesys_name(self) -> str:
        """The OrgOAuthClient.authorizedGrantType spelling."""
        return {"client_credentials": "CLIENT-CREDENTIALS", "authorization_code": "CODE",
                "implicit": "TOKEN"}[self.value]


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


@dataclass(slots=True)
class OAuthClient:
    id: str
    org_id: str
    name: str
    grant_types: frozenset[GrantType]
    role: Role
    secret_hash: str | None = None
    redirect_uris: list[str] = field(default_factory=list)
    allow_loopback_redirects: bool = False
    """RFC 8252 §7.3: any port and path on a loopback http host is a valid redirect."""
    created_ms: int = 0
    state: str = "active"

    def check_redirect_uri(self, uri: str) -> str:
        if uri in self.redirect_uris:
            return uri
        if self.allow_loopback_redirects and is_loopback_http(uri):
            return uri
        raise InvalidInput(
            f"redirect_uri '{uri}' is not registered for OAuth client '{self.name}'",
            field="redirect_uri")

    def allows_origin(self, origin: str) -> bool:
        """CORS: browser apps may call the API from the origins of their redirect URIs."""
        if self.allow_loopback_redirects and is_loopback_http(origin):
            return True
        return any(origin_of(uri) == origin for uri in self.redirect_uris)


def origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def is_loopback_http(uri: str) -> bool:
    if "\\" in uri:
        # Browsers read "\\" as "/" in http URLs: "http://evil.example\\@127.0.0.1/" goes to
        # evil.example, though urlsplit sees the host 127.0.0.1.
        return False
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme == "http" and host is not None and (
        host in LOOPBACK_HOSTS or f"[{host}]" in LOOPBACK_HOSTS)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An issued access token as stored: only its SHA-256 (`id`), never the token itself."""

    id: str
    org_id: str
    client_id: str
    user_id: str | None
    role: Role
    grant_type: GrantType
    created_ms: int
    expires_ms: int
    refresh_hash: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    id: str
    client_id: str
    user_id: str
    redirect_uri: str
    expires_ms: int
    code_challenge: str | None = None
    code_challenge_method: str | None = None
