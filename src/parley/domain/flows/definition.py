"""A flow definition, and reading one from YAML with every problem reported at once.

    name: Support intake
    type: inboundshortmessage
    fallbackQueue: Support
    timezone: America/Chicago          # optional: the zone of `now`
    schedules: {businessHours: {timezone: America/Chicago, open: {mon-fri: "09:00-17:00"}}}
    start: greet
    actions:
      greet:
        sendResponse: {text: "Hi!"}
        next: toSupport
      toSupport:
        transferToAcd: {queue: Support}

Each action is a mapping with exactly one action-type key (its configuration), `next` for
the action types that go on (sendResponse, setParticipantData, askQuestion, callData), and
an optional `description`. decision and switch name their branches inside their
configuration; transferToAcd and disconnect end the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parley.domain.flows.actions import ACTION_TYPES
from parley.domain.flows.actions.base import ActionSpec
from parley.domain.flows.actions.transfer_to_acd import TransferToAcdAction
from parley.domain.flows.data_hosts import DataHostRules
from parley.domain.flows.schedules import Schedule, read_schedule
from parley.domain.flows.source import (
    IDENTIFIER,
    Fields,
    FlowValidationError,
    Problem,
    Source,
    join,
    load,
    queue_checker,
    suggest,
)

FLOW_TYPE = "inboundshortmessage"
"""Genesys' Architect type for inbound message flows; the only type Parley runs."""
MAX_ACTIONS = 500
_ACTION_META = ("next", "description")


@dataclass(frozen=True, slots=True)
class FlowAction:
    id: str
    type: str
    spec: ActionSpec
    line: int | None = None


@dataclass(frozen=True, slots=True)
class FlowDefinition:
    name: str
    description: str
    fallback_queue: str
    """Where a conversation goes when the flow fails or loops."""
    timezone: str
    """The zone `now` is read in: `timezone`, else the first schedule's, else UTC."""
    start: str
    actions: Mapping[str, FlowAction]
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    variables: frozenset[str] = frozenset()
    """Names saved with saveAs; expressions may read them."""
    warnings: tuple[Problem, ...] = ()
    type: str = FLOW_TYPE

    @property
    def queues(self) -> frozenset[str]:
        """Every queue this flow can transfer to, the fallback included."""
        names = {a.spec.queue for a in self.actions.values()
                 if isinstance(a.spec, TransferToAcdAction)}
        return frozenset({self.fallback_queue, *names})


def parse_flow(text: str, *,
               known_queues: Callable[[str], bool] | Collection[str] | None = None,
               known_schedules: Collection[str] = (),
               data_hosts: DataHostRules | None = None) -> FlowDefinition:
    """Read and validate a flow; raise FlowValidationError listing every error found.

    `known_queues` (a set of names, or a lookup) checks that each transfer, and the fallback,
    names a queue of the organisation; None skips the check. `known_schedules` names the
    organisation's schedules that isOpen() may use besides the flow's own. `data_hosts`
    checks the hosts data actions call as written (at save and publish); None skips it, for
    versions already stored, which the HTTP adapter checks again when it connects.
    """
    source = load(text)
    top = Fields(source, "", source.root, "a flow")
    name = top.text("name", required=True, max_length=200).strip()
    description = top.text("description", max_length=2000)
    kind = top.text("type", required=True)
    if kind and kind != FLOW_TYPE:
        source.error("type", f"'{kind}' flows are not supported; Parley runs {FLOW_TYPE} "
                     "(inbound message) flows")
    fallback = top.queue("fallbackQueue", required=True)
    timezone = top.text("timezone", max_length=64).strip()
    schedules = _schedules(top)
    start = top.target("start", required=True) or ""
    actions = _actions(top)
    top.finish()

    if timezone:
        timezone = _check_zone(source, timezone)
    elif schedules:
        timezone = next(iter(schedules.values())).timezone
    else:
        timezone = "UTC"
    _check_references(source, _declared(source.root, "actions"),
                      {*_declared(source.root, "schedules"), *known_schedules}, known_queues)
    _check_reachable(source, actions, start)
    if data_hosts is not None:
        _check_hosts(source, data_hosts)
    if source.errors:
        errors = sorted(source.errors, key=lambda p: (p.line or 0, p.column or 0))
        raise FlowValidationError(errors, source.warnings)
    return FlowDefinition(name=name, description=description, fallback_queue=fallback,
                          timezone=timezone, start=start, actions=actions,
                          schedules=schedules, variables=frozenset(source.variables),
                          warnings=tuple(source.warnings))


def _check_zone(source: Source, timezone: str) -> str:
    try:
        return ZoneInfo(timezone).key
    except (ZoneInfoNotFoundError, ValueError, OSError):
        source.error("timezone", f"unknown time zone '{timezone}'; use an IANA name such as "
                     "America/Chicago")
        return "UTC"


