"""Flow expressions and `{{ }}` templates: a small, safe subset of Python expression syntax.

Flows are written by administrators but evaluated on text written by anyone with a phone, on
the same event loop that routes every other conversation; so an expression may not reach
Python's object model, loop, allocate without bound or backtrack without bound:

- The syntax is checked when the flow is validated, against an allow-list: literals, names,
  `a.b` / `a['b']` reads, comparisons, `and`/`or`/`not`, `+ - * / // %`, `x if c else y`,
  list literals and calls to the functions below. No lambdas, comprehensions, f-strings,
  `**`, bit operations, keyword arguments, methods or `_`-prefixed names.
- simpleeval then evaluates the checked tree with our operators (text may not grow past
  MAX_TEXT_LENGTH, `%` is arithmetic only) and our attribute rule (`.x` reads a key of a
  mapping, never a Python attribute).
- `matches()` uses RE2, whose run time is linear in the text, so no pattern can hang a
  worker; patterns are literals, compiled and checked at validation.

Anything that goes wrong while evaluating is an EvaluationError; the interpreter turns it
into the flow's error path, so a bad value can never crash the caller.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import keyword
import math
import operator as op
import re
import threading
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import re2  # type: ignore[import-untyped]
import simpleeval  # type: ignore[import-untyped]

MAX_EXPRESSION_LENGTH = 1000
MAX_TEXT_LENGTH = 10_000
"""Longest text an expression or template may produce."""
MAX_PATTERN_LENGTH = 200
MAX_DEPTH = 100

Value = Any
"""What an expression yields: None, bool, int, float, str, or JSON-like lists and mappings."""

ROOTS: dict[str, frozenset[str] | None] = {
    "message": frozenset({"text", "sender"}),
    "flow": frozenset({"name"}),
    "now": frozenset({"hour", "minute", "weekday", "date", "time"}),
    "participant": None,  # any key: participant data is free-form
}
"""Names every expression can read, with the fields each has (None: any field)."""

CONSTANTS: dict[str, Value] = {"true": True, "false": False, "null": None}
"""JSON spellings, since flow authors write YAML: `true` means True."""

ARITY: dict[str, int] = {
    "isOpen": 1, "lower": 1, "upper": 1, "trim": 1, "length": 1, "text": 1, "number": 1,
    "isNumber": 1, "isSet": 1, "contains": 2, "startsWith": 2, "endsWith": 2, "matches": 2,
}
"""Every function an expression may call, with its number of arguments."""

_REFUSED = {
    ast.Lambda: "lambda", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings", ast.NamedExpr: "assignment (:=)", ast.Dict: "{...} literals",
    ast.Set: "{...} literals", ast.Starred: "* unpacking", ast.Slice: "slices",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Pow: "** (power)", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&",
    ast.BitOr: "|", ast.BitXor: "^", ast.Invert: "~", ast.MatMult: "@",
    ast.Is: "'is' (use ==)", ast.IsNot: "'is not' (use !=)",
}
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class ExpressionSyntaxError(Exception):
    """The expression is not in the flow language; found when the flow is validated."""


class EvaluationError(Exception):
    """The expression failed on this run's values (a type mismatch, a bad number...)."""


