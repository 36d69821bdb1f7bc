"""Running a flow: a pure state machine from one wait to the next.

`start` runs from the flow's start action; `resume` continues a paused run with what it
waited for. Each runs actions until one waits (askQuestion, callData) or ends the flow
(transferToAcd, disconnect), and returns the events in order with the run to store. Time and
schedules come in as arguments, so the same inputs always give the same step.

A run never raises for something the flow or the data did wrong: a failing expression, a
failed data call with no failure path, a missing action, more than MAX_ACTIONS_PER_STEP
actions or MAX_TEXTS_PER_STEP texts without a pause (a loop) - each becomes FlowError
followed by a transfer to the flow's fallback queue, so the customer still reaches a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from parley.domain.errors import Conflict, InvalidInput
from parley.domain.flows.actions.base import FlowFailure, Outcome, Resumable, Runtime
from parley.domain.flows.definition import FlowDefinition
from parley.domain.flows.events import Event, FlowError, SendResponse, TransferToAcd
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

MAX_ACTIONS_PER_STEP = 100
"""Actions one step may run without waiting for anyone; more means the flow loops."""
MAX_ACTIONS_PER_RUN = 1000
"""Actions one run may run in all; stops a question that is asked again forever."""
MAX_TEXTS_PER_STEP = 10
"""Texts one step may send: a loop through a sendResponse must not flood the customer."""


def start(flow: FlowDefinition, context: FlowContext) -> Step:
    """Run `flow` for a new inbound text, up to its first wait or its end."""
    _require_aware(context.now)
    run = FlowRun(flow_name=flow.name, status=RunStatus.ENDED, current=None,
                  message_text=context.message_text, customer_address=context.customer_address,
                  participant_data=dict(context.participant_data), steps=1)
    runtime = _runtime(flow, run, context.now, context.schedules)
    return _advance(flow, runtime, None, Outcome(next=flow.start))


def resume(flow: FlowDefinition, run: FlowRun, given: ResumeInput, *, now: datetime,
           schedules: Mapping[str, Schedule] | None = None) -> Step:
    """Continue a paused run with what it waits for (Reply/NoReply or DataResult/DataFailure).

    `run` is not changed; the returned step carries the new state. Resuming a run that waits
    for something else, or has ended, is a Conflict: the service's bookkeeping is wrong.
    """
    _require_aware(now)
    if not isinstance(given, Reply | NoReply | DataResult | DataFailure):
        raise InvalidInput(f"cannot resume a flow run with {type(given).__name__}")
    expected = (RunStatus.WAITING_FOR_INPUT if isinstance(given, Reply | NoReply)
                else RunStatus.WAITING_FOR_DATA)
    if run.status is not expected:
        raise Conflict(f"the flow run is {run.status.value}, so it cannot take "
                       f"{type(given).__name__}")
    run = run.copy()
    run.steps += 1
    runtime = _runtime(flow, run, now, schedules or {})
    action = flow.actions.get(run.current or "")
    if action is None or getattr(action.spec, "waits_for", None) is not expected:
        return _fail(flow, run, f"the flow changed while the run waited in '{run.current}'",
                     run.current, [])
    try:
        outcome = cast(Resumable, action.spec).resume(runtime, given)
    except FlowFailure as exc:
        return _fail(flow, run, exc.reason, action.id, [])
    except Exception as exc:  # a bug must not strand the customer: fall back to a queue
        return _fail(flow, run, f"internal error in {action.type}: {exc!r}", action.id, [])
    return _advance(flow, runtime, action.id, outcome)


def _advance(flow: FlowDefinition, runtime: Runtime, current: str | None,
             outcome: Outcome) -> Step:
    run = runtime.run
    events: list[Event] = []
    ran = 0
    while True:
        events.extend(outcome.events)
        if outcome.wait is not None or outcome.next is None:
            run.status = outcome.wait or RunStatus.ENDED
            run.current = current
            return Step(run, tuple(events))
        if ran >= MAX_ACTIONS_PER_STEP:
            return _fail(flow, run, f"loop limit: {MAX_ACTIONS_PER_STEP} actions ran without "
                         f"waiting for the customer (next was '{outcome.next}')",
                         current, events)
        if run.actions_run >= MAX_ACTIONS_PER_RUN:
            return _fail(flow, run, f"loop limit: the run has taken {MAX_ACTIONS_PER_RUN} "
                         "actions", current, events)
        current = outcome.next
        action = flow.actions.get(current)
        if action is None:
            return _fail(flow, run, f"there is no action '{current}'", current, events)
        ran += 1
        run.actions_run += 1
        try:
            outcome = action.spec.execute(runtime)
        except FlowFailure as exc:
            return _fail(flow, run, exc.reason, current, events)
        except Exception as exc:  # a bug must not strand the customer: fall back to a queue
            return _fail(flow, run, f"internal error in {action.type}: {exc!r}", current,
                         events)
        texts = sum(isinstance(e, SendResponse) for e in (*events, *outcome.events))
        if texts > MAX_TEXTS_PER_STEP:
            return _fail(flow, run, f"loop limit: more than {MAX_TEXTS_PER_STEP} texts "
                         "without waiting for the customer", current, events)


def _fail(flow: FlowDefinition, run: FlowRun, reason: str, action: str | None,
          events: list[Event]) -> Step:
    run.status = RunStatus.ENDED
    run.current = action
    events.extend((FlowError(reason, action), TransferToAcd(flow.fallback_queue)))
    return Step(run, tuple(events))


def _runtime(flow: FlowDefinition, run: FlowRun, now: datetime,
             schedules: Mapping[str, Schedule]) -> Runtime:
    return Runtime(flow_name=flow.name, timezone=flow.timezone, variables=flow.variables,
                   run=run, now=now, schedules={**schedules, **flow.schedules})


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("a flow needs the current time with its time zone (an aware "
                           "datetime)")