def _schedules(top: Fields) -> dict[str, Schedule]:
    table = top.mapping("schedules", "schedules")
    out: dict[str, Schedule] = {}
    if table is None:
        return out
    for name in list(table.keys()):
        path = table.at(name)
        if not IDENTIFIER.fullmatch(name):
            top.source.error(path, f"'{name}' is not a valid schedule name", at_key=True)
            continue
        def report(sub: str, message: str, at: str = path) -> None:
            top.source.error(f"{at}.{sub}" if sub else at, message)

        schedule = read_schedule(name, table.values[name], report)
        if schedule is not None:
            out[name] = schedule
    return out


def _actions(top: Fields) -> dict[str, FlowAction]:
    source = top.source
    table = top.mapping("actions", "actions")
    out: dict[str, FlowAction] = {}
    if table is None:
        top.missing("actions")
        return out
    if not table.values:
        source.error("actions", "a flow needs at least one action")
    if len(table.values) > MAX_ACTIONS:
        source.error("actions", f"has {len(table.values)} actions; the limit is {MAX_ACTIONS}")
        return out
    for action_id in list(table.keys()):
        path = table.at(action_id)
        if not IDENTIFIER.fullmatch(action_id):
            source.error(path, f"'{action_id}' is not a valid action name: use letters, "
                         "digits, _ and -, starting with a letter", at_key=True)
            continue
        action = _action(Fields(source, path, table.values[action_id],
                                f"action '{action_id}'"), action_id)
        if action is not None:
            out[action_id] = action
    return out


def _action(fields: Fields, action_id: str) -> FlowAction | None:
    source = fields.source
    kinds = [k for k in fields.values if k not in _ACTION_META]
    known = [k for k in kinds if k in ACTION_TYPES]
    for key in kinds:
        if key not in ACTION_TYPES:
            source.error(fields.at(key), f"unknown action type '{key}'"
                         f"{suggest(key, ACTION_TYPES)} (types: {', '.join(ACTION_TYPES)})",
                         at_key=True)
    if len(known) > 1:
        source.error(fields.path, f"action '{action_id}' has {len(known)} action types ("
                     f"{', '.join(known)}); give each its own action")
        return None
    if not known:
        if not kinds:
            source.error(fields.path, f"action '{action_id}' needs an action type: one of "
                         f"{', '.join(ACTION_TYPES)}")
        return None
    key = known[0]
    kind = ACTION_TYPES[key]
    fields.known.extend(kinds)
    fields.text("description", max_length=2000)
    if kind.takes_next:
        next_id = fields.target("next", required=True)
    else:
        next_id = None
        fields.known.append("next")
        if "next" in fields.values:
            source.error(fields.at("next"), f"{key} does not take 'next': "
                         f"{_ends_how(key)}", at_key=True)
    config = Fields(source, fields.at(key), fields.values[key], key)
    spec = kind.parse(config, next_id)
    config.finish()
    fields.finish()
    mark = source.locate(fields.path, at_key=True)
    return FlowAction(action_id, key, spec, mark[0] if mark else None)


def _ends_how(key: str) -> str:
    if key in ("decision", "switch"):
        return "its branches say where to go"
    return "it ends the flow"


def _declared(root: object, section: str) -> set[str]:
    """Every action or schedule name written, including those whose content is wrong: a
    reference to one of them is not the mistake."""
    table = root.get(section) if isinstance(root, dict) else None
    return set(table) if isinstance(table, dict) else set()


def _check_references(source: Source, actions: Collection[str],
                      schedules: Collection[str],
                      known_queues: Callable[[str], bool] | Collection[str] | None) -> None:
    for path, target in source.targets:
        if target not in actions:
            source.error(path, f"there is no action '{target}'{suggest(target, actions)}")
    for path, expr in source.expressions:
        for problem in expr.names_problems(source.variables, schedules):
            source.error(path, problem)
    exists = queue_checker(known_queues)
    if exists is None:
        return
    for path, queue in source.queues:
        if not exists(queue):
            source.error(path, f"there is no queue named '{queue}'")


def _check_hosts(source: Source, rules: DataHostRules) -> None:
    for path, host in source.hosts:
        if host is None:
            source.error(path, "the host must be written out (https://host/...), not come "
                         "from an expression")
            continue
        problem = rules.literal_problem(host)
        if problem is not None:
            source.error(path, problem)


def _check_reachable(source: Source, actions: Mapping[str, FlowAction], start: str) -> None:
    """Unreachable actions are warnings: a half-built flow is normal while editing."""
    seen: set[str] = set()
    todo = [start] if start in actions else []
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(t for t in actions[current].spec.targets() if t in actions)
    if start in actions:
        for action_id in actions:
            if action_id not in seen:
                source.warning(join("actions", action_id), f"action '{action_id}' is never "
                               f"reached from start '{start}'", at_key=True)
