"""transferToAcd: put the conversation on a queue; the flow ends here.

    toSupport:
      transferToAcd:
        queue: Support            # a queue name; checked against the organisation's queues
        priority: 0               # optional, higher is offered first
        skills: [Spanish]         # optional routing skills the agent must have
        preferredAgent: "{{ participant.agent }}"   # optional template; empty means none

The queue is a literal name, not a template, so publishing the flow can check it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.domain.flows.actions.base import ActionType, Outcome, Runtime
from parley.domain.flows.events import TransferToAcd
from parley.domain.flows.expressions import Template
from parley.domain.flows.source import Fields

MAX_PRIORITY = 1_000_000


@dataclass(frozen=True, slots=True)
class TransferToAcdAction:
    queue: str
    priority: int
    skills: tuple[str, ...]
    preferred_agent: Template

    @classmethod
    def parse(cls, config: Fields, next_id: str | None) -> TransferToAcdAction:
        queue = config.queue("queue", required=True)
        priority = config.integer("priority", default=0, low=-MAX_PRIORITY, high=MAX_PRIORITY)
        skills = config.text_list("skills", max_items=20)
        if len(set(skills)) != len(skills):
            config.source.error(config.at("skills"), "names a skill more than once")
        agent = config.template("preferredAgent", max_length=200)
        return cls(queue=queue, priority=priority, skills=tuple(skills), preferred_agent=agent)

    def targets(self) -> tuple[str, ...]:
        return ()

    def execute(self, runtime: Runtime) -> Outcome:
        agent = runtime.render(self.preferred_agent).strip() or None
        return Outcome((TransferToAcd(self.queue, self.priority, self.skills, agent),))


ACTION = ActionType("transferToAcd", takes_next=False, parse=TransferToAcdAction.parse,
                    summary="put the conversation on an ACD queue (ends the flow)")
