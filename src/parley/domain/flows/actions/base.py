"""The contract between the interpreter and an action type.

Each action type is one module: a frozen dataclass holding its validated configuration, a
`parse` that reads it from the flow's YAML (recording problems, never raising), `targets`
naming the actions it can lead to, and `execute` (plus `resume` for actions that wait). An
action computes everything before it changes the run, so a failure half-way leaves the run
as it was and the flow's error path takes over cleanly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from parley.domain.flows.events import Event
from parley.domain.flows.expressions import (
    EvaluationError,
    Evaluator,
    Expression,
    Template,
    Value,
)
from parley.domain.flows.runs import FlowRun, ResumeInput, RunStatus
from parley.domain.flows.schedules import WEEKDAYS, Schedule
from parley.domain.flows.source import Fields


class FlowFailure(Exception):
    """The run cannot go on; the interpreter emits FlowError and transfers to the fallback
    queue."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did: its events, then go to `next`, or wait, or (neither) end."""

    events: tuple[Event, ...] = ()
    next: str | None = None
    wait: RunStatus | None = None


class ActionSpec(Protocol):
    def targets(self) -> tuple[str, ...]:
        """Every action this one can go to (for reachability)."""
        ...

    def execute(self, runtime: Runtime) -> Outcome: ...


class Resumable(ActionSpec, Protocol):
    waits_for: RunStatus

    def resume(self, runtime: Runtime, given: ResumeInput) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class ActionType:
    """A registry entry: the YAML key, whether the action takes `next`, and its parser."""

    key: str
    takes_next: bool
    parse: Callable[[Fields, str | None], ActionSpec]
    summary: str


class Runtime:
    """What an action sees while it runs: expression values, and the run it may change.

    The evaluator is built on first use: many steps (a reply routed by a literal switch, a
    plain text) evaluate nothing, and the flow interpreter is on every inbound text's path.
    """

    def __init__(self, *, flow_name: str, timezone: str, variables: frozenset[str],
                 run: FlowRun, now: datetime, schedules: Mapping[str, Schedule]) -> None:
        self.run = run
        self.now = now
        self._flow_name = flow_name
        self._timezone = timezone
        self._variables = variables
        self._schedules = schedules
        self._evaluator: Evaluator | None = None

    def _names(self) -> dict[str, Value]:
        run = self.run
        local = self.now.astimezone(ZoneInfo(self._timezone))
        names: dict[str, Value] = {name: run.variables.get(name) for name in self._variables}
        names.update({
            "message": {"text": run.message_text, "sender": run.customer_address},
            "participant": dict(run.participant_data),
            "flow": {"name": self._flow_name},
            "now": {"hour": local.hour, "minute": local.minute,
                    "weekday": WEEKDAYS[local.weekday()], "date": local.date().isoformat(),
                    "time": f"{local.hour:02d}:{local.minute:02d}"},
        })
        return names

    @property
    def _engine(self) -> Evaluator:
        if self._evaluator is None:
            self._evaluator = Evaluator(self._names(), self._is_open)
        return self._evaluator

    def _is_open(self, name: str) -> bool:
        schedule = self._schedules.get(name)
        if schedule is None:
            raise EvaluationError(f"unknown schedule '{name}'")
        return schedule.is_open(self.now)

    def evaluate(self, expr: Expression) -> Value:
        try:
            return self._engine.evaluate(expr)
        except EvaluationError as exc:
            raise FlowFailure(f"expression '{expr.source}' failed: {exc}") from None

    def render(self, template: Template, escape: Callable[[str], str] | None = None) -> str:
        if not template.expressions:
            return template.source
        try:
            return self._engine.render(template, escape)
        except EvaluationError as exc:
            raise FlowFailure(f"text '{_short(template.source)}' failed: {exc}") from None

    def save(self, name: str, value: object) -> None:
        """Keep a saved value (askQuestion / callData `saveAs`) for later expressions."""
        self.run.variables[name] = value
        if self._evaluator is not None:
            self._evaluator.set_name(name, value)

    def set_participant_data(self, key: str, value: str) -> None:
        self.run.participant_data[key] = value
        if self._evaluator is not None:
            self._evaluator.set_name("participant", dict(self.run.participant_data))


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
