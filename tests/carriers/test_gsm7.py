"""The fast GSM 03.38 decoder says exactly what aiosmpplib's decoder says, errors included."""

from __future__ import annotations

import pytest
from aiosmpplib.codec import GSM7BitCodec
from hypothesis import given
from hypothesis import strategies as st

from parley.carriers.gsm7 import decode

LIBRARY = GSM7BitCodec()


def library(data: bytes, errors: str) -> tuple[str, int] | type[Exception]:
    try:
        text, consumed = LIBRARY.decode(data, errors)
    except UnicodeDecodeError:
        return UnicodeDecodeError
    return str(text), int(consumed)


def fast(data: bytes, errors: str) -> tuple[str, int] | type[Exception]:
    try:
        return decode(data, errors)
    except UnicodeDecodeError:
        return UnicodeDecodeError


@pytest.mark.parametrize(("data", "text"), [
    pytest.param(b"Hello", "Hello", id="ascii-letters"),
    pytest.param(b"\x00\x01\x02\x03", "@£$¥", id="gsm-not-ascii"),
    pytest.param(b"\x40\x5b\x5c\x5d\x5e\x5f\x60", "¡ÄÖÑÜ§¿", id="gsm-letters"),
    pytest.param(b"\x7b\x7c\x7d\x7e\x7f", "äöñüà", id="gsm-lower"),
    pytest.param(b"price \x1be5", "price €5", id="escape-euro"),
    pytest.param(b"\x1b(\x1b)\x1b<\x1b>", "{}[]", id="escape-brackets"),
    pytest.param(b"", "", id="empty"),
])
def test_examples(data: bytes, text: str) -> None:
    assert decode(data) == (text, len(data))
    assert fast(data, "strict") == library(data, "strict")


@pytest.mark.parametrize("errors", ["strict", "replace", "ignore"])
@pytest.mark.parametrize("data", [b"ends in escape \x1b", b"high \x80 byte", b"\xff"],
                         ids=["trailing-escape", "high-byte", "only-high"])
def test_bad_input_is_the_librarys_to_answer(data: bytes, errors: str) -> None:
    assert fast(data, errors) == library(data, errors)


@given(st.binary(max_size=300), st.sampled_from(["strict", "replace", "ignore"]))
def test_any_bytes_decode_as_the_library_decodes_them(data: bytes, errors: str) -> None:
    assert fast(data, errors) == library(data, errors)


@given(st.lists(st.integers(0, 0x7F).filter(lambda b: b != 0x1B), max_size=300))
def test_any_text_without_escapes(codes: list[int]) -> None:
    data = bytes(codes)
    assert fast(data, "strict") == library(data, "strict")
