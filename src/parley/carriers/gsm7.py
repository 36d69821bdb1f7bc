"""A GSM 03.38 decoder for mobile-originated texts that does in C what the library does in a
Python loop.

aiosmpplib's GSM7BitCodec.decode appends one character at a time; on the inbound hot path it
was the single costliest step of reading a deliver_sm. The default alphabet is a one-to-one
table for every byte but the escape (0x1B), so a text without escapes is a `str.translate`
of its bytes. Texts with an escape (an extension character such as € or [), or a byte the
alphabet does not have, go to the library's decoder, whose answers - and errors - are the
reference: the table is built from it, and a test checks the two agree on any input.
"""

from __future__ import annotations

from codecs import CodecInfo

from aiosmpplib.codec import GSM7BitCodec

_LIBRARY = GSM7BitCodec()
_ESCAPE = 0x1B


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for byte in range(128):
        if byte == _ESCAPE:
            continue
        table[byte] = _LIBRARY.decode(bytes((byte,)))[0]
    return table


_TABLE = _table()


def decode(data: bytes, errors: str = "strict", /) -> tuple[str, int]:
    if _ESCAPE in data or (data and max(data) >= 0x80):
        text, consumed = _LIBRARY.decode(data, errors)
        return str(text), int(consumed)
    return data.decode("latin-1").translate(_TABLE), len(data)


CODECS: dict[str, CodecInfo] = {
    # (typeshed wants a decoder of any buffer; the library only ever passes bytes)
    "gsm0338": CodecInfo(name="gsm0338", encode=_LIBRARY.encode,
                         decode=decode),  # type: ignore[arg-type]
}
"""For DeliverSm.from_pdu's `custom_codecs`: the fast decoder under the library's own name."""
