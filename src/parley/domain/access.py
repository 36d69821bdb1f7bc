"""Who may do what: roles, permissions and the principal a request acts as.

Every record belongs to one organisation; a principal acts only within its own. Agents see
only conversations they take part in; supervisors see all of their organisation's; admins
also configure it. A client-credentials OAuth client carries one of these roles but no user.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from parley.domain.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


class Permission(StrEnum):
    CONFIGURE = "configure"  # numbers, queues, members, clients
    VIEW_CONFIGURATION = "view-configuration"
    VIEW_ALL_CONVERSATIONS = "view-all-conversations"
    HANDLE_CONVERSATIONS = "handle-conversations"  # be the agent on a conversation
    SEND_AGENTLESS = "send-agentless"
    VIEW_USERS = "view-users"
    MANAGE_AGENTS = "manage-agents"  # others' presence, routing status


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: frozenset({
        Permission.VIEW_CONFIGURATION, Permission.VIEW_ALL_CONVERSATIONS,
        Permission.HANDLE_CONVERSATIONS, Permission.VIEW_USERS, Permission.SEND_AGENTLESS,
        Permission.MANAGE_AGENTS,
    }),
    Role.AGENT: frozenset({
        Permission.VIEW_CONFIGURATION, Permission.HANDLE_CONVERSATIONS, Permission.VIEW_USERS,
    }),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The identity a request acts as, resolved from its bearer token."""

    org_id: str
    role: Role
    client_id: str
    user_id: str | None
    token_id: str
    expires_at_ms: int

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            who = "this OAuth client" if self.user_id is None else f"role '{self.role.value}'"
            raise Forbidden(f"{who} lacks the permission '{permission.value}'",
                            permission=permission.value)

    def require_user(self, purpose: str) -> str:
        """The user id, for actions only a person can take (being an agent)."""
        if self.user_id is None:
            raise Forbidden(
                f"{purpose} needs a user: this token came from the client-credentials grant and "
                "has no user. Log in as the agent (authorization code, PKCE or implicit grant) "
                "or use POST /api/v2/conversations/messages/agentless")
        return self.user_id
