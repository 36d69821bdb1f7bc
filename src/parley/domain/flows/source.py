"""Reading a flow's YAML: plain values, where each came from, and the problems found.

PyYAML composes the text into nodes that keep their line and column; we turn those into plain
Python values (dicts, lists, scalars) plus a map from field path (`actions.ask.askQuestion.
saveAs`) to position, so every later check can name the field *and* the line. Mapping keys
are always read as the text written (YAML 1.1 would make `on:` or `yes:` a boolean), and the
raw text of every scalar is kept so that `text: yes` means the word, not `True`.

Validation collects every problem instead of stopping at the first: an author fixing a flow
in an editor wants the whole list at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import yaml

from parley.domain.errors import InvalidInput
from parley.domain.flows.expressions import (
    Expression,
    ExpressionSyntaxError,
    Template,
    variable_name_problem,
)

MAX_FLOW_CHARACTERS = 200_000
"""A flow is a page of YAML, not a data set; refuse anything larger before parsing it."""
MAX_NESTING = 20

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (the wheels are): same nodes and marks,
several times faster."""

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
"""Action ids, schedule names: readable in a path and safe in a URL or a log line."""

_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_TAGS = {
    _STR_TAG, "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a flow, located well enough for an editor to underline it."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        return f"{where}{self.path or 'flow'}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "message": self.message, "line": self.line,
                "column": self.column, "severity": self.severity.value}


class FlowValidationError(InvalidInput):
    """The flow cannot be published; `problems` lists every error, `warnings` the rest."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"the flow is not valid: {first}{more}", field=first.path or None)
        self.problems = problems
        self.warnings = warnings or []


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def suggest(word: str, choices: Collection[str]) -> str:
    """A ' (did you mean ...?)' hint, or nothing: typos are the commonest flow error."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


@dataclass(slots=True)
class Source:
    """The flow being read: its values, where they came from, and what is wrong so far.

    Besides problems it collects what can only be checked once every action is read: targets
    (`next: route` must name an action), expressions (names must be declared), queue names,
    saved-variable names, and the hosts data actions call (None: not written out).
    """

    root: object
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)
    expressions: list[tuple[str, Expression]] = field(default_factory=list)
    queues: list[tuple[str, str]] = field(default_factory=list)
    hosts: list[tuple[str, str | None]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    def locate(self, path: str, *, at_key: bool = False) -> tuple[int, int] | None:
        """The position of `path`, or of its nearest enclosing field that has one."""
        probe = path
        while True:
            if at_key and probe in self.key_marks:
                return self.key_marks[probe]
            if probe in self.marks:
                return self.marks[probe]
            if not probe:
                return None
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""

    def error(self, path: str, message: str, *, at_key: bool = False) -> None:
        self._add(self.errors, path, message, at_key, Severity.ERROR)

    def warning(self, path: str, message: str, *, at_key: bool = False) -> None:
        self._add(self.warnings, path, message, at_key, Severity.WARNING)

    def _add(self, into: list[Problem], path: str, message: str, at_key: bool,
             severity: Severity) -> None:
        mark = self.locate(path, at_key=at_key)
        line, column = mark if mark else (None, None)
        into.append(Problem(path, message, line, column, severity))


def load(text: str) -> Source:
    """Parse YAML text into a `Source`; raise FlowValidationError if it is not usable YAML."""
    if len(text) > MAX_FLOW_CHARACTERS:
        raise FlowValidationError([Problem("", f"the flow is {len(text)} characters long; "
                                           f"the limit is {MAX_FLOW_CHARACTERS}")])
    try:
        refused = _refuse_structure(text)
        if refused is not None:
            raise FlowValidationError([refused])
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise FlowValidationError([Problem("", f"invalid YAML: {problem}", line, column)]) from exc
    except yaml.YAMLError as exc:
        raise FlowValidationError([Problem("", f"invalid YAML: {exc}")]) from exc
    if node is None:
        raise FlowValidationError([Problem("", "the flow is empty", 1, 1)])
    source = Source(root=None)
    source.root = _plain(node, "", source, yaml.constructor.SafeConstructor())
    return source


def _refuse_structure(text: str) -> Problem | None:
    """Refuse what a flow never needs and a hostile text could use: anchors and aliases (a
    few lines expanding to gigabytes) and nesting deep enough to exhaust the stack."""
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        mark = event.start_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return Problem("", "anchors and aliases (& and *) are not supported", line, column)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                return Problem("", f"the flow is nested more than {MAX_NESTING} levels deep",
                               line, column)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _plain(node: yaml.Node, path: str, source: Source,
           constructor: yaml.constructor.SafeConstructor) -> object:
    source.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _PLAIN_TAGS:
        source.error(path, f"YAML tag {node.tag} is not supported")
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                source.marks[join(path, "?")] = (key_node.start_mark.line + 1,
                                                 key_node.start_mark.column + 1)
                source.error(join(path, "?"), "keys must be plain text")
                continue
            key = key_node.value
            child = join(path, key)
            source.key_marks[child] = (key_node.start_mark.line + 1,
                                       key_node.start_mark.column + 1)
            if key in out:
                source.error(child, f"'{key}' is given twice", at_key=True)
                continue
            out[key] = _plain(value_node, child, source, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, join(path, i), source, constructor)
                for i, item in enumerate(node.value)]
    source.raw[path] = str(node.value)
    if node.tag in (_STR_TAG, "tag:yaml.org,2002:timestamp") or ":" in node.value:
        return str(node.value)  # dates, and YAML 1.1 base-60 numbers (10:00), stay as written
    try:
        return constructor.construct_object(node)
    except (yaml.YAMLError, ValueError):
        return str(node.value)