def variable_name_problem(name: str) -> str | None:
    """Why `name` cannot be a saved variable, or None if it can."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        return (f"'{name}' is not a valid variable name: use letters, digits and _, "
                "starting with a letter")
    if name in ROOTS or name in ARITY or name in CONSTANTS or name in ("True", "False", "None"):
        return f"'{name}' is a built-in name; choose another"
    return None


@dataclass(frozen=True, eq=False, slots=True)
class Expression:
    """A checked expression: its source (for messages) and its parsed tree."""

    source: str
    tree: ast.expr

    @classmethod
    def compile(cls, source: str) -> Expression:
        text = source.strip()
        if not text:
            raise ExpressionSyntaxError("the expression is empty")
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise ExpressionSyntaxError(f"the expression is {len(text)} characters long; "
                                        f"the limit is {MAX_EXPRESSION_LENGTH}")
        try:
            with warnings.catch_warnings():  # '\d' stays a backslash and d, as Python keeps it
                warnings.simplefilter("ignore")
                tree = ast.parse(text, mode="eval").body
        except SyntaxError as exc:
            where = f" at column {exc.offset}" if exc.offset else ""
            raise ExpressionSyntaxError(f"not a valid expression: {exc.msg}{where}") from None
        except (ValueError, RecursionError, MemoryError):
            raise ExpressionSyntaxError("not a valid expression") from None
        _check(tree, 0)
        return cls(text, tree)

    def names_problems(self, variables: Collection[str],
                       schedules: Collection[str] | None) -> list[str]:
        """What this expression reads that the flow does not define (checked at validation).

        `schedules` None means schedule names are not known here, so `isOpen('x')` is not
        checked.
        """
        problems: list[str] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "isOpen" and schedules is not None:
                    arg = node.args[0]
                    if isinstance(arg, ast.Constant) and arg.value not in schedules:
                        known = ", ".join(sorted(schedules)) or "none defined"
                        problems.append(f"unknown schedule {arg.value!r} in isOpen() "
                                        f"(schedules: {known})")
                continue
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                fields = ROOTS.get(node.value.id)
                if fields is not None and node.attr not in fields:
                    problems.append(f"{node.value.id} has no field '{node.attr}' (fields: "
                                    f"{', '.join(sorted(fields))})")
            if not isinstance(node, ast.Name) or node.id in CONSTANTS:
                continue
            if node.id in ARITY:
                if not _is_called(self.tree, node):
                    problems.append(f"{node.id} is a function; call it, e.g. {node.id}(...)")
            elif node.id not in ROOTS and node.id not in variables:
                hint = _close(node.id, [*ROOTS, *variables])
                problems.append(f"unknown name '{node.id}'{hint}: expressions can read "
                                "message, participant, flow, now and names saved with saveAs")
        return problems


def _close(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_called(tree: ast.expr, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def _check(node: ast.AST, depth: int) -> None:
    """Refuse everything outside the language, with a message that says what to do."""
    if depth > MAX_DEPTH:
        raise ExpressionSyntaxError("the expression is nested too deeply")
    refused = _REFUSED.get(type(node))
    if refused is None and isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp):
        refused = _REFUSED.get(type(node.op))
    if refused is None and isinstance(node, ast.Compare):
        refused = next((_REFUSED[type(o)] for o in node.ops if type(o) in _REFUSED), None)
    if refused:
        raise ExpressionSyntaxError(f"flow expressions cannot use {refused}")
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | None):
            raise ExpressionSyntaxError(f"the literal {node.value!r} is not allowed")
    elif isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise ExpressionSyntaxError(f"names starting with _ are not allowed ({node.id})")
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise ExpressionSyntaxError(f"fields starting with _ are not allowed ({node.attr})")
        if not _is_path(node.value):
            raise ExpressionSyntaxError(f"'.{node.attr}' can only read a field of message, "
                                        "participant, flow, now or a saved value")
    elif isinstance(node, ast.Subscript):
        if not _is_path(node.value):
            raise ExpressionSyntaxError("[...] can only read from message, participant, "
                                        "flow, now or a saved value")
    elif isinstance(node, ast.Call):
        _check_call(node)
    elif not isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp | ast.Compare | ast.IfExp
                        | ast.List | ast.Tuple | ast.expr_context | ast.boolop | ast.operator
                        | ast.unaryop | ast.cmpop):
        raise ExpressionSyntaxError(f"flow expressions cannot use {type(node).__name__}")
    for child in ast.iter_child_nodes(node):
        _check(child, depth + 1)


def _is_path(node: ast.expr) -> bool:
    """message.text, participant['x'], customer.address.city: reads rooted at a name."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name)


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name):
        raise ExpressionSyntaxError("only the flow functions can be called ("
                                    f"{', '.join(ARITY)}); methods are not available")
    name = node.func.id
    if name not in ARITY:
        raise ExpressionSyntaxError(f"unknown function '{name}'{_close(name, list(ARITY))} "
                                    f"(functions: {', '.join(ARITY)})")
    if node.keywords:
        raise ExpressionSyntaxError(f"{name}() takes no keyword arguments")
    if len(node.args) != ARITY[name]:
        raise ExpressionSyntaxError(f"{name}() takes {ARITY[name]} argument"
                                    f"{'s' if ARITY[name] > 1 else ''}, not {len(node.args)}")
    if name == "matches":
        pattern = node.args[1]
        if not isinstance(pattern, ast.Constant) or not isinstance(pattern.value, str):
            raise ExpressionSyntaxError("the pattern of matches() must be a quoted text, "
                                        "e.g. matches(message.text, '^[0-9]+$')")
        try:
            _regex(pattern.value)
        except EvaluationError as exc:
            raise ExpressionSyntaxError(str(exc)) from None


