"""What the admin console needs of the directory: people and OAuth clients, for admins only.

The directory service creates users and clients for the command line (which trusts its
caller); this is the same, behind the organisation's permissions and within the caller's own
organisation, for the API.
"""

from __future__ import annotations

from parley.domain.access import Permission, Principal, Role
from parley.domain.directory import GrantType, OAuthClient, User
from parley.domain.errors import InvalidInput, NotFound
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
    def __init__(self, uow: UnitOfWorkFactory, directory: DirectoryService) -> None:
        self._uow = uow
        self._directory = directory

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

    async def clients(self, principal: Principal) -> list[OAuthClient]:
        principal.require(Permission.CONFIGURE)
        async with self._uow(read_only=True) as uow:
            return await uow.clients.in_org(principal.org_id)

    async def client(self, principal: Principal, client_id: str) -> OAuthClient:
        principal.require(Permission.CONFIGURE)
        async with self._uow(read_only=True) as uow:
            client = await uow.clients.get(client_id)
        if client is None or client.org_id != principal.org_id:
            raise NotFound(f"OAuth client {client_id} not found", entity=client_id)
        return client

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
