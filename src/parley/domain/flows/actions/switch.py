"""switch: go to the case whose value the expression gives, else to `default`.

    route:
      switch: {on: "choice", cases: {"1": billing, "2": support}, default: support}

The value is compared as text, trimmed and ignoring case, so a customer's " Yes" matches the
case `yes` and the number 1 matches the case "1". An unset value matches no case.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.domain.flows.actions.base import ActionType, Outcome, Runtime
from parley.domain.flows.expressions import UNSET, Expression, to_text
from parley.domain.flows.source import IDENTIFIER, Fields

MAX_CASES = 100


def case_key(value: str) -> str:
    return value.strip().casefold()


@dataclass(frozen=True, slots=True)
class SwitchAction:
    on: Expression
    cases: dict[str, str]
    """Folded case value -> action id."""
    default: str

    @classmethod
    def parse(cls, config: Fields, next_id: str | None) -> SwitchAction:
        on = config.expression("on", required=True) or UNSET
        cases: dict[str, str] = {}
        table = config.mapping("cases", "cases")
        if table is None:
            config.missing("cases")
        else:
            _read_cases(table, cases)
        default = config.target("default", required=True) or ""
        return cls(on=on, cases=cases, default=default)

    def targets(self) -> tuple[str, ...]:
        return (*self.cases.values(), self.default)

    def execute(self, runtime: Runtime) -> Outcome:
        value = runtime.evaluate(self.on)
        chosen = None if value is None else self.cases.get(case_key(to_text(value)))
        return Outcome(next=chosen or self.default)


def _read_cases(table: Fields, cases: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for value in list(table.keys()):
        path = table.at(value)
        key = case_key(value)
        if not key:
            table.source.error(path, "a case value must not be empty", at_key=True)
            continue
        if key in seen:
            table.source.error(path, f"case '{value}' repeats '{seen[key]}' (cases are "
                               "compared trimmed and ignoring case)", at_key=True)
            continue
        seen[key] = value
        target = table.values[value]
        if not isinstance(target, str) or not IDENTIFIER.fullmatch(target):
            table.source.error(path, "must name the action to go to")
            continue
        table.source.targets.append((path, target))
        cases[key] = target
    if not seen:
        table.source.error(table.path, "switch needs at least one case")
    elif len(seen) > MAX_CASES:
        table.source.error(table.path, f"has {len(seen)} cases; the limit is {MAX_CASES}")


ACTION = ActionType("switch", takes_next=False, parse=SwitchAction.parse,
                    summary="go to the case matching an expression's value, else `default`")
