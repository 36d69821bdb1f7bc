"""Reading a flow: YAML problems and flow problems come back together, each with its line."""

from __future__ import annotations

from typing import Any

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.flows import (
    EXAMPLE_FLOW,
    FlowValidationError,
    Problem,
    Severity,
    parse_flow,
)

HEADER = """\
name: Test
type: inboundshortmessage
fallbackQueue: Support
start: greet
"""


def problems(text: str, **kwargs: Any) -> list[tuple[int | None, int | None, str, str]]:
    with pytest.raises(FlowValidationError) as caught:
        parse_flow(text, **kwargs)
    return [(p.line, p.column, p.path, p.message) for p in caught.value.problems]


def test_the_example_flow_is_valid_with_its_queue() -> None:
    flow = parse_flow(EXAMPLE_FLOW, known_queues={"Support"})
    assert flow.name == "Support intake"
    assert flow.start == "greet"
    assert flow.fallback_queue == "Support"
    assert flow.timezone == "America/Chicago"
    assert flow.variables == frozenset({"choice"})
    assert flow.queues == frozenset({"Support"})
    assert flow.warnings == ()
    assert [a.type for a in flow.actions.values()] == [
        "sendResponse", "decision", "sendResponse", "askQuestion", "switch",
        "setParticipantData", "transferToAcd"]
    assert flow.actions["ask"].line == 20


def test_invalid_yaml_reports_the_parsers_line() -> None:
    text = HEADER + "actions:\n  greet:\n    sendResponse: {text: \"unclosed}\n"
    [(line, column, path, message)] = problems(text)
    assert path == ""
    assert message.startswith("invalid YAML: ")
    assert line == 8 and column is not None


def test_bad_indentation_is_invalid_yaml() -> None:
    text = HEADER + "actions:\n  greet:\n    disconnect: {}\n   next: x\n"
    [(line, _, _, message)] = problems(text)
    assert message.startswith("invalid YAML")
    assert line == 8


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("", "the flow is empty", id="empty"),
    pytest.param("# only a comment\n", "the flow is empty", id="comment-only"),
    pytest.param("- a\n- b\n", "a flow must be a mapping of fields, not a list", id="list"),
    pytest.param("just text\n", "a flow must be a mapping of fields, not text", id="scalar"),
])
def test_a_flow_must_be_a_mapping(text: str, message: str) -> None:
    assert message in [p[3] for p in problems(text)]


def test_anchors_and_aliases_are_refused() -> None:
    text = HEADER + "x: &big [1, 2]\ny: [*big, *big]\nactions: {greet: {disconnect: {}}}\n"
    assert problems(text) == [(5, 4, "", "anchors and aliases (& and *) are not supported")]


@pytest.mark.parametrize("text", ["[" * 5000, "{a: " * 3000, "- " * 3000 + "x"],
                         ids=["flow-lists", "flow-mappings", "block-lists"])
def test_deep_nesting_is_refused_before_it_exhausts_the_stack(text: str) -> None:
    [(line, _, path, message)] = problems(text)
    assert (line, path) == (1, "")
    assert message in ("the flow is nested more than 20 levels deep",
                       "invalid YAML: while increasing flow level exceeded maximum nesting "
                       "depth")  # libyaml's own limit may come first


def test_python_tags_are_refused() -> None:
    text = HEADER + "actions:\n  greet:\n    disconnect: !!python/object:os.system {}\n"
    assert (7, 17, "actions.greet.disconnect",
            "YAML tag tag:yaml.org,2002:python/object:os.system is not supported") \
        in problems(text)


def test_an_oversized_flow_is_refused_before_parsing() -> None:
    text = HEADER + "description: " + "x" * 200_001 + "\n"
    [(_, _, _, message)] = problems(text)
    assert "the limit is 200000" in message


def test_duplicate_keys_are_refused_where_the_second_is() -> None:
    text = HEADER + ("actions:\n  greet:\n    disconnect: {}\n"
                     "  greet:\n    sendResponse: {text: hi}\n    next: greet\n")
    assert problems(text) == [(8, 3, "actions.greet", "'greet' is given twice")]


