"""The ACD as the other use cases see it: the few calls they make, not the whole service.

Agents accept, decline, finish and transfer conversations through `ConversationService`,
while `AcdService` decides who is offered what. `Router` is the part of the ACD the
conversation use cases call; `RoutingListener` is the part told when an agent's or a
queue's routing facts change (presence, skills, memberships). `bootstrap.py` hands the one
`AcdService` in as both, so those services depend on a small protocol, not on the ACD.
"""

from __future__ import annotations

from typing import Protocol


class Router(Protocol):
    """The ACD as the conversation use cases see it."""

    def is_routing(self, org_id: str, conversation_id: str) -> bool: ...
    async def accept(self, org_id: str, conversation_id: str, user_id: str) -> None: ...
    async def decline(self, org_id: str, conversation_id: str, user_id: str) -> None: ...
    async def finish(self, org_id: str, conversation_id: str) -> None: ...
    async def transfer(self, org_id: str, conversation_id: str, queue_id: str) -> None: ...


class RoutingListener(Protocol):
    """Told after a change to routing facts commits, so the ACD can reload them."""

    async def agent_changed(self, org_id: str, user_id: str) -> None: ...

    async def queue_changed(self, org_id: str, queue_id: str) -> None: ...
