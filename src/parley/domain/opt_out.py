"""Opt-out: a customer who texts STOP gets no more texts until they text START.

Carriers (and the law in many places) require it: the keywords below are the US industry's
standard set. A keyword counts only as the whole text (trimmed, any case), so "please stop
by tomorrow" is an ordinary message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from parley.domain.errors import InvalidInput

STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
START_WORDS = ("START", "UNSTOP")
HELP_WORDS = ("HELP",)
ANY_NUMBER = "*"
"""The number of an organisation-wide opt-out."""


class Command(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


class Scope(StrEnum):
    NUMBER = "number"
    """Opting out of the number texted."""
    ORGANIZATION = "organization"
    """Opting out of every number of the organisation."""


@dataclass(frozen=True, slots=True)
class OptOutPolicy:
    scope: Scope = Scope.NUMBER
    stop_words: tuple[str, ...] = STOP_WORDS
    start_words: tuple[str, ...] = START_WORDS
    help_words: tuple[str, ...] = HELP_WORDS
    stop_reply: str = ("You have been unsubscribed and will get no more texts from this "
                       "number. Reply START to subscribe again.")
    start_reply: str = "You are subscribed again. Reply STOP to unsubscribe."
    help_reply: str = "Reply STOP to unsubscribe, START to subscribe again."
    _index: dict[str, Command] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for words, command in ((self.stop_words, Command.STOP),
                               (self.start_words, Command.START),
                               (self.help_words, Command.HELP)):
            for word in words:
                key = word.strip().upper()
                if not key or " " in key:
                    raise InvalidInput(f"opt-out keyword '{word}' must be one word",
                                       field="keywords")
                if key in self._index and self._index[key] is not command:
                    raise InvalidInput(f"keyword '{key}' cannot mean both "
                                       f"{self._index[key].value} and {command.value}",
                                       field="keywords")
                self._index[key] = command
        for reply in (self.stop_reply, self.start_reply, self.help_reply):
            if not reply.strip() or len(reply) > 320:
                raise InvalidInput("opt-out replies must have 1 to 320 characters",
                                   field="replies")

    def command(self, text: str) -> Command | None:
        """The keyword command a whole text is, if any."""
        return self._index.get(text.strip().upper())

    def reply(self, command: Command) -> str:
        return {Command.STOP: self.stop_reply, Command.START: self.start_reply,
                Command.HELP: self.help_reply}[command]

    def number_key(self, org_address: str) -> str:
        """What an opt-out is recorded against: the number, or every number."""
        return ANY_NUMBER if self.scope is Scope.ORGANIZATION else org_address


@dataclass(frozen=True, slots=True)
class OptOut:
    org_id: str
    customer_address: str
    org_address: str
    """The number opted out of, or ANY_NUMBER."""
    keyword: str
    created_ms: int
