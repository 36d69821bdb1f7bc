"""SMS text rules: GSM-7 or UCS-2, segments, and the per-send limit.

Carriers bill and throttle per segment, so the count must be the one the network will see:
GSM-7 counts septets (extension characters take two, and an escape pair never straddles a
segment boundary), UCS-2 counts UTF-16 code units (a surrogate pair never straddles one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from parley.domain.errors import InvalidInput

MAX_SEND_CHARACTERS = 765
"""Genesys' limit for one SMS send (AdditionalMessage.textBody)."""

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


SINGLE_LIMIT = {Encoding.GSM7: 160, Encoding.UCS2: 70}
PART_LIMIT = {Encoding.GSM7: 153, Encoding.UCS2: 67}


@dataclass(frozen=True, slots=True)
class TextInfo:
    encoding: Encoding
    units: int
    """Septets for GSM-7, UTF-16 code units for UCS-2."""
    segment_count: int
    characters: int


_NON_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
_EXTENSION = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
"""Characters outside the Basic Multilingual Plane: a UTF-16 surrogate pair each."""


def encoding_of(text: str) -> Encoding:
    return Encoding.UCS2 if _NON_GSM7.search(text) else Encoding.GSM7


def _unit_cost(ch: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def split(text: str) -> list[str]:
    """Split `text` into the parts a carrier will send, never cutting a character in two."""
    encoding = encoding_of(text)
    costs = [_unit_cost(ch, encoding) for ch in text]
    if sum(costs) <= SINGLE_LIMIT[encoding]:
        return [text] if text else []
    limit = PART_LIMIT[encoding]
    parts: list[str] = []
    start = used = 0
    for i, cost in enumerate(costs):
        if used + cost > limit:
            parts.append(text[start:i])
            start, used = i, 0
        used += cost
    parts.append(text[start:])
    return parts


def analyse(text: str) -> TextInfo:
    """Measure a text. Regex scans, not a Python loop per character: this runs per send."""
    encoding = encoding_of(text)
    wide = len((_EXTENSION if encoding is Encoding.GSM7 else _ASTRAL).findall(text))
    units = len(text) + wide
    if units <= SINGLE_LIMIT[encoding]:
        count = int(bool(text))
    elif wide:
        count = len(split(text))  # a two-unit character must not straddle two parts
    else:
        count = -(-units // PART_LIMIT[encoding])
    return TextInfo(encoding=encoding, units=units, segment_count=count, characters=len(text))


def check_sendable(text: object, field: str = "textBody") -> TextInfo:
    """Validate a text for sending and return its analysis."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{field} is required and must not be empty", field=field)
    if "\x00" in text:
        raise InvalidInput(f"{field} contains a NUL character (U+0000), which an SMS cannot "
                           "carry", field=field)
    if len(text) > MAX_SEND_CHARACTERS:
        raise InvalidInput(
            f"{field} has {len(text)} characters; an SMS send allows at most "
            f"{MAX_SEND_CHARACTERS}", field=field)
    return analyse(text)
