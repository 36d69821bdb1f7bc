"""ACD queues: who may handle a queue's conversations, which number it texts from, and what
its wrap-up prompt asks of an agent after a conversation (after-call work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from parley.domain.errors import InvalidInput

DEFAULT_ALERTING_TIMEOUT_SECONDS = 30


class WrapupPrompt(StrEnum):
    MANDATORY = "MANDATORY"
    OPTIONAL = "OPTIONAL"
    MANDATORY_TIMEOUT = "MANDATORY_TIMEOUT"
    MANDATORY_FORCED_TIMEOUT = "MANDATORY_FORCED_TIMEOUT"
    AGENT_REQUESTED = "AGENT_REQUESTED"


MANDATORY_PROMPTS = frozenset({WrapupPrompt.MANDATORY, WrapupPrompt.MANDATORY_TIMEOUT,
                               WrapupPrompt.MANDATORY_FORCED_TIMEOUT})
"""An agent who leaves without a wrap-up code owes one: they are in after-call work
(`wrapupRequired`), and the conversation still counts against their capacity."""

TIMED_PROMPTS = frozenset({WrapupPrompt.MANDATORY_TIMEOUT,
                           WrapupPrompt.MANDATORY_FORCED_TIMEOUT})
"""After-call work ends by itself when the queue's timeout passes."""

DEFAULT_ACW_TIMEOUT_MS = 30_000
"""The timeout of a timed prompt on a queue that sets no `acwSettings.timeoutMs`."""


class SkillEvaluationMethod(StrEnum):
    NONE = "NONE"
    BEST = "BEST"
    ALL = "ALL"


@dataclass(slots=True)
class Queue:
    id: str
    org_id: str
    name: str
    description: str | None = None
    sms_number_id: str | None = None
    alerting_timeout_seconds: int = DEFAULT_ALERTING_TIMEOUT_SECONDS
    enable_auto_answer: bool = False
    service_level_percentage: float = 0.8
    service_level_duration_ms: int = 20_000
    wrapup_prompt: WrapupPrompt = WrapupPrompt.OPTIONAL
    wrapup_timeout_ms: int | None = None
    skill_evaluation_method: SkillEvaluationMethod = SkillEvaluationMethod.ALL
    version: int = 1
    created_ms: int = 0
    modified_ms: int = 0
    created_by: str | None = None
    modified_by: str | None = None
    member_count: int = 0
    joined_member_count: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def acw_timeout_ms(self) -> int | None:
        """How long after-call work may last on this queue; None when it does not time out."""
        if self.wrapup_prompt not in TIMED_PROMPTS:
            return None
        return self.wrapup_timeout_ms or DEFAULT_ACW_TIMEOUT_MS

    def validate(self) -> None:
        if not self.name or not self.name.strip():
            raise InvalidInput("queue name is required", field="name")
        if len(self.name) > 200:
            raise InvalidInput("queue name is longer than 200 characters", field="name")
        if not 7 <= self.alerting_timeout_seconds <= 86_400:
            raise InvalidInput(
                "mediaSettings.message.alertingTimeoutSeconds must be between 7 and 86400",
                field="mediaSettings.message.alertingTimeoutSeconds")
        if not 0.0 <= self.service_level_percentage <= 1.0:
            raise InvalidInput("mediaSettings.message.serviceLevel.percentage must be 0..1",
                               field="mediaSettings.message.serviceLevel.percentage")
        if not 1 <= self.service_level_duration_ms <= 86_400_000:
            raise InvalidInput(
                "mediaSettings.message.serviceLevel.durationMs must be between 1 and 86400000",
                field="mediaSettings.message.serviceLevel.durationMs")
        if self.wrapup_timeout_ms is not None and not 1_000 <= self.wrapup_timeout_ms <= 3_600_000:
            raise InvalidInput("acwSettings.timeoutMs must be between 1000 and 3600000",
                               field="acwSettings.timeoutMs")


@dataclass(frozen=True, slots=True)
class QueueMember:
    queue_id: str
    user_id: str
    joined: bool = True
