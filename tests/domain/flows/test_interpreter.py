"""The interpreter: whole runs, stored runs, loops, and misuse by the caller."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from parley.domain.errors import Conflict, InvalidInput
from parley.domain.flows import (
    EXAMPLE_FLOW,
    MAX_ACTIONS_PER_STEP,
    MAX_TEXTS_PER_STEP,
    DataFailure,
    DataResult,
    Disconnect,
    FlowAction,
    FlowContext,
    FlowDefinition,
    FlowError,
    FlowRun,
    NoReply,
    Reply,
    RunStatus,
    Schedule,
    SendResponse,
    SetParticipantData,
    Step,
    TransferToAcd,
    WaitForInput,
    interpreter,
    parse_flow,
    resume,
    start,
)
from parley.domain.flows.actions.base import Outcome, Runtime

MONDAY_MORNING = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 10:00 in Chicago
SUNDAY = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
CHRISTMAS = datetime(2026, 12, 25, 16, 0, tzinfo=UTC)
SUPPORT = TransferToAcd("Support", 0, (), None)


def context(now: datetime = MONDAY_MORNING, text: str = "hello",
            **participant: str) -> FlowContext:
    return FlowContext(text, "+13125550100", now, participant)


def stored(step: Step) -> FlowRun:
    """The run as the service keeps it between steps: JSON in a column."""
    return FlowRun.from_dict(json.loads(json.dumps(step.run.to_dict())))


@pytest.fixture(scope="module")
def example() -> FlowDefinition:
    return parse_flow(EXAMPLE_FLOW, known_queues={"Support"})


def test_example_flow_open_ask_answer_switch_transfer(example: FlowDefinition) -> None:
    first = start(example, context())
    assert first.events == (
        SendResponse("Hi! Thanks for texting Support intake."),
        SendResponse("Reply 1 for billing, 2 for anything else"),
        WaitForInput(300),
    )
    assert first.status is RunStatus.WAITING_FOR_INPUT
    assert first.run.current == "ask"

    second = resume(example, stored(first), Reply("1"), now=MONDAY_MORNING)
    assert second.events == (SetParticipantData("topic", "billing"), SUPPORT)
    assert second.status is RunStatus.ENDED
    assert second.run.participant_data == {"topic": "billing"}
    assert second.run.variables == {"choice": "1"}
    assert (second.run.actions_run, second.run.steps) == (6, 2)


def test_example_flow_other_answer_goes_straight_to_support(example: FlowDefinition) -> None:
    first = start(example, context())
    assert resume(example, stored(first), Reply("2"), now=MONDAY_MORNING).events == (SUPPORT,)


def test_example_flow_no_answer_goes_to_support(example: FlowDefinition) -> None:
    first = start(example, context())
    step = resume(example, stored(first), NoReply(), now=MONDAY_MORNING)
    assert step.events == (SUPPORT,)
    assert step.run.variables == {}


@pytest.mark.parametrize("now", [SUNDAY, CHRISTMAS], ids=["closed-day", "holiday"])
def test_example_flow_when_closed(example: FlowDefinition, now: datetime) -> None:
    step = start(example, context(now))
    assert step.events == (
        SendResponse("Hi! Thanks for texting Support intake."),
        SendResponse("We're closed; an agent will reply when we open."),
        SUPPORT,
    )
    assert step.status is RunStatus.ENDED


def test_resume_leaves_the_given_run_unchanged(example: FlowDefinition) -> None:
    first = start(example, context())
    before = first.run.to_dict()
    resume(example, first.run, Reply("1"), now=MONDAY_MORNING)
    assert first.run.to_dict() == before


def test_a_run_round_trips_through_a_plain_dict(example: FlowDefinition) -> None:
    run = start(example, context(participant_key="x")).run
    data = run.to_dict()
    assert data == {
        "format": 1, "flowName": "Support intake", "status": "waitingForInput",
        "current": "ask", "message": {"text": "hello", "sender": "+13125550100"},
        "participantData": {"participant_key": "x"}, "variables": {},
        "actionsRun": 3, "steps": 1,
    }
    assert FlowRun.from_dict(data) == run


@pytest.mark.parametrize("damage", [
    {"format": 2}, {"status": "running"}, {"current": 3}, {"message": "hi"},
    {"participantData": {"a": 1}}, {"variables": []}, {"actionsRun": "4"},
    {"steps": True}, {"flowName": None},
])
def test_a_damaged_run_is_refused(example: FlowDefinition, damage: dict[str, object]) -> None:
    data = {**start(example, context()).run.to_dict(), **damage}
    with pytest.raises(InvalidInput, match="stored flow run is not readable"):
        FlowRun.from_dict(data)
    data = start(example, context()).run.to_dict()
    del data[next(iter(damage))]
    with pytest.raises(InvalidInput):
        FlowRun.from_dict(data)


def test_resuming_with_the_wrong_input_is_a_conflict(example: FlowDefinition) -> None:
    waiting = start(example, context()).run
    with pytest.raises(Conflict, match="the flow run is waitingForInput, so it cannot take "
                                       "DataResult"):
        resume(example, waiting, DataResult(200, {}), now=MONDAY_MORNING)
    ended = resume(example, waiting, Reply("2"), now=MONDAY_MORNING).run
    with pytest.raises(Conflict, match="the flow run is ended"):
        resume(example, ended, Reply("again"), now=MONDAY_MORNING)
    with pytest.raises(InvalidInput, match="cannot resume a flow run with str"):
        # A bare string is not one of the inputs a run takes: refused, whatever the types say.
        resume(example, waiting, "1", now=MONDAY_MORNING)  # type: ignore[arg-type]


def test_time_must_carry_its_zone(example: FlowDefinition) -> None:
    with pytest.raises(InvalidInput, match="aware datetime"):
        start(example, context(datetime(2026, 3, 2, 10, 0)))
    waiting = start(example, context()).run
    with pytest.raises(InvalidInput, match="aware datetime"):
        resume(example, waiting, Reply("1"), now=datetime(2026, 3, 2, 10, 0))


def test_a_flow_changed_while_a_run_waited_falls_back(example: FlowDefinition) -> None:
    waiting = start(example, context()).run
    changed = parse_flow(EXAMPLE_FLOW.replace("  ask:\n", "  question:\n")
                         .replace("then: ask", "then: question"))
    step = resume(changed, waiting, Reply("1"), now=MONDAY_MORNING)
    assert step.events == (FlowError("the flow changed while the run waited in 'ask'", "ask"),
                           SUPPORT)
    assert step.status is RunStatus.ENDED


LOOP = """\
name: Loop
type: inboundshortmessage
fallbackQueue: Fallback
start: a
actions:
  a:
    setParticipantData: {n: "x"}
    next: b
  b:
    decision: {if: "true", then: a, else: c}
  c:
    disconnect: {}
