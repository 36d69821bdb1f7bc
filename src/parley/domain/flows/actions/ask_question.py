"""askQuestion: text the customer a question and wait for the answer.

    ask:
      askQuestion:
        text: "Reply 1 for billing, 2 for anything else"
        saveAs: choice          # later expressions read the answer as `choice`
        timeoutSeconds: 300     # default 300, at most 7 days
        timeout: toSupport      # optional: where to go when no answer comes
      next: route

The run pauses (WaitForInput) until the service resumes it with the customer's next text
(Reply) or with NoReply once timeoutSeconds have passed. The answer is saved trimmed. With no
`timeout` target, a missing answer goes on to `next` with the saved value unset, so a switch
on it takes its default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from parley.domain.flows.actions.base import ActionType, Outcome, Runtime
from parley.domain.flows.events import SendResponse, WaitForInput
from parley.domain.flows.expressions import MAX_TEXT_LENGTH, Template
from parley.domain.flows.runs import Reply, ResumeInput, RunStatus
from parley.domain.flows.source import Fields

DEFAULT_TIMEOUT = 300
MAX_TIMEOUT = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class AskQuestionAction:
    waits_for: ClassVar[RunStatus] = RunStatus.WAITING_FOR_INPUT
    text: Template
    save_as: str
    timeout_seconds: int
    timeout: str | None
    next: str

    @classmethod
    def parse(cls, config: Fields, next_id: str | None) -> AskQuestionAction:
        return cls(text=config.template("text", required=True),
                   save_as=config.variable("saveAs", required=True) or "",
                   timeout_seconds=config.integer("timeoutSeconds", default=DEFAULT_TIMEOUT,
                                                  low=1, high=MAX_TIMEOUT),
                   timeout=config.target("timeout"),
                   next=next_id or "")

    def targets(self) -> tuple[str, ...]:
        return (self.next,) if self.timeout is None else (self.next, self.timeout)

    def execute(self, runtime: Runtime) -> Outcome:
        text = runtime.render(self.text)
        asked = (SendResponse(text),) if text.strip() else ()
        return Outcome((*asked, WaitForInput(self.timeout_seconds)), wait=self.waits_for)

    def resume(self, runtime: Runtime, given: ResumeInput) -> Outcome:
        if isinstance(given, Reply):  # else NoReply: the interpreter matched it to the wait
            runtime.save(self.save_as, given.text.strip()[:MAX_TEXT_LENGTH])
            return Outcome(next=self.next)
        if self.timeout is not None:
            return Outcome(next=self.timeout)
        runtime.save(self.save_as, None)
        return Outcome(next=self.next)


ACTION = ActionType("askQuestion", takes_next=True, parse=AskQuestionAction.parse,
                    summary="ask the customer a question and wait for the answer")