class Fields:
    """One YAML mapping being read: typed getters that record problems, then unknown keys.

    Each getter returns a usable value even when the field is wrong (a default), so reading
    goes on and every problem is found in one pass; `parse_flow` refuses the flow at the end
    if any error was recorded.
    """

    def __init__(self, source: Source, path: str, value: object, what: str) -> None:
        self.source = source
        self.path = path
        self.what = what
        self.known: list[str] = []
        if value is None:
            value = {}
        if not isinstance(value, dict):
            source.error(path, f"{what} must be a mapping of fields, not {_kind(value)}")
            value = {}
        self.values: dict[str, object] = value

    def _take(self, key: str) -> object:
        self.known.append(key)
        return self.values.get(key)

    def at(self, key: str) -> str:
        return join(self.path, key)

    def missing(self, key: str) -> None:
        self.source.error(self.path, f"{self.what} needs '{key}'")

    def finish(self) -> None:
        """Report keys no getter asked for: a misspelt optional field must not pass silently."""
        for key in self.values:
            if key not in self.known:
                known = ", ".join(dict.fromkeys(self.known)) or "none"
                self.source.error(self.at(key), f"unknown field '{key}' in {self.what}"
                                  f"{suggest(key, self.known)} (fields: {known})", at_key=True)

    def keys(self) -> Iterator[str]:
        """The keys of a mapping whose keys are data (participant data, headers, cases)."""
        for key in self.values:
            self.known.append(key)
            yield key

    def text(self, key: str, *, required: bool = False, default: str = "",
             max_length: int = 2000) -> str:
        value = self._take(key)
        path = self.at(key)
        if value is None:
            if required:
                self.missing(key)
            return default
        if isinstance(value, bool | int | float):
            value = self.source.raw.get(path, str(value))
        if not isinstance(value, str):
            self.source.error(path, f"must be text, not {_kind(value)}")
            return default
        if required and not value.strip():
            self.source.error(path, "must not be empty")
        if len(value) > max_length:
            self.source.error(path, f"is {len(value)} characters long; the limit is "
                              f"{max_length}")
            return default
        return value

    def integer(self, key: str, *, default: int, low: int, high: int) -> int:
        value = self._take(key)
        path = self.at(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            shown = self.source.raw.get(path, str(value))
            self.source.error(path, f"must be a whole number, not '{shown}'")
            return default
        if not low <= value <= high:
            self.source.error(path, f"must be between {low} and {high}, not {value}")
            return default
        return value

    def name(self, key: str, *, required: bool = False) -> str:
        """An identifier: an action id, a schedule name."""
        value = self.text(key, required=required, max_length=64)
        if value and not IDENTIFIER.fullmatch(value):
            self.source.error(self.at(key), f"'{value}' is not a valid name: use letters, "
                              "digits, _ and -, starting with a letter")
            return ""
        return value

    def target(self, key: str, *, required: bool = False) -> str | None:
        """The id of the action to go to next; checked once every action has been read."""
        value = self.name(key, required=required)
        if not value:
            return None
        self.source.targets.append((self.at(key), value))
        return value

    def variable(self, key: str, *, required: bool = False) -> str | None:
        """A `saveAs` name: expressions may then read the saved value by that name."""
        value = self.text(key, required=required, max_length=64)
        if not value:
            return None
        problem = variable_name_problem(value)
        if problem:
            self.source.error(self.at(key), problem)
            return None
        self.source.variables.setdefault(value, self.at(key))
        return value

    def queue(self, key: str, *, required: bool = False) -> str:
        value = self.text(key, required=required, max_length=200).strip()
        if value:
            self.source.queues.append((self.at(key), value))
        return value

    def expression(self, key: str, *, required: bool = False) -> Expression | None:
        text = self.text(key, required=required)
        if not text.strip():
            return None
        try:
            expr = Expression.compile(text)
        except ExpressionSyntaxError as exc:
            self.source.error(self.at(key), str(exc))
            return None
        self.source.expressions.append((self.at(key), expr))
        return expr

    def template(self, key: str, *, required: bool = False, max_length: int = 2000,
                 ) -> Template:
        text = self.text(key, required=required, max_length=max_length)
        return self.compile_template(self.at(key), text) if text else Template.plain("")

    def compile_template(self, path: str, text: str) -> Template:
        try:
            template = Template.compile(text)
        except ExpressionSyntaxError as exc:
            self.source.error(path, str(exc))
            return Template.plain("")
        for expr in template.expressions:
            self.source.expressions.append((path, expr))
        return template

    def choice(self, key: str, options: Collection[str], *, default: str) -> str:
        value = self.text(key, default=default)
        if value.upper() not in options:
            self.source.error(self.at(key), f"'{value}' is not one of {', '.join(options)}")
            return default
        return value.upper()

    def text_list(self, key: str, *, max_items: int = 50) -> list[str]:
        value = self._take(key)
        path = self.at(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.source.error(path, f"must be a list, not {_kind(value)}")
            return []
        if len(value) > max_items:
            self.source.error(path, f"has {len(value)} items; the limit is {max_items}")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, bool | int | float):
                item = self.source.raw.get(join(path, i), str(item))
            if not isinstance(item, str) or not item.strip():
                self.source.error(join(path, i), "must be non-empty text")
                continue
            out.append(item.strip())
        return out

    def mapping(self, key: str, what: str) -> Fields | None:
        value = self._take(key)
        if value is None:
            return None
        return Fields(self.source, self.at(key), value, what)


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "nothing"
    return "text"


def queue_checker(known: Callable[[str], bool] | Collection[str] | None,
                  ) -> Callable[[str], bool] | None:
    """Accept either a set of queue names or a callable that looks one up."""
    if known is None or callable(known):
        return known
    names = frozenset(known)
    return names.__contains__