"""


def test_a_flow_that_loops_is_stopped_and_falls_back() -> None:
    step = start(parse_flow(LOOP), context())
    assert step.events[-2:] == (
        FlowError(f"loop limit: {MAX_ACTIONS_PER_STEP} actions ran without waiting for the "
                  "customer (next was 'a')", "b"),
        TransferToAcd("Fallback"),
    )
    assert len(step.events) == MAX_ACTIONS_PER_STEP // 2 + 2
    assert step.run.actions_run == MAX_ACTIONS_PER_STEP
    assert step.status is RunStatus.ENDED


def test_a_loop_through_a_text_stops_before_flooding_the_customer() -> None:
    flow = parse_flow(LOOP.replace('setParticipantData: {n: "x"}', 'sendResponse: {text: x}'))
    step = start(flow, context())
    assert step.events.count(SendResponse("x")) == MAX_TEXTS_PER_STEP
    assert step.events[-2:] == (
        FlowError(f"loop limit: more than {MAX_TEXTS_PER_STEP} texts without waiting for the "
                  "customer", "a"),
        TransferToAcd("Fallback"),
    )


def test_a_question_asked_forever_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpreter, "MAX_ACTIONS_PER_RUN", 9)
    flow = parse_flow("""\
name: Nag
type: inboundshortmessage
fallbackQueue: Fallback
start: ask
actions:
  ask:
    askQuestion: {text: "Yes or no?", saveAs: answer}
    next: check
  check:
    switch: {on: answer, cases: {"yes": done, "no": done}, default: ask}
  done:
    disconnect: {}
""")
    step = start(flow, context())
    replies = 0
    while step.status is RunStatus.WAITING_FOR_INPUT:
        step = resume(flow, stored(step), Reply("maybe"), now=MONDAY_MORNING)
        replies += 1
    assert replies == 5
    assert step.events == (FlowError("loop limit: the run has taken 9 actions", "ask"),
                           TransferToAcd("Fallback"))


def test_organisation_schedules_are_used_and_the_flows_own_win() -> None:
    text = """\
name: Org hours
type: inboundshortmessage
fallbackQueue: Fallback
start: check
actions:
  check:
    decision: {if: "isOpen('orgHours')", then: open, else: closed}
  open:
    disconnect: {}
  closed:
    transferToAcd: {queue: AfterHours}
