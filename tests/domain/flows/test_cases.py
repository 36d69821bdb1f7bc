"""Runs every case table in cases/: one file per action type, goflow-style.

A case gives a flow (`actions`: the actions of a flow whose header this harness writes, the
first action being the start; or `flow`: a whole flow text), an optional `context`, and
either the `errors` validation must report or the `events` the run must produce, then
optionally `then`: resumes, each with its own expected `events`.

    - name: a short description, used as the test id
      actions: |              # YAML text of the flow's actions
        ...
      schedules: {...}        # optional, added to the flow header
      knownQueues: [Support]  # optional, passed to parse_flow
      context: {text: hi, sender: "+13125550100", now: "2026-03-02T10:00:00-06:00",
                participant: {key: value}}
      events:                 # expected events, in order; each lists the fields it checks
        - sendResponse: {text: Hello}
      status: ended           # optional: waitingForInput / waitingForData / ended
      participantData: {}     # optional: the run's participant data afterwards
      then:
        - reply: "1"          # or noReply: true, dataResult: {status, body}, dataFailure: why
          events: [...]
      errors:                 # instead of events: what parse_flow reports
        - {path: actions.a.sendResponse, line: 2, message: "..."}

Lines and columns in `errors` count from the `actions` text when a case uses it (the harness
adds the header's lines and the indentation), or from the `flow` text.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from parley.domain.flows import (
    DataFailure,
    DataResult,
    FlowContext,
    FlowRun,
    FlowValidationError,
    NoReply,
    Reply,
    ResumeInput,
    Step,
    parse_flow,
    resume,
    start,
)

CASES = Path(__file__).parent / "cases"
DEFAULT_NOW = "2026-03-02T10:00:00-06:00"  # a Monday morning in Chicago
TABLES = sorted(CASES.glob("*.yaml"))
INDENT = 2


def _load_cases() -> list[Any]:
    params = []
    for table in TABLES:
        document = yaml.safe_load(table.read_text())
        names = set()
        for case in document["cases"]:
            assert case["name"] not in names, f"{table.name}: duplicate case {case['name']}"
            names.add(case["name"])
            params.append(pytest.param(case, id=f"{table.stem}: {case['name']}"))
    return params


def test_every_action_type_has_a_case_table() -> None:
    from parley.domain.flows.actions import ACTION_TYPES

    modules = {p.stem for p in (Path(__file__).parents[3] / "src/parley/domain/flows/actions")
               .glob("*.py")} - {"__init__", "base"}
    assert {t.stem for t in TABLES} == modules
    assert len(ACTION_TYPES) == len(modules)


def _flow_text(case: dict[str, Any]) -> tuple[str, int]:
    """The flow text, and how many lines precede the case's own text."""
    if "flow" in case:
        return case["flow"], 0
    actions: str = case["actions"]
    first = case.get("start") or next(iter(yaml.safe_load(actions)))
    header = ("name: Case flow\ntype: inboundshortmessage\nfallbackQueue: Fallback\n"
              f"start: {first}\n")
    if "schedules" in case:
        header += yaml.safe_dump({"schedules": case["schedules"]}, sort_keys=False)
    header += "actions:\n"
    body = "".join(" " * INDENT + line if line.strip() else line
                   for line in actions.splitlines(keepends=True))
    return header + body, header.count("\n")


def _context(case: dict[str, Any]) -> FlowContext:
    given = case.get("context") or {}
    return FlowContext(message_text=str(given.get("text", "hi")),
                       customer_address=given.get("sender", "+13125550100"),
                       now=_time(given.get("now", DEFAULT_NOW)),
                       participant_data={k: str(v) for k, v in
                                         (given.get("participant") or {}).items()})


def _time(value: str) -> datetime:
    return datetime.fromisoformat(str(value))


def _resume_input(step: dict[str, Any]) -> ResumeInput:
    if "reply" in step:
        return Reply(str(step["reply"]))
    if "noReply" in step:
        return NoReply()
    if "dataResult" in step:
        return DataResult(step["dataResult"]["status"], step["dataResult"].get("body"))
    return DataFailure(step["dataFailure"])


def _check_step(step: Step, expected: dict[str, Any]) -> None:
    actual = [e.to_dict() for e in step.events]
    wanted = expected.get("events") or []
    shown = json.dumps(actual, indent=1)
    assert [a["type"] for a in actual] == [next(iter(w)) for w in wanted], shown
    for got, want in zip(actual, wanted, strict=True):
        fields = next(iter(want.values())) or {}
        assert {k: got[k] for k in fields} == fields, shown
    if "status" in expected:
        assert step.status.value == expected["status"]
    if "participantData" in expected:
        assert step.run.participant_data == expected["participantData"]
    if "variables" in expected:
        assert {k: step.run.variables.get(k) for k in expected["variables"]} == \
            expected["variables"]


def _check_problems(actual: list[Any], expected: list[dict[str, Any]], offset: int,
                    shift: int) -> None:
    got = [p.to_dict() for p in actual]
    shown = json.dumps(got, indent=1)
    assert len(got) == len(expected), shown
    for problem, want in zip(got, expected, strict=True):
        want = dict(want)
        if "line" in want:
            want["line"] += offset
        if "column" in want:
            want["column"] += shift
        assert {k: problem[k] for k in want} == want, shown


@pytest.mark.parametrize("case", _load_cases())
def test_case(case: dict[str, Any]) -> None:
    text, offset = _flow_text(case)
    shift = 0 if "flow" in case else INDENT
    known = case.get("knownQueues")
    if "errors" in case:
        with pytest.raises(FlowValidationError) as caught:
            parse_flow(text, known_queues=known)
        _check_problems(caught.value.problems, case["errors"], offset, shift)
        return
    flow = parse_flow(text, known_queues=known)
    _check_problems(list(flow.warnings), case.get("warnings", []), offset, shift)
    step = start(flow, _context(case))
    _check_step(step, case)
    now = _context(case).now
    for later in case.get("then", []):
        stored = json.loads(json.dumps(step.run.to_dict()))  # as the service would keep it
        step = resume(flow, FlowRun.from_dict(stored), _resume_input(later),
                      now=_time(later["now"]) if "now" in later else now)
        _check_step(step, later)
