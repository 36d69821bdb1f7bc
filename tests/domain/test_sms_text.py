"""SMS text rules: GSM-7 or UCS-2, how many segments the network sees, and the send limit."""

from __future__ import annotations

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.sms_text import (
    MAX_SEND_CHARACTERS,
    Encoding,
    analyse,
    check_sendable,
    encoding_of,
    split,
)

# Reference costs computed independently of the module under test (GSM 03.38).
GSM_EXTENSION = set("\f^{}\\[~]|€")


def septets(text: str) -> int:
    return sum(2 if ch in GSM_EXTENSION else 1 for ch in text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


CYRILLIC = "ж"
EMOJI = "\N{GRINNING FACE}"


@pytest.mark.parametrize(("text", "encoding", "units"), [
    pytest.param("Hello, world!", Encoding.GSM7, 13, id="plain-ascii"),
    pytest.param("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà", Encoding.GSM7, 41,
                 id="gsm-basic-accents-and-greek"),
    pytest.param("5€", Encoding.GSM7, 3, id="euro-is-extension-2-septets"),
    pytest.param("[ok]", Encoding.GSM7, 6, id="square-brackets-2-septets-each"),
    pytest.param("{^~|\\}", Encoding.GSM7, 12, id="all-other-extension-chars"),
    pytest.param("line\nbreak\r", Encoding.GSM7, 11, id="cr-lf-are-basic"),
    pytest.param("Olá", Encoding.UCS2, 3, id="a-acute-not-in-gsm-forces-ucs2"),
    pytest.param("ça", Encoding.UCS2, 2, id="lowercase-c-cedilla-forces-ucs2"),
    pytest.param("`", Encoding.UCS2, 1, id="backtick-forces-ucs2"),
    pytest.param(f"ok {EMOJI}", Encoding.UCS2, 5, id="emoji-is-a-surrogate-pair"),
    pytest.param("Привет", Encoding.UCS2, 6, id="cyrillic"),
    pytest.param("€" * 3 + "é", Encoding.GSM7, 7, id="extension-plus-gsm-accent-stays-gsm"),
    pytest.param("€" + EMOJI, Encoding.UCS2, 3, id="extension-char-costs-1-in-ucs2"),
])
def test_encoding_and_units(text: str, encoding: Encoding, units: int) -> None:
    info = analyse(text)
    assert encoding_of(text) is encoding
    assert info.encoding is encoding
    assert info.units == units
    assert info.characters == len(text)
    expected = septets(text) if encoding is Encoding.GSM7 else utf16_units(text)
    assert units == expected


@pytest.mark.parametrize(("text", "segments"), [
    pytest.param("", 0, id="empty-0"),
    pytest.param("a", 1, id="gsm-1"),
    pytest.param("a" * 160, 1, id="gsm-160"),
    pytest.param("a" * 161, 2, id="gsm-161"),
    pytest.param("a" * 306, 2, id="gsm-306"),
    pytest.param("a" * 307, 3, id="gsm-307"),
    pytest.param("€" * 80, 1, id="gsm-80-euros-160-septets"),
    pytest.param("€" * 81, 2, id="gsm-81-euros-162-septets"),
    pytest.param("a" * 159 + "€", 2, id="gsm-escape-pair-tips-over-160"),
    pytest.param("a" * 304 + "€", 2, id="gsm-306-septets-ending-in-escape-pair"),
    pytest.param("a" * 305 + "€", 3, id="gsm-307-septets-ending-in-escape-pair"),
    pytest.param(CYRILLIC * 70, 1, id="ucs2-70"),
    pytest.param(CYRILLIC * 71, 2, id="ucs2-71"),
    pytest.param(CYRILLIC * 134, 2, id="ucs2-134"),
    pytest.param(CYRILLIC * 135, 3, id="ucs2-135"),
    pytest.param(EMOJI * 35, 1, id="ucs2-35-emoji-70-units"),
    pytest.param(EMOJI * 36, 2, id="ucs2-36-emoji-72-units"),
    pytest.param(CYRILLIC * 132 + EMOJI, 2, id="ucs2-134-units-ending-in-surrogate-pair"),
    pytest.param(CYRILLIC * 133 + EMOJI, 3, id="ucs2-135-units-ending-in-surrogate-pair"),
])
def test_segment_count_at_the_boundaries(text: str, segments: int) -> None:
    assert analyse(text).segment_count == segments
    assert len(split(text)) == segments


@pytest.mark.parametrize(("text", "first_part"), [
    pytest.param("a" * 152 + "€" + "b" * 10, "a" * 152, id="gsm-escape-pair-moves-to-next-part"),
    pytest.param("a" * 153 + "€" + "b" * 10, "a" * 153, id="gsm-escape-pair-starts-next-part"),
    pytest.param(CYRILLIC * 66 + EMOJI + "b" * 10, CYRILLIC * 66,
                 id="ucs2-surrogate-pair-moves-to-next-part"),
    pytest.param(CYRILLIC * 67 + EMOJI + "b" * 10, CYRILLIC * 67,
                 id="ucs2-surrogate-pair-starts-next-part"),
])
def test_split_never_cuts_an_escape_pair_or_surrogate_pair(text: str, first_part: str) -> None:
    parts = split(text)
    assert parts[0] == first_part
    assert "".join(parts) == text


LONG_TEXTS = [
    pytest.param("The quick brown fox [jumps] over the lazy dog for €5. " * 12, id="gsm-mixed"),
    pytest.param("€" * 400, id="gsm-only-escape-pairs"),
    pytest.param(("Привет " + EMOJI + " ") * 40, id="ucs2-mixed-with-emoji"),
    pytest.param(EMOJI * 200, id="ucs2-only-surrogate-pairs"),
    pytest.param("x" * 700 + "é", id="gsm-long"),
]


@pytest.mark.parametrize("text", LONG_TEXTS)
def test_split_parts_fit_and_rejoin_to_the_original(text: str) -> None:
    parts = split(text)
    encoding = encoding_of(text)
    assert "".join(parts) == text
    assert len(parts) == analyse(text).segment_count > 1
    for part in parts:
        assert part
        if encoding is Encoding.GSM7:
            assert septets(part) <= 153
        else:
            assert utf16_units(part) <= 67
            # A lone surrogate would make the part unencodable on its own.
            part.encode("utf-16-le")


def test_split_short_text_is_one_part() -> None:
    assert split("hi €") == ["hi €"]
    assert split("") == []


@pytest.mark.parametrize("text", [
    pytest.param("", id="empty"),
    pytest.param("   ", id="spaces"),
    pytest.param("\n\t ", id="whitespace"),
    pytest.param(None, id="none"),
    pytest.param(42, id="integer"),
    pytest.param(["hi"], id="list"),
])
def test_check_sendable_refuses_empty_or_non_string(text: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_sendable(text)
    assert caught.value.field == "textBody"
    assert caught.value.message == "textBody is required and must not be empty"


def test_check_sendable_accepts_the_limit() -> None:
    assert MAX_SEND_CHARACTERS == 765
    info = check_sendable("a" * 765)
    assert info.characters == 765
    assert info.segment_count == 5


def test_check_sendable_refuses_one_over_the_limit() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_sendable("a" * 766)
    assert caught.value.field == "textBody"
    assert "textBody has 766 characters" in caught.value.message
    assert "at most 765" in caught.value.message


def test_check_sendable_counts_characters_not_units() -> None:
    info = check_sendable(EMOJI * 765)
    assert info.characters == 765
    assert info.units == 1530


def test_check_sendable_names_the_given_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_sendable("", field="body")
    assert caught.value.field == "body"
    assert caught.value.message.startswith("body ")
