"""Expressions: what the language allows, and that nothing in it can escape or hang."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from parley.domain.flows import FlowContext, FlowError, TransferToAcd, parse_flow, start
from parley.domain.flows.expressions import (
    MAX_TEXT_LENGTH,
    EvaluationError,
    Evaluator,
    Expression,
    ExpressionSyntaxError,
    Template,
    to_text,
    variable_name_problem,
)

NAMES: dict[str, Any] = {
    "message": {"text": "Hello World", "sender": "+13125550100"},
    "participant": {"tier": "gold", "count": "3"},
    "flow": {"name": "Intake"},
    "now": {"hour": 10, "minute": 5, "weekday": "mon", "date": "2026-03-02", "time": "10:05"},
    "customer": {"name": "Ana", "orders": [{"id": "A-1"}, {"id": "A-2"}], "address": None},
    "choice": "2",
}


def evaluate(source: str, **names: Any) -> Any:
    return Evaluator({**NAMES, **names}, lambda name: name == "open").evaluate(
        Expression.compile(source))


@pytest.mark.parametrize(("source", "value"), [
    pytest.param("message.text", "Hello World", id="message-text"),
    pytest.param("lower(message.text)", "hello world", id="lower"),
    pytest.param("upper(flow.name)", "INTAKE", id="upper"),
    pytest.param("trim('  x ')", "x", id="trim"),
    pytest.param("contains(message.text, 'World')", True, id="contains"),
    pytest.param("contains(message.text, 'world')", False, id="contains-is-exact"),
    pytest.param("startsWith(message.sender, '+1')", True, id="startsWith"),
    pytest.param("endsWith(message.text, 'd')", True, id="endsWith"),
    pytest.param("matches(message.text, '^Hello')", True, id="matches"),
    pytest.param("matches(message.text, r'\\bworld\\b')", False, id="matches-case"),
    pytest.param("matches(message.text, r'(?i)\\bworld\\b')", True, id="matches-flags"),
    pytest.param("number(participant.count) * 2", 6, id="number"),
    pytest.param("number('-2.5')", -2.5, id="number-float"),
    pytest.param("isNumber('12')", True, id="isNumber"),
    pytest.param("isNumber('12abc')", False, id="isNumber-not"),
    pytest.param("length(message.text)", 11, id="length"),
    pytest.param("length(customer.orders)", 2, id="length-list"),
    pytest.param("text(3) + '!'", "3!", id="text"),
    pytest.param("isSet(participant.tier)", True, id="isSet"),
    pytest.param("isSet(participant.none)", False, id="isSet-not"),
    pytest.param("isOpen('open') and not isOpen('closed')", True, id="isOpen"),
    pytest.param("participant.missing", None, id="missing-key-is-none"),
    pytest.param("participant['tier']", "gold", id="subscript"),
    pytest.param("customer.orders[1].id", "A-2", id="nested-data"),
    pytest.param("customer.orders[9]", None, id="index-out-of-range-is-none"),
    pytest.param("customer.address.city", None, id="none-propagates"),
    pytest.param("message.text[0]", "H", id="text-index"),
    pytest.param("choice in ['1', '2']", True, id="in-list"),
    pytest.param("'World' in message.text", True, id="in-text"),
    pytest.param("'x' in participant.missing", False, id="in-none"),
    pytest.param("now.time >= '09:00' and now.weekday == 'mon'", True, id="now"),
    pytest.param("'a' if choice == '2' else 'b'", "a", id="if-else"),
    pytest.param("7 % 3 + 10 // 4 - 1", 2, id="arithmetic"),
    pytest.param("true and not false and null == None", True, id="json-constants"),
])
def test_the_language(source: str, value: Any) -> None:
    assert evaluate(source) == value


@pytest.mark.parametrize(("source", "message"), [
    pytest.param("__import__('os')", "unknown function '__import__'", id="import-builtin"),
    pytest.param("open('/etc/passwd')", "unknown function 'open'", id="open"),
    pytest.param("exec('1')", "unknown function 'exec'", id="exec"),
    pytest.param("globals()", "unknown function 'globals'", id="globals"),
    pytest.param("().__class__", "fields starting with _ are not allowed (__class__)",
                 id="tuple-class"),
    pytest.param("message.__class__.__mro__", "fields starting with _ are not allowed",
                 id="dunder-chain"),
    pytest.param("participant._secret", "fields starting with _ are not allowed (_secret)",
                 id="private"),
    pytest.param("__builtins__", "names starting with _ are not allowed (__builtins__)",
                 id="builtins"),
    pytest.param("lower.__globals__", "fields starting with _ are not allowed",
                 id="function-globals"),
    pytest.param("message.text.upper()", "only the flow functions can be called",
                 id="method-call"),
    pytest.param("'{0.__class__}'.format(1)", "only the flow functions can be called",
                 id="format-method"),
    pytest.param("lower(message.text).x", "'.x' can only read a field of message, "
                 "participant, flow, now or a saved value", id="attribute-of-call"),
    pytest.param("'abc'[0]", "[...] can only read from", id="subscript-of-literal"),
    pytest.param("2 ** 1000000", "flow expressions cannot use ** (power)", id="huge-exponent"),
    pytest.param("9 ** 9 ** 9", "flow expressions cannot use ** (power)", id="tower"),
    pytest.param("1 << 100000", "flow expressions cannot use <<", id="shift"),
    pytest.param("~1", "flow expressions cannot use ~", id="invert"),
    pytest.param("[x for x in range(10 ** 9)]", "flow expressions cannot use comprehensions",
                 id="comprehension-loop"),
    pytest.param("any(1 for x in 'abc')", "unknown function 'any'", id="generator"),
    pytest.param("(lambda: 1)()", "only the flow functions can be called", id="lambda-call"),
    pytest.param("lambda: 1", "flow expressions cannot use lambda", id="lambda"),
    pytest.param("f'{message.text}'", "flow expressions cannot use f-strings", id="f-string"),
    pytest.param("(x := 1)", "flow expressions cannot use assignment (:=)", id="walrus"),
    pytest.param("{'a': 1}", "flow expressions cannot use {...} literals", id="dict"),
    pytest.param("message.text[::-1]", "flow expressions cannot use slices", id="slice"),
    pytest.param("choice is None", "flow expressions cannot use 'is' (use ==)", id="is"),
    pytest.param("b'x'", "the literal b'x' is not allowed", id="bytes"),
    pytest.param("...", "the literal Ellipsis is not allowed", id="ellipsis"),
    pytest.param("lower(x=1)", "lower() takes no keyword arguments", id="keyword-args"),
    pytest.param("contains('a')", "contains() takes 2 arguments, not 1", id="arity"),
    pytest.param("lower(*message)", "flow expressions cannot use * unpacking", id="starred"),
    pytest.param("matches(message.text, choice)", "the pattern of matches() must be a quoted "
                 "text", id="dynamic-pattern"),
    pytest.param("matches(message.text, '(')", "'(' is not a valid pattern: missing ): (",
                 id="bad-pattern"),
    pytest.param("matches(message.text, '(?<=a)b')", "is not a valid pattern",
                 id="lookbehind-not-in-re2"),
    pytest.param("matches(message.text, '" + "a" * 201 + "')",
                 "the pattern is 201 characters long; the limit is 200", id="long-pattern"),
    pytest.param("import os", "not a valid expression: invalid syntax", id="statement"),
    pytest.param("1; 2", "not a valid expression: invalid syntax", id="two-statements"),
    pytest.param("'x' + " * 200 + "'x'", "the expression is 1203 characters long; the "
                 "limit is 1000", id="too-long"),
    pytest.param("-" * 150 + "1", "the expression is nested too deeply", id="too-deep"),
    pytest.param("(" * 300 + "1" + ")" * 300, "not a valid expression", id="parens"),
    pytest.param("", "the expression is empty", id="empty"),
    pytest.param("a\x00b", "not a valid expression", id="nul"),
])
def test_refused_at_validation(source: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        Expression.compile(source)
    assert message in str(caught.value)


@pytest.mark.parametrize(("source", "problem"), [
    pytest.param("answer", "unknown name 'answer'", id="undeclared"),
    pytest.param("mesage.text", "unknown name 'mesage' (did you mean 'message'?)",
                 id="typo-suggests"),
    pytest.param("lower", "lower is a function; call it, e.g. lower(...)", id="bare-function"),
    pytest.param("message.from", "not a valid expression", id="keyword-field"),
    pytest.param("flow.id", "flow has no field 'id' (fields: name)", id="flow-field"),
    pytest.param("now.second", "now has no field 'second'", id="now-field"),
    pytest.param("isOpen('weekend')", "unknown schedule 'weekend' in isOpen() (schedules: "
                 "weekdays)", id="schedule"),
])
def test_names_are_checked_against_the_flow(source: str, problem: str) -> None:
    try:
        found = Expression.compile(source).names_problems({"choice"}, {"weekdays"})
    except ExpressionSyntaxError as exc:
        found = [str(exc)]
    assert len(found) == 1 and problem in found[0]


def test_declared_names_and_unknown_schedules_when_not_known() -> None:
    expr = Expression.compile("choice == '1' and isOpen(participant.hours)")
    assert expr.names_problems({"choice"}, {"weekdays"}) == []
    assert Expression.compile("isOpen('anything')").names_problems(set(), None) == []


@pytest.mark.parametrize(("source", "names", "message"), [
    pytest.param("'a' * 100", {}, "text and lists cannot be multiplied", id="text-repeat"),
    pytest.param("message.text * 1000000", {}, "text and lists cannot be multiplied",
                 id="text-repeat-bomb"),
    pytest.param("big + big", {"big": "x" * 6000},
                 f"the text would be longer than {MAX_TEXT_LENGTH} characters", id="text-grow"),
    pytest.param("'%0999999999d' % 1", {}, "% works on numbers only", id="percent-format"),
    pytest.param("1 / 0", {}, "division by zero", id="zero-division"),
    pytest.param("message.text > 3", {}, "values of the wrong type", id="type-mismatch"),
    pytest.param("number('nan')", {}, "'nan' is not a number", id="nan"),
    pytest.param("number('1e999')", {}, "'1e999' is too large", id="inf"),
    pytest.param("number('9' * 5)", {}, "text and lists cannot be multiplied",
                 id="number-of-repeat"),
    pytest.param("number(message.text)", {}, "'Hello World' is not a number", id="not-number"),
    pytest.param("message.text.length", {}, "cannot read field 'length' of a text",
                 id="field-of-text"),
    pytest.param("customer.orders['x']", {}, "cannot read field 'x' of a list", id="bad-index"),
    pytest.param("isOpen('nope')", {}, "", id="unknown-schedule-at-runtime"),
    pytest.param("customer.orders + customer.orders", {}, "lists cannot be added",
                 id="list-add"),
])
def test_failures_are_evaluation_errors(source: str, names: dict[str, Any],
                                        message: str) -> None:
    def is_open(name: str) -> bool:
        raise EvaluationError(f"unknown schedule '{name}'")

    evaluator = Evaluator({**NAMES, **names}, is_open)
    with pytest.raises(EvaluationError) as caught:
        evaluator.evaluate(Expression.compile(source))
    assert message in str(caught.value)


def test_a_pathological_pattern_runs_in_linear_time() -> None:
    text = "a" * 20_000 + "!"
    started = time.perf_counter()
    assert evaluate("matches(message.text, '^(a+)+$')", message={"text": text}) is False
    assert evaluate("matches(message.text, '(.*a){20}x')", message={"text": text}) is False
    assert time.perf_counter() - started < 1.0


def test_big_numbers_stay_bounded_by_the_expression_length() -> None:
    value = evaluate("*".join(["99999999999"] * 80))
    assert isinstance(value, int) and len(str(value)) < 900
    assert evaluate("1e308 * 10") == float("inf")


def test_templates() -> None:
    template = Template.compile("Hi {{ customer.name }}, {{ length(customer.orders) }} orders"
                                "{{ participant.none }} }} {")
    assert [type(p).__name__ for p in template.parts] == [
        "str", "Expression", "str", "Expression", "str", "Expression", "str"]
    evaluator = Evaluator(NAMES, lambda name: False)
    assert evaluator.render(template) == "Hi Ana, 2 orders }} {"
    assert evaluator.render(Template.compile("{{ message.text }}"), escape=str.upper) == \
        "HELLO WORLD"
    assert evaluator.render(Template.plain("")) == ""
    with pytest.raises(ExpressionSyntaxError) as caught:
        Template.compile("x {{ 2 ** 9 }}")
    assert str(caught.value) == "in {{ 2 ** 9 }}: flow expressions cannot use ** (power)"
    with pytest.raises(ExpressionSyntaxError) as caught:
        Template.compile("{{ a }} {{ b")
    assert str(caught.value) == "'{{' is not closed with '}}'"


def test_rendering_stops_at_the_text_limit() -> None:
    evaluator = Evaluator({**NAMES, "big": "x" * 4000}, lambda name: False)
    with pytest.raises(EvaluationError, match="longer than 10000"):
        evaluator.render(Template.compile("{{ big }}{{ big }}{{ big }}"))


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), (True, "true"), (False, "false"), (3, "3"), (2.0, "2"), (2.5, "2.5"),
    (1e20, "1e+20"), ("é", "é"), ([1, "a"], '[1,"a"]'), ({"a": None}, '{"a":null}'),
])
def test_values_read_as_text(value: Any, text: str) -> None:
    assert to_text(value) == text


@pytest.mark.parametrize(("name", "problem"), [
    ("choice", None), ("order_id", None), ("message", "'message' is a built-in name"),
    ("lower", "'lower' is a built-in name"), ("true", "'true' is a built-in name"),
    ("if", "not a valid variable name"), ("_x", "not a valid variable name"),
    ("my-answer", "not a valid variable name"),
])
def test_variable_names(name: str, problem: str | None) -> None:
    found = variable_name_problem(name)
    assert found is None if problem is None else problem in (found or "")


NASTY = [
    "number(message.text) / 0",
    "message.text > 1",
    "number(participant.huge) * number(participant.huge) > 'x'",
    "participant.count.x.y",
    "length(message.text) - 'x'",
    "matches(message.text, '(((a)))') or 1 / 0",
    "message.text['a']",
    "isOpen(participant.count)",
]


@pytest.mark.parametrize("source", NASTY)
def test_a_failing_expression_never_escapes_a_run(source: str) -> None:
    flow = parse_flow(f"""\
name: Nasty
type: inboundshortmessage
fallbackQueue: Fallback
start: a
actions:
  a:
    decision: {{if: "{source}", then: b, else: b}}
  b:
    disconnect: {{}}
""")
    step = start(flow, FlowContext("Hello", "+13125550100", datetime(2026, 3, 2, tzinfo=UTC),
                                   {"huge": "9" * 30, "count": "3"}))
    assert isinstance(step.events[0], FlowError)
    assert step.events[0].reason.startswith(f"expression '{source}' failed: ")
    assert step.events[1] == TransferToAcd("Fallback")
