"""What the admin console needs of the directory: people and OAuth clients, for admins only.

The directory service creates users and clients for the command line (which trusts its
caller); this is the same, behind the organisation's permissions and within the caller's own
organisation, for the API.

Every token carries its role (`tokens.role`, read at each authentication): changing a user's
role changes it in their tokens too, so they keep working with the new role from the next
request; deleting a client deletes its tokens. Either way this node's token cache forgets
those tokens at once; other nodes' caches hold an entry at most their TTL (30 s), the same
bound as for any revoked token.
"""

from __future__ import annotations

from parley.domain.access import Permission, Principal, Role
from parley.domain.directory import GrantType, OAuthClient, User
from parley.domain.errors import Conflict, InvalidInput
from parley.services.auth import TokenCache
from parley.services.credentials import hash_secret, new_token
from parley.services.directory import DirectoryService, NewClient
from parley.services.ports import UnitOfWorkFactory

GRANTS = {"CLIENT-CREDENTIALS": GrantType.CLIENT_CREDENTIALS,
          "CODE": GrantType.AUTHORIZATION_CODE, "TOKEN": GrantType.IMPLICIT}
"""Genesys' authorizedGrantType spellings."""


def role_of(raw: object, field: str) -> Role:
    try:
        return Role(str(raw))
    except ValueError:
        raise InvalidInput(f"role '{raw}' does not exist: use admin, supervisor or agent",
                           field=field) from None


class DirectoryAdmin:
    def __init__(self, uow: UnitOfWorkFactory, directory: DirectoryService,
                 tokens: TokenCache) -> None:
        self._uow = uow
        self._directory = directory
        self._tokens = tokens

    async def create_user(self, principal: Principal, *, name: object, email: object,
                          password: object, role: object) -> User:
        principal.require(Permission.CONFIGURE)
        for value, field in ((name, "name"), (email, "email"), (password, "password")):
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"{field} is required", field=field)
        assert isinstance(name, str) and isinstance(email, str) and isinstance(password, str)
        return await self._directory.add_user(principal.org_id, name=name, email=email,
                                              role=role_of(role or "agent", "roles"),
                                              password=password)

    async def change_role(self, principal: Principal, user_id: str, *, roles: object,
                          version: object) -> User:
        """Give a user another role. Not one's own (an admin cannot lock themselves out, nor
        promote themselves from a stolen session), and never the organisation's last admin."""
        principal.require(Permission.CONFIGURE)
        if not isinstance(roles, list) or len(roles) != 1:
            raise InvalidInput("roles must name exactly one role: admin, supervisor or agent",
                               field="roles")
        role = role_of(roles[0], "roles")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidInput("version must be a whole number", field="version")
        async with self._uow() as uow:
            user = await uow.users.require(principal.org_id, user_id, entity=user_id)
            if user.id == principal.user_id:
                raise Conflict("you cannot change your own role: ask another admin",
                               field="roles")
            if version is not None and version != user.version:
                raise Conflict(f"user {user_id} is at version {user.version}, not {version}; "
                               "reload it and try again", field="version")
            if user.role is role:
                return user
            if user.role is Role.ADMIN and \
                    not set(await uow.users.admin_ids(principal.org_id)) - {user.id}:
                raise Conflict(f"{user.name} is the organisation's last admin: make another "
                               "user admin first", field="roles")
            token_ids = await uow.users.set_role(user.id, role)
            await uow.commit()
        for token_id in token_ids:
            self._tokens.evict(token_id)
        user.role = role
        user.version += 1
        return user

    async def clients(self, principal: Principal) -> list[OAuthClient]:
        principal.require(Permission.CONFIGURE)
        async with self._uow(read_only=True) as uow:
            return await uow.clients.in_org(principal.org_id)

    async def client(self, principal: Principal, client_id: str) -> OAuthClient:
        principal.require(Permission.CONFIGURE)
        async with self._uow(read_only=True) as uow:
            return await uow.clients.require(client_id, org_id=principal.org_id,
                                             entity=client_id)

    async def create_client(self, principal: Principal, *, name: object, grant: object,
                            redirect_uris: object, role: object) -> NewClient:
        principal.require(Permission.CONFIGURE)
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name is required", field="name")
        grant_type = GRANTS.get(str(grant))
        if grant_type is None:
            raise InvalidInput(f"authorizedGrantType '{grant}' is not supported: use "
                               "CLIENT-CREDENTIALS, CODE or TOKEN", field="authorizedGrantType")
        uris = redirect_uris or []
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise InvalidInput("registeredRedirectUri must be a list of URLs",
                               field="registeredRedirectUri")
        grants = [grant_type]
        if grant_type is not GrantType.CLIENT_CREDENTIALS:
            # A browser app may use either redirect flow (the JS SDK's implicit grant, PKCE).
            grants = [GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT]
        return await self._directory.add_client(
            principal.org_id, name=name, grant_types=grants,
            role=role_of(role or "agent", "roleIds"), redirect_uris=uris)

    async def rotate_secret(self, principal: Principal, client_id: str) -> NewClient:
        """A new secret for a confidential client; the old one stops working at once."""
        client = await self.client(principal, client_id)
        if client.secret_hash is None:
            raise InvalidInput(f"'{client.name}' is a public client (browser app): it has no "
                               "secret to rotate")
        secret = new_token()
        async with self._uow() as uow:
            await uow.clients.set_secret(client.id, hash_secret(secret))
            await uow.commit()
        return NewClient(client=client, secret=secret)

    async def delete_client(self, principal: Principal, client_id: str) -> None:
        """Delete a client; its tokens stop working at once. Not the one the caller's own token
        came from: that would end the caller's session (and could lock the last admin out)."""
        client = await self.client(principal, client_id)
        if client.id == principal.client_id:
            raise Conflict(f"'{client.name}' issued the token of this request: deleting it would "
                           "end your own session; delete it with a token from another client")
        async with self._uow() as uow:
            token_ids = await uow.clients.delete(client.id)
            await uow.commit()
        for token_id in token_ids:
            self._tokens.evict(token_id)
