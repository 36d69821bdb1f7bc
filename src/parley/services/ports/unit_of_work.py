"""The unit of work: one transaction, and the repositories that read and write in it.

Each use case opens one (`async with uow() as u: ...; await u.commit()`), so what it changes
is stored together or not at all; leaving without `commit()` rolls back. The factory is the
one thing a service is given to reach the store (cosmicpython's
`service_layer/unit_of_work.py`); `store/uow.py` implements it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from parley.services.ports.repositories import (
    AcdRepo,
    AgentRepo,
    CarrierConnectionRepo,
    ClientRepo,
    ConversationRepo,
    FlowRepo,
    MessageRepo,
    NumberRepo,
    OptOutRepo,
    OrganizationRepo,
    QueueRepo,
    SkillRepo,
    TokenRepo,
    UserRepo,
    WrapupCodeRepo,
)


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls it back."""

    @property
    def orgs(self) -> OrganizationRepo: ...
    @property
    def users(self) -> UserRepo: ...
    @property
    def clients(self) -> ClientRepo: ...
    @property
    def tokens(self) -> TokenRepo: ...
    @property
    def numbers(self) -> NumberRepo: ...
    @property
    def queues(self) -> QueueRepo: ...
    @property
    def conversations(self) -> ConversationRepo: ...
    @property
    def messages(self) -> MessageRepo: ...

    @property
    def agents(self) -> AgentRepo: ...

    @property
    def skills(self) -> SkillRepo: ...

    @property
    def wrapup_codes(self) -> WrapupCodeRepo: ...

    @property
    def acd(self) -> AcdRepo: ...

    @property
    def flows(self) -> FlowRepo: ...

    @property
    def opt_outs(self) -> OptOutRepo: ...

    @property
    def carriers(self) -> CarrierConnectionRepo: ...

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None: ...
    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[..., UnitOfWork]
"""`uow()` for a write transaction, `uow(read_only=True)` for a read view."""
