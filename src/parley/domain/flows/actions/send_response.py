"""sendResponse: text the customer, then go on.

    greet:
      sendResponse: {text: "Hi! Thanks for texting {{ flow.name }}."}
      next: hours

`text` is a template. A text that renders empty (say, "{{ participant.greeting }}" when that
is not set) is not sent: an empty SMS is never what the author meant.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.domain.flows.actions.base import ActionType, Outcome, Runtime
from parley.domain.flows.events import SendResponse
from parley.domain.flows.expressions import Template
from parley.domain.flows.source import Fields

MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class SendResponseAction:
    text: Template
    next: str

    @classmethod
    def parse(cls, config: Fields, next_id: str | None) -> SendResponseAction:
        return cls(text=config.template("text", required=True, max_length=MAX_TEXT),
                   next=next_id or "")

    def targets(self) -> tuple[str, ...]:
        return (self.next,)

    def execute(self, runtime: Runtime) -> Outcome:
        text = runtime.render(self.text)
        events = (SendResponse(text),) if text.strip() else ()
        return Outcome(events, next=self.next)


ACTION = ActionType("sendResponse", takes_next=True, parse=SendResponseAction.parse,
                    summary="send a text to the customer")