def test_top_level_fields_are_checked() -> None:
    text = ("name: Test\ntype: inboundcall\nfallback_queue: Support\nstart: greet\n"
            "actions: {greet: {disconnect: {}}}\n")
    assert problems(text) == [
        (1, 1, "", "a flow needs 'fallbackQueue'"),
        (2, 7, "type", "'inboundcall' flows are not supported; Parley runs "
                       "inboundshortmessage (inbound message) flows"),
        (3, 1, "fallback_queue", "unknown field 'fallback_queue' in a flow; did you mean "
                                 "'fallbackQueue'? (fields: name, description, type, "
                                 "fallbackQueue, timezone, schedules, start, actions)"),
    ]


def test_name_start_and_actions_are_required() -> None:
    assert problems("type: inboundshortmessage\nfallbackQueue: Support\n") == [
        (1, 1, "", "a flow needs 'name'"),
        (1, 1, "", "a flow needs 'start'"),
        (1, 1, "", "a flow needs 'actions'"),
    ]


def test_start_must_name_an_action() -> None:
    text = HEADER.replace("start: greet", "start: greeting") + \
        "actions:\n  greet:\n    disconnect: {}\n"
    assert problems(text) == [(4, 8, "start", "there is no action 'greeting'; did you mean "
                                              "'greet'?")]


def test_a_target_naming_a_broken_action_is_not_also_reported() -> None:
    text = HEADER + "actions:\n  greet:\n    sendResponce: {text: hi}\n    next: greet\n"
    assert problems(text) == [(7, 5, "actions.greet.sendResponce",
                               "unknown action type 'sendResponce'; did you mean "
                               "'sendResponse'? (types: sendResponse, decision, switch, "
                               "setParticipantData, callData, askQuestion, transferToAcd, "
                               "disconnect)")]


def test_action_names_are_checked() -> None:
    text = HEADER + "actions:\n  greet:\n    disconnect: {}\n  2nd step:\n    disconnect: {}\n"
    assert problems(text) == [(8, 3, "actions.2nd step", "'2nd step' is not a valid action "
                               "name: use letters, digits, _ and -, starting with a letter")]


def test_unreachable_actions_are_warnings_not_errors() -> None:
    text = HEADER + ("actions:\n  greet:\n    disconnect: {}\n"
                     "  old:\n    sendResponse: {text: hi}\n    next: older\n"
                     "  older:\n    disconnect: {}\n")
    flow = parse_flow(text)
    assert [(w.line, w.path, w.message, w.severity) for w in flow.warnings] == [
        (8, "actions.old", "action 'old' is never reached from start 'greet'",
         Severity.WARNING),
        (11, "actions.older", "action 'older' is never reached from start 'greet'",
         Severity.WARNING),
    ]


def test_warnings_travel_with_the_errors() -> None:
    text = HEADER + ("actions:\n  greet:\n    sendResponse: {}\n    next: greet\n"
                     "  old:\n    disconnect: {}\n")
    with pytest.raises(FlowValidationError) as caught:
        parse_flow(text)
    assert [w.path for w in caught.value.warnings] == ["actions.old"]


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = """\
name: Many problems
type: inboundshortmessage
fallbackQueue: Nowhere
schedules:
  hours:
    timezone: Mars/Olympus
    open: {mon-fry: "09:00-17:00", sat: "18:00-10:00"}
    holidays: ["2026-13-01"]
start: greet
actions:
  greet:
    sendResponse: {text: "Hi {{ participant.name"}
    next: ask
  ask:
    askQuestion: {text: "Pick", saveAs: 1choice, timeoutSeconds: many}
    next: rout
  route:
    decision: {if: "isOpen('hourz') and choice == '1'", then: ask}
    next: ask
  orphan:
    transferToAcd: {queue: Support, priorty: 2}
"""
    with pytest.raises(FlowValidationError) as caught:
        parse_flow(text, known_queues={"Support"})
    found = caught.value.problems
    assert [(p.line, p.path) for p in found] == [
        (3, "fallbackQueue"),
        (6, "schedules.hours.timezone"),
        (7, "schedules.hours.open.mon-fry"),
        (7, "schedules.hours.open.sat"),
        (8, "schedules.hours.holidays[0]"),
        (12, "actions.greet.sendResponse.text"),
        (15, "actions.ask.askQuestion.saveAs"),
        (15, "actions.ask.askQuestion.timeoutSeconds"),
        (16, "actions.ask.next"),
        (18, "actions.route.decision"),
        (18, "actions.route.decision.if"),
        (18, "actions.route.decision.if"),
        (19, "actions.route.next"),
        (21, "actions.orphan.transferToAcd.priorty"),
    ]
    messages = [p.message for p in found]
    assert "unknown schedule 'hourz' in isOpen() (schedules: hours)" in messages
    assert any(m.startswith("unknown name 'choice'") for m in messages)
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert error.field == "fallbackQueue"
    assert str(error) == ("the flow is not valid: line 3, column 16: fallbackQueue: there is "
                          "no queue named 'Nowhere' (and 13 more)")


