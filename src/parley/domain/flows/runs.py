"""A flow run's state, what starts and resumes it, and what each step returns.

A run lives across several customer texts (askQuestion) and HTTP calls (callData), possibly
on different nodes, so its whole state is a plain dict the service stores with the
conversation: which action it waits in, its saved values, the participant data so far and
its counters. Nothing else is needed to resume it but the flow definition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from parley.domain.errors import InvalidInput
from parley.domain.flows.events import Event
from parley.domain.flows.schedules import Schedule

T = TypeVar("T")

RUN_FORMAT = 1
MAX_SAVED_CHARACTERS = 20_000
"""Largest value (as JSON) a run keeps from one answer or data call; runs are stored often."""


class RunStatus(StrEnum):
    WAITING_FOR_INPUT = "waitingForInput"
    """Paused in askQuestion: resume with Reply or NoReply."""
    WAITING_FOR_DATA = "waitingForData"
    """Paused in callData: resume with DataResult or DataFailure."""
    ENDED = "ended"
    """Transferred, disconnected, or failed over to the fallback queue."""


@dataclass(frozen=True, slots=True)
class FlowContext:
    """What the service knows when an inbound text starts a flow."""

    message_text: str
    customer_address: str
    now: datetime
    participant_data: Mapping[str, str] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    """The organisation's schedules; the flow's own schedules win on a name clash."""


@dataclass(frozen=True, slots=True)
class Reply:
    """The customer's next text, answering an askQuestion."""

    text: str


@dataclass(frozen=True, slots=True)
class NoReply:
    """The askQuestion's timeoutSeconds passed without an answer."""


@dataclass(frozen=True, slots=True)
class DataResult:
    """The callData request got an HTTP response; 2xx succeeds, anything else fails.

    `body` is the decoded JSON (or the text, when the response was not JSON).
    """

    status: int
    body: object = None


@dataclass(frozen=True, slots=True)
class DataFailure:
    """The callData request could not be made or timed out."""

    reason: str


ResumeInput = Reply | NoReply | DataResult | DataFailure


@dataclass(slots=True)
class FlowRun:
    flow_name: str
    status: RunStatus
    current: str | None
    """The action the run waits in (or ended in)."""
    message_text: str
    customer_address: str
    participant_data: dict[str, str] = field(default_factory=dict)
    variables: dict[str, object] = field(default_factory=dict)
    """Values saved by askQuestion / callData `saveAs`, JSON-compatible."""
    actions_run: int = 0
    steps: int = 0

    @property
    def ended(self) -> bool:
        return self.status is RunStatus.ENDED

    def copy(self) -> FlowRun:
        """An independent copy: resume() never changes the run it was given."""
        return replace(self, participant_data=dict(self.participant_data),
                       variables=deepcopy(self.variables))

    def to_dict(self) -> dict[str, object]:
        return {
            "format": RUN_FORMAT, "flowName": self.flow_name, "status": self.status.value,
            "current": self.current,
            "message": {"text": self.message_text, "sender": self.customer_address},
            "participantData": dict(self.participant_data),
            "variables": json.loads(json.dumps(self.variables)),
            "actionsRun": self.actions_run, "steps": self.steps,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FlowRun:
        """Rebuild a stored run; a damaged record is refused rather than half-read."""
        try:
            if data.get("format") != RUN_FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}")
            message = _get(data, "message", dict)
            pdata = _get(data, "participantData", dict)
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in pdata.items()):
                raise ValueError("participantData must map text to text")
            current = data["current"]
            if current is not None and not isinstance(current, str):
                raise ValueError("bad current")
            return cls(flow_name=_get(data, "flowName", str),
                       status=RunStatus(_get(data, "status", str)), current=current,
                       message_text=_get(message, "text", str),
                       customer_address=_get(message, "sender", str),
                       participant_data=dict(pdata),
                       variables=dict(_get(data, "variables", dict)),
                       actions_run=_get(data, "actionsRun", int),
                       steps=_get(data, "steps", int))
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidInput(f"stored flow run is not readable: {exc}") from None


def _get(data: Mapping[str, object], key: str, kind: type[T]) -> T:
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"bad {key}")
    return value


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of start() or resume(): the events to carry out, in order, and the run to
    store (its status says what the run waits for next)."""

    run: FlowRun
    events: tuple[Event, ...]

    @property
    def status(self) -> RunStatus:
        return self.run.status
