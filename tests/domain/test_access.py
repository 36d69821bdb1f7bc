"""Roles and permissions: what a principal may do within its organisation."""

from __future__ import annotations

import pytest

from parley.domain.access import Permission, Principal, Role
from parley.domain.errors import Forbidden

P = Permission


def principal(role: Role, user_id: str | None = "user-1") -> Principal:
    return Principal(org_id="org-1", role=role, client_id="client-1", user_id=user_id,
                     token_id="token-1", expires_at_ms=2**62)


@pytest.mark.parametrize(("role", "permission", "allowed"), [
    pytest.param(Role.ADMIN, P.CONFIGURE, True, id="admin-configures"),
    pytest.param(Role.ADMIN, P.SEND_AGENTLESS, True, id="admin-sends-agentless"),
    pytest.param(Role.SUPERVISOR, P.CONFIGURE, False, id="supervisor-cannot-configure"),
    pytest.param(Role.SUPERVISOR, P.VIEW_ALL_CONVERSATIONS, True, id="supervisor-sees-all"),
    pytest.param(Role.SUPERVISOR, P.SEND_AGENTLESS, True, id="supervisor-sends-agentless"),
    pytest.param(Role.AGENT, P.HANDLE_CONVERSATIONS, True, id="agent-handles"),
    pytest.param(Role.AGENT, P.VIEW_CONFIGURATION, True, id="agent-views-configuration"),
    pytest.param(Role.AGENT, P.VIEW_ALL_CONVERSATIONS, False, id="agent-cannot-see-all"),
    pytest.param(Role.AGENT, P.SEND_AGENTLESS, False, id="agent-cannot-send-agentless"),
    pytest.param(Role.AGENT, P.CONFIGURE, False, id="agent-cannot-configure"),
])
def test_role_permissions(role: Role, permission: Permission, allowed: bool) -> None:
    p = principal(role)
    assert p.can(permission) is allowed
    if allowed:
        p.require(permission)
    else:
        with pytest.raises(Forbidden) as caught:
            p.require(permission)
        assert caught.value.message == (
            f"role '{role.value}' lacks the permission '{permission.value}'")
        assert caught.value.params == {"permission": permission.value}


def test_client_without_user_is_named_in_the_refusal() -> None:
    with pytest.raises(Forbidden) as caught:
        principal(Role.AGENT, user_id=None).require(P.CONFIGURE)
    assert caught.value.message == "this OAuth client lacks the permission 'configure'"


def test_require_user() -> None:
    assert principal(Role.AGENT).require_user("sending") == "user-1"
    with pytest.raises(Forbidden) as caught:
        principal(Role.ADMIN, user_id=None).require_user("sending on a communication")
    assert caught.value.message.startswith("sending on a communication needs a user")
    assert "/api/v2/conversations/messages/agentless" in caught.value.message
