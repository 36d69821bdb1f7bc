"""Inbound message flows (Genesys Architect `inboundshortmessage`): language and interpreter.

A flow is YAML (see definition.py for the format, actions/ for each action type). The
service layer uses:

- `parse_flow(text, known_queues=..., known_schedules=..., data_hosts=...) -> FlowDefinition`,
  raising FlowValidationError with every problem (line, column, field path, message);
- `DataHostRules`: which hosts data actions may call (checked on publish and on connect);
- `start(flow, FlowContext(...)) -> Step` when a text starts a conversation, and
  `resume(flow, run, Reply | NoReply | DataResult | DataFailure, now=...) -> Step` when what
  the run waits for arrives;
- `Step.events`, carried out in order, and `Step.run.to_dict()` / `FlowRun.from_dict()` to
  store the run with the conversation between steps.

Nothing here performs I/O: the service sends texts, makes HTTP calls, keeps timers.
"""

from __future__ import annotations

from parley.domain.flows.data_hosts import DataHostRules
from parley.domain.flows.definition import FLOW_TYPE, FlowAction, FlowDefinition, parse_flow
from parley.domain.flows.events import (
    CallData,
    Disconnect,
    Event,
    FlowError,
    SendResponse,
    SetParticipantData,
    TransferToAcd,
    WaitForInput,
)
from parley.domain.flows.examples import EXAMPLE_FLOW
from parley.domain.flows.interpreter import (
    MAX_ACTIONS_PER_RUN,
    MAX_ACTIONS_PER_STEP,
    MAX_TEXTS_PER_STEP,
    resume,
    start,
)
from parley.domain.flows.runs import (
    DataFailure,
    DataResult,
    FlowContext,
    FlowRun,
    NoReply,
    Reply,
    ResumeInput,
    RunStatus,
    Step,
)
from parley.domain.flows.schedules import Schedule
from parley.domain.flows.source import FlowValidationError, Problem, Severity

__all__ = [
    "EXAMPLE_FLOW", "FLOW_TYPE", "MAX_ACTIONS_PER_RUN", "MAX_ACTIONS_PER_STEP",
    "MAX_TEXTS_PER_STEP", "CallData", "DataFailure", "DataHostRules", "DataResult",
    "Disconnect", "Event", "FlowAction", "FlowContext",
    "FlowDefinition", "FlowError", "FlowRun", "FlowValidationError", "NoReply", "Problem",
    "Reply", "ResumeInput", "RunStatus", "Schedule", "SendResponse", "SetParticipantData",
    "Severity", "Step", "TransferToAcd", "WaitForInput", "parse_flow", "resume", "start",
]