UNSET = Expression.compile("None")
"""Stands in for a missing expression in a flow that is refused anyway; never evaluated."""


@dataclass(frozen=True, eq=False, slots=True)
class Template:
    """Text with `{{ expression }}` placeholders, e.g. 'Hi {{ participant.name }}!'."""

    source: str
    parts: tuple[str | Expression, ...]

    @classmethod
    def plain(cls, text: str) -> Template:
        return cls(text, (text,) if text else ())

    @classmethod
    def compile(cls, source: str) -> Template:
        parts: list[str | Expression] = []
        pos = 0
        for found in _TEMPLATE.finditer(source):
            if found.start() > pos:
                parts.append(source[pos:found.start()])
            try:
                parts.append(Expression.compile(found.group(1)))
            except ExpressionSyntaxError as exc:
                raise ExpressionSyntaxError(f"in {found.group(0)}: {exc}") from None
            pos = found.end()
        tail = source[pos:]
        if "{{" in tail:
            raise ExpressionSyntaxError("'{{' is not closed with '}}'")
        if tail:
            parts.append(tail)
        return cls(source, tuple(parts))

    @property
    def expressions(self) -> tuple[Expression, ...]:
        return tuple(p for p in self.parts if isinstance(p, Expression))


def to_text(value: Value) -> str:
    """How a value reads in a text: nothing for None, true/false, 2 not 2.0, JSON for data."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


# --- evaluation -------------------------------------------------------------------------

def _limit(value: Value) -> Value:
    if isinstance(value, str) and len(value) > MAX_TEXT_LENGTH:
        raise EvaluationError(f"the text would be longer than {MAX_TEXT_LENGTH} characters")
    return value


def _add(a: Value, b: Value) -> Value:
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        raise EvaluationError("lists cannot be added")
    return _limit(op.add(a, b))


def _mult(a: Value, b: Value) -> Value:
    if isinstance(a, str | list | tuple) or isinstance(b, str | list | tuple):
        raise EvaluationError("text and lists cannot be multiplied")
    return op.mul(a, b)


def _mod(a: Value, b: Value) -> Value:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        raise EvaluationError("% works on numbers only")
    return op.mod(a, b)


def _contains(container: Value, item: Value) -> bool:
    if isinstance(container, str):
        return to_text(item) in container
    if container is None:
        return False
    return bool(op.contains(container, item))


_OPERATORS: dict[type, Callable[..., Value]] = {
    ast.Add: _add, ast.Sub: op.sub, ast.Mult: _mult, ast.Div: op.truediv,
    ast.FloorDiv: op.floordiv, ast.Mod: _mod,
    ast.Eq: op.eq, ast.NotEq: op.ne, ast.Lt: op.lt, ast.LtE: op.le, ast.Gt: op.gt,
    ast.GtE: op.ge, ast.In: lambda x, y: _contains(y, x),
    ast.NotIn: lambda x, y: not _contains(y, x),
    ast.Not: op.not_, ast.USub: op.neg, ast.UAdd: op.pos,
}

_NUMBER = re.compile(r"[+-]?(\d{1,30}(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")


def number(value: Value) -> int | float:
    """`number('42')` is 42, `number(' 4.5 ')` 4.5; anything else is an error."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = to_text(value).strip()
    if not _NUMBER.fullmatch(text):
        raise EvaluationError(f"'{text[:40]}' is not a number")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    result = float(text)
    if not math.isfinite(result):
        raise EvaluationError(f"'{text[:40]}' is too large")
    return result


def _is_number(value: Value) -> bool:
    try:
        number(value)
    except EvaluationError:
        return False
    return True


def _length(value: Value) -> int:
    if isinstance(value, list | tuple | dict):
        return len(value)
    return len(to_text(value))


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise EvaluationError(f"the pattern is {len(pattern)} characters long; the limit is "
                              f"{MAX_PATTERN_LENGTH}")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 1 << 20
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise EvaluationError(f"'{pattern}' is not a valid pattern: {reason}") from None


