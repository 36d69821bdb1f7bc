"""setParticipantData: set attributes on the customer participant, then go on.

    billing:
      setParticipantData: {topic: billing, lastText: "{{ message.text }}"}
      next: toSupport

Each value is a template and every value is text, as in Genesys participant data; numbers
and true/false in the YAML are kept as written. Later expressions read the new values as
`participant.<key>`, and the agent sees them with the conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.domain.flows.actions.base import ActionType, Outcome, Runtime
from parley.domain.flows.events import SetParticipantData
from parley.domain.flows.expressions import Template
from parley.domain.flows.source import Fields

KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")
MAX_KEYS = 50
MAX_VALUE = 2000


@dataclass(frozen=True, slots=True)
class SetParticipantDataAction:
    values: tuple[tuple[str, Template], ...]
    next: str

    @classmethod
    def parse(cls, config: Fields, next_id: str | None) -> SetParticipantDataAction:
        values: list[tuple[str, Template]] = []
        for key in list(config.keys()):
            path = config.at(key)
            if not KEY.fullmatch(key):
                config.source.error(path, f"'{key}' is not a valid participant data key: use "
                                    "letters, digits, _ . and -, starting with a letter",
                                    at_key=True)
                continue
            raw = config.values[key]
            if isinstance(raw, bool | int | float):
                raw = config.source.raw.get(path, str(raw))
            if raw is None:
                raw = ""
            if not isinstance(raw, str):
                config.source.error(path, "must be text (a template)")
                continue
            if len(raw) > MAX_VALUE:
                config.source.error(path, f"is {len(raw)} characters long; the limit is "
                                    f"{MAX_VALUE}")
                continue
            values.append((key, config.compile_template(path, raw)))
        if not config.values:
            config.source.error(config.path, "setParticipantData needs at least one key")
        elif len(config.values) > MAX_KEYS:
            config.source.error(config.path, f"sets {len(config.values)} keys; the limit is "
                                f"{MAX_KEYS}")
        return cls(values=tuple(values), next=next_id or "")

    def targets(self) -> tuple[str, ...]:
        return (self.next,)

    def execute(self, runtime: Runtime) -> Outcome:
        rendered = [(key, runtime.render(template)) for key, template in self.values]
        for key, value in rendered:
            runtime.set_participant_data(key, value)
        return Outcome(tuple(SetParticipantData(k, v) for k, v in rendered), next=self.next)


ACTION = ActionType("setParticipantData", takes_next=True,
                    parse=SetParticipantDataAction.parse,
                    summary="set participant data (key: value template) on the customer")
