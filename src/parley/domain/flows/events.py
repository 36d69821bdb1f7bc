"""What a flow asks the service to do: the events of one interpreter step, in order.

The interpreter performs no I/O. It says "send this text", "set this participant attribute",
"call this URL and resume me with the answer", "wait for the customer", "put the conversation
on this queue"; the service carries each out, in order, inside its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class SendResponse:
    """Text the customer, from the number they texted."""

    type: ClassVar[str] = "sendResponse"
    text: str

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "text": self.text}


@dataclass(frozen=True, slots=True)
class SetParticipantData:
    """Set one attribute on the customer participant (Genesys participant data)."""

    type: ClassVar[str] = "setParticipantData"
    key: str
    value: str

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "key": self.key, "value": self.value}


@dataclass(frozen=True, slots=True)
class CallData:
    """Make this HTTP request, then resume the run with DataResult or DataFailure.

    The service enforces `timeout_seconds` and decides which hosts a flow may call.
    """

    type: ClassVar[str] = "callData"
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    timeout_seconds: int = 10

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "method": self.method, "url": self.url,
                "headers": dict(self.headers), "body": self.body,
                "timeoutSeconds": self.timeout_seconds}


@dataclass(frozen=True, slots=True)
class WaitForInput:
    """The run is paused until the customer's next text (Reply) or this many seconds
    pass (NoReply)."""

    type: ClassVar[str] = "waitForInput"
    timeout_seconds: int

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "timeoutSeconds": self.timeout_seconds}


@dataclass(frozen=True, slots=True)
class TransferToAcd:
    """Put the conversation on a queue; the flow has ended."""

    type: ClassVar[str] = "transferToAcd"
    queue: str
    priority: int = 0
    skills: tuple[str, ...] = ()
    preferred_agent: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "queue": self.queue, "priority": self.priority,
                "skills": list(self.skills), "preferredAgent": self.preferred_agent}


@dataclass(frozen=True, slots=True)
class Disconnect:
    """End the conversation without an agent; the flow has ended."""

    type: ClassVar[str] = "disconnect"

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type}


@dataclass(frozen=True, slots=True)
class FlowError:
    """The flow failed (a bad value, a failed data call with no failure path, a loop); a
    TransferToAcd to the flow's fallback queue always follows it."""

    type: ClassVar[str] = "flowError"
    reason: str
    action: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "reason": self.reason, "action": self.action}


Event = (SendResponse | SetParticipantData | CallData | WaitForInput | TransferToAcd
         | Disconnect | FlowError)
