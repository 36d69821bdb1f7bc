"""decision: go one of two ways on a true/false expression.

    hours:
      decision: {if: "isOpen('businessHours')", then: ask, else: closed}

The expression must give true or false; nothing (an unset value) counts as false. Any other
value is a flow error rather than a guess: "false" is a non-empty text, and Python's idea
that it is true would route a customer the wrong way without a trace. Compare explicitly,
e.g. `participant.vip == 'true'`, or use isSet().
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.domain.flows.actions.base import ActionType, FlowFailure, Outcome, Runtime
from parley.domain.flows.expressions import UNSET, Expression, to_text
from parley.domain.flows.source import Fields


@dataclass(frozen=True, slots=True)
class DecisionAction:
    condition: Expression
    then: str
    otherwise: str

    @classmethod
    def parse(cls, config: Fields, next_id: str | None) -> DecisionAction:
        return cls(condition=config.expression("if", required=True) or UNSET,
                   then=config.target("then", required=True) or "",
                   otherwise=config.target("else", required=True) or "")

    def targets(self) -> tuple[str, ...]:
        return (self.then, self.otherwise)

    def execute(self, runtime: Runtime) -> Outcome:
        value = runtime.evaluate(self.condition)
        if value is None:
            value = False
        if not isinstance(value, bool):
            raise FlowFailure(f"decision '{self.condition.source}' gave "
                              f"'{to_text(value)[:40]}', not true or false")
        return Outcome(next=self.then if value else self.otherwise)


ACTION = ActionType("decision", takes_next=False, parse=DecisionAction.parse,
                    summary="go to `then` or `else` on a true/false expression")