"""
    flow = parse_flow(text, known_schedules={"orgHours"})
    always = Schedule.from_config("orgHours", {"timezone": "UTC",
                                               "open": {"mon-sun": "00:00-24:00"}})
    org = FlowContext("hi", "+13125550100", MONDAY_MORNING, {}, {"orgHours": always})
    assert start(flow, org).events == (Disconnect(),)
    # The schedule is looked up at run time: without it the run falls back.
    assert start(flow, context()).events == (
        FlowError("expression 'isOpen('orgHours')' failed: unknown schedule 'orgHours'",
                  "check"), TransferToAcd("Fallback"))
    own = parse_flow(text.replace("start: check", "schedules:\n  orgHours: {timezone: UTC, "
                                  "open: {sun: \"00:00-01:00\"}}\nstart: check"))
    assert start(own, org).events == (TransferToAcd("AfterHours"),)


def test_now_is_read_in_the_flow_time_zone() -> None:
    flow = parse_flow("""\
name: Clock
type: inboundshortmessage
fallbackQueue: Fallback
timezone: Asia/Kolkata
start: say
actions:
  say:
    sendResponse: {text: "{{ now.weekday }} {{ now.date }} {{ now.time }} {{ now.hour }}"}
    next: bye
  bye:
    disconnect: {}
""")
    assert start(flow, context(datetime(2026, 3, 1, 20, 0, tzinfo=UTC))).events[0] == \
        SendResponse("mon 2026-03-02 01:30 1")


DATA = """\
name: Lookup
type: inboundshortmessage
fallbackQueue: Fallback
start: lookup
actions:
  lookup:
    callData: {url: "https://crm.example.com/c", saveAs: customer, failure: sorry}
    next: hello
  hello:
    sendResponse: {text: "Hi {{ customer.name }}"}
    next: bye
  sorry:
    sendResponse: {text: "sorry"}
    next: bye
  bye:
    disconnect: {}
"""


def test_a_data_result_is_stored_with_the_run() -> None:
    flow = parse_flow(DATA)
    waiting = start(flow, context())
    assert waiting.status is RunStatus.WAITING_FOR_DATA
    with pytest.raises(Conflict):
        resume(flow, waiting.run, Reply("x"), now=MONDAY_MORNING)
    done = resume(flow, stored(waiting), DataResult(200, {"name": "Ana", "n": (1, 2)}),
                  now=MONDAY_MORNING)
    assert done.events == (SendResponse("Hi Ana"), Disconnect())
    assert done.run.variables == {"customer": {"name": "Ana", "n": [1, 2]}}


def test_an_oversized_data_result_takes_the_failure_path() -> None:
    flow = parse_flow(DATA)
    waiting = start(flow, context())
    done = resume(flow, waiting.run, DataResult(200, {"blob": "x" * 30_000}), now=MONDAY_MORNING)
    assert done.events == (SendResponse("sorry"), Disconnect())
    assert done.run.variables == {"customer": None}
    failed = resume(flow, waiting.run, DataFailure("timeout"), now=MONDAY_MORNING)
    assert failed.events == (SendResponse("sorry"), Disconnect())


@dataclass(frozen=True)
class Broken:
    def targets(self) -> tuple[str, ...]:
        return ()

    def execute(self, runtime: Runtime) -> Outcome:
        raise RuntimeError("bug")


def test_a_bug_in_an_action_still_reaches_the_fallback_queue() -> None:
    flow = FlowDefinition(name="Broken", description="", fallback_queue="Fallback",
                          timezone="UTC", start="a",
                          actions={"a": FlowAction("a", "broken", Broken())})
    assert start(flow, context()).events == (
        FlowError("internal error in broken: RuntimeError('bug')", "a"),
        TransferToAcd("Fallback"))


def test_a_start_that_names_no_action_falls_back() -> None:
    flow = FlowDefinition(name="Empty", description="", fallback_queue="Fallback",
                          timezone="UTC", start="missing", actions={})
    assert start(flow, context()).events == (FlowError("there is no action 'missing'",
                                                       "missing"), TransferToAcd("Fallback"))


def test_events_serialise_for_the_service() -> None:
    assert [e.to_dict() for e in (SendResponse("hi"), WaitForInput(30), Disconnect(),
                                  FlowError("why", "a"), SUPPORT)] == [
        {"type": "sendResponse", "text": "hi"},
        {"type": "waitForInput", "timeoutSeconds": 30},
        {"type": "disconnect"},
        {"type": "flowError", "reason": "why", "action": "a"},
        {"type": "transferToAcd", "queue": "Support", "priority": 0, "skills": [],
         "preferredAgent": None},
    ]