def test_problems_serialise_for_the_api() -> None:
    problem = Problem("actions.a.next", "there is no action 'b'", 4, 11)
    assert problem.to_dict() == {"path": "actions.a.next", "message": "there is no action 'b'",
                                 "line": 4, "column": 11, "severity": "error"}
    assert str(problem) == "line 4, column 11: actions.a.next: there is no action 'b'"
    assert str(Problem("", "the flow is empty")) == "flow: the flow is empty"


def test_queue_names_may_be_checked_with_a_lookup() -> None:
    asked: list[str] = []

    def exists(name: str) -> bool:
        asked.append(name)
        return name == "Support"

    parse_flow(EXAMPLE_FLOW, known_queues=exists)
    assert set(asked) == {"Support"}
    with pytest.raises(FlowValidationError):
        parse_flow(EXAMPLE_FLOW, known_queues=lambda name: False)


def test_organisation_schedules_may_be_named_in_is_open() -> None:
    text = HEADER + ("actions:\n  greet:\n    decision: {if: \"isOpen('orgHours')\", "
                     "then: bye, else: bye}\n  bye:\n    disconnect: {}\n")
    assert problems(text)[0][3] == "unknown schedule 'orgHours' in isOpen() (schedules: none " \
                                   "defined)"
    assert parse_flow(text, known_schedules={"orgHours"}).actions["greet"].type == "decision"


@pytest.mark.parametrize(("zone_lines", "expected"), [
    pytest.param("", "UTC", id="default-utc"),
    pytest.param("timezone: Europe/London\n", "Europe/London", id="explicit"),
    pytest.param("schedules:\n  a: {timezone: Asia/Tokyo, open: {mon: \"09:00-10:00\"}}\n"
                 "  b: {timezone: Europe/Paris, open: {mon: \"09:00-10:00\"}}\n",
                 "Asia/Tokyo", id="first-schedule"),
])
def test_the_flow_time_zone(zone_lines: str, expected: str) -> None:
    text = HEADER + zone_lines + "actions:\n  greet:\n    disconnect: {}\n"
    assert parse_flow(text).timezone == expected


def test_an_unknown_flow_time_zone_is_refused() -> None:
    text = HEADER + "timezone: Chicago\nactions:\n  greet:\n    disconnect: {}\n"
    assert problems(text) == [(5, 11, "timezone", "unknown time zone 'Chicago'; use an IANA "
                               "name such as America/Chicago")]