def _matches(value: Value, pattern: Value) -> bool:
    return _regex(str(pattern)).search(to_text(value)) is not None


BASE_FUNCTIONS: dict[str, Callable[..., Value]] = {
    "lower": lambda x: to_text(x).lower(),
    "upper": lambda x: to_text(x).upper(),
    "trim": lambda x: to_text(x).strip(),
    "length": _length,
    "text": to_text,
    "number": number,
    "isNumber": _is_number,
    "isSet": lambda x: x is not None and x != "",
    "contains": lambda a, b: to_text(b) in to_text(a),
    "startsWith": lambda a, b: to_text(a).startswith(to_text(b)),
    "endsWith": lambda a, b: to_text(a).endswith(to_text(b)),
    "matches": _matches,
}


class Evaluator:
    """Evaluates checked expressions over one set of names; one per interpreter step."""

    def __init__(self, names: Mapping[str, Value], is_open: Callable[[str], bool]) -> None:
        self._names: dict[str, Value] = {**CONSTANTS, **names}
        self._is_open = lambda name: is_open(to_text(name))

    def set_name(self, name: str, value: Value) -> None:
        self._names[name] = value

    def evaluate(self, expr: Expression) -> Value:
        engine = _engine()
        engine.names = self._names
        engine.functions["isOpen"] = self._is_open
        try:
            return _limit(engine.eval(expr.source, previously_parsed=expr.tree))
        except EvaluationError:
            raise
        except Exception as exc:  # the sandbox edge: no failure may escape as anything else
            raise EvaluationError(_describe(exc)) from None
        finally:
            engine.names = {}

    def render(self, template: Template, escape: Callable[[str], str] | None = None) -> str:
        """The template's text; `escape` is applied to each placeholder's value (URLs)."""
        out: list[str] = []
        size = 0
        for part in template.parts:
            if isinstance(part, str):
                text = part
            else:
                text = to_text(self.evaluate(part))
                text = escape(text) if escape else text
            size += len(text)
            if size > MAX_TEXT_LENGTH:
                raise EvaluationError(f"the text would be longer than {MAX_TEXT_LENGTH} "
                                      "characters")
            out.append(text)
        return "".join(out)


_local = threading.local()


def _engine() -> Any:
    """This thread's simpleeval engine, built once: building one costs more than most
    evaluations. An evaluation never starts another, so one per thread is enough."""
    engine = getattr(_local, "engine", None)
    if engine is None:
        engine = simpleeval.SimpleEval(operators=_OPERATORS, functions=dict(BASE_FUNCTIONS),
                                       names={})
        evaluate = engine._eval
        engine.nodes[ast.Attribute] = lambda node: _read(evaluate(node.value), node.attr)
        engine.nodes[ast.Subscript] = lambda node: _read(evaluate(node.value),
                                                         evaluate(node.slice))
        engine.nodes[ast.List] = engine.nodes[ast.Tuple] = lambda node: tuple(
            evaluate(item) for item in node.elts)
        _local.engine = engine
    return engine


def _read(base: Value, key: Value) -> Value:
    """`.x` and `['x']` read mapping keys and list items; a missing one reads as None."""
    if base is None:
        return None
    if isinstance(base, dict):
        return base.get(key) if isinstance(key, str) else None
    if isinstance(base, list | tuple | str):
        kind = "text" if isinstance(base, str) else "list"
        if isinstance(key, str):
            raise EvaluationError(f"cannot read field '{key[:40]}' of a {kind}")
        if isinstance(key, bool) or not isinstance(key, int):
            raise EvaluationError(f"cannot read [{to_text(key)[:40]}] of a {kind}")
        return base[key] if -len(base) <= key < len(base) else None
    raise EvaluationError(f"cannot read field {to_text(key)[:40]!r} of {to_text(base)[:40]!r}")


def _describe(exc: Exception) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, TypeError):
        return f"values of the wrong type ({exc})"
    if isinstance(exc, simpleeval.NameNotDefined):
        return f"unknown name {exc.name!r}"
    message = str(exc) or type(exc).__name__
    return message[:200]
