"""disconnect: end the conversation without an agent; the flow ends here.

    bye:
      disconnect: {}
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.domain.flows.actions.base import ActionType, Outcome, Runtime
from parley.domain.flows.events import Disconnect
from parley.domain.flows.source import Fields


@dataclass(frozen=True, slots=True)
class DisconnectAction:
    @classmethod
    def parse(cls, config: Fields, next_id: str | None) -> DisconnectAction:
        return cls()

    def targets(self) -> tuple[str, ...]:
        return ()

    def execute(self, runtime: Runtime) -> Outcome:
        return Outcome((Disconnect(),))


ACTION = ActionType("disconnect", takes_next=False, parse=DisconnectAction.parse,
                    summary="end the conversation (ends the flow)")
