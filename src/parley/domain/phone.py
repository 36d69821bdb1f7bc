"""Phone numbers: everything Parley stores or sends to is E.164."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from parley.domain.errors import InvalidInput

if hasattr(phonenumbers, "enable_pattern_cache"):
    # Keep libphonenumber's compiled patterns: numbers from many regions otherwise push them
    # out of the re module's 512-entry cache, and recompiling was 5% of handling a new text.
    phonenumbers.enable_pattern_cache()
# Load every region's metadata now (25 ms, 1.5 MB) rather than by import on first use, which
# under load stalled the event loop on the import lock (6% of a busy inbound second).
phonenumbers.PhoneMetadata.load_all()


@lru_cache(maxsize=65_536)
def _check(text: str) -> tuple[str | None, str | None]:
    """(e164, None) for a valid E.164 number, else (suggestion or None, problem).

    Cached: libphonenumber takes ~30 µs a number, and the send path sees the same senders
    and customers again and again.
    """
    if not text.startswith("+"):
        return None, "not-e164"
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None, "invalid"
    if not phonenumbers.is_valid_number(number):
        return None, "invalid"
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return (e164, None) if e164 == text else (e164, "suggest")


def parse_e164(raw: object, field: str) -> str:
    """Return `raw` as a valid E.164 number, or raise a message naming the field and the value.

    Genesys requires E.164 (`+` country code and number) on the wire; national formats are
    refused rather than guessed, because guessing the country sends texts to the wrong person.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{field} is required: an E.164 phone number such as +13125550123",
                           field=field)
    text = raw.strip()
    e164, problem = _check(text[:64])
    if problem is None and e164 is not None and len(text) <= 64:
        return e164
    if problem == "not-e164":
        raise InvalidInput(
            f"{field} '{text}' is not in E.164 form: start with + and the country code, "
            "e.g. +13125550123", field=field)
    if problem == "suggest":
        raise InvalidInput(
            f"{field} '{text}' is not in E.164 form; did you mean {e164}?", field=field)
    raise InvalidInput(f"{field} '{text}' is not a valid phone number", field=field)


def region_of(e164: str) -> str | None:
    """ISO 3166 alpha-2 region of a valid E.164 number (None if unknown)."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