@pytest.mark.parametrize(("schedule", "path", "message"), [
    pytest.param("{open: {mon: \"09:00-17:00\"}}", "schedules.hours",
                 "a schedule needs 'timezone', e.g. America/Chicago", id="no-timezone"),
    pytest.param("{timezone: UTC}", "schedules.hours",
                 "a schedule needs 'open', e.g. {mon-fri: \"09:00-17:00\"}", id="no-open"),
    pytest.param("{timezone: ../../etc/passwd, open: {}}", "schedules.hours.timezone",
                 "unknown time zone '../../etc/passwd'; use an IANA name such as "
                 "America/Chicago or Europe/London", id="path-as-zone"),
    pytest.param("{timezone: UTC, open: {mon: 9-5}}", "schedules.hours.open.mon",
                 "'9-5' is not a range of hours like 09:00-17:00 (24-hour clock, 00:00 to "
                 "24:00)", id="not-clock-times"),
    pytest.param("{timezone: UTC, open: {mon: \"09:00-25:00\"}}", "schedules.hours.open.mon",
                 "'09:00-25:00' is not a range of hours like 09:00-17:00 (24-hour clock, "
                 "00:00 to 24:00)", id="hour-25"),
    pytest.param("{timezone: UTC, open: {mon: \"09:00-12:00, 11:00-17:00\"}}",
                 "schedules.hours.open.mon", "09:00-12:00 and 11:00-17:00 overlap",
                 id="overlap"),
    pytest.param("{timezone: UTC, open: {mon-fri: \"09:00-17:00\", fri: \"10:00-11:00\"}}",
                 "schedules.hours.open.fri", "fri is given more than once", id="day-twice"),
    pytest.param("{timezone: UTC, open: {mon: 10:00}}", "schedules.hours.open.mon",
                 "'10:00' is not a range of hours like 09:00-17:00", id="yaml-sexagesimal"),
    pytest.param("{timezone: UTC, open: {mon: \"09:00-17:00\"}, holidays: 2026-12-25}",
                 "schedules.hours.holidays", "must be a list of dates like \"2026-12-25\"",
                 id="holidays-not-a-list"),
    pytest.param("{timezone: UTC, open: {mon: \"09:00-17:00\"}, holidays: [2026-02-30]}",
                 "schedules.hours.holidays[0]", "'2026-02-30' is not a date like 2026-12-25",
                 id="no-such-date"),
    pytest.param("{timezone: UTC, open: {mon: \"09:00-17:00\"}, closed: [sun]}",
                 "schedules.hours.closed", "unknown field 'closed' in a schedule (fields: "
                 "timezone, open, holidays)", id="unknown-field"),
])
def test_schedule_problems_are_located(schedule: str, path: str, message: str) -> None:
    text = HEADER + f"schedules:\n  hours: {schedule}\nactions:\n  greet:\n    disconnect: {{}}\n"
    found = problems(text)
    assert [(p, m) for _, _, p, m in found] == [(path, message)]
    assert found[0][0] == 6


def test_unquoted_dates_and_times_are_read_as_written() -> None:
    text = HEADER + ("schedules:\n  hours:\n    timezone: UTC\n    open: {sat: 10:00-13:00}\n"
                     "    holidays: [2026-12-25]\nactions:\n  greet:\n    disconnect: {}\n")
    schedule = parse_flow(text).schedules["hours"]
    assert str(schedule.hours[5][0]) == "10:00-13:00"
    assert {d.isoformat() for d in schedule.holidays} == {"2026-12-25"}


def test_mangled_flows_are_refused_or_run_never_crash() -> None:
    """A seeded fuzz over the example flow: any edit either validates or is refused cleanly,
    and whatever validates runs to its end."""
    import random
    from datetime import UTC, datetime

    from parley.domain.flows import FlowContext, Reply, RunStatus, resume, start

    rng = random.Random(7)
    pieces = [*" \n:{}[]-'\"#&*!|>%@,?019ax", "{{", "}}", "  ", "next", "text", "isOpen(", "**"]
    now = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    for _ in range(300):
        text = list(EXAMPLE_FLOW)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text))
            if rng.random() < 0.5:
                del text[at]
            else:
                text.insert(at, rng.choice(pieces))
        try:
            flow = parse_flow("".join(text))
        except FlowValidationError as exc:
            assert exc.problems and all(p.message for p in exc.problems)
            continue
        step = start(flow, FlowContext("1", "+13125550100", now))
        while step.status is RunStatus.WAITING_FOR_INPUT:
            step = resume(flow, step.run, Reply(rng.choice(["1", "2", "x"])), now=now)
        assert step.status is RunStatus.ENDED
