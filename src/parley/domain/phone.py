"""Phone numbers: everything Parley stores or sends to is E.164."""

from __future__ import annotations

import phonenumbers

from parley.domain.errors import InvalidInput


def parse_e164(raw: object, field: str) -> str:
    """Return `raw` as a valid E.164 number, or raise a message naming the field and the value.

    Genesys requires E.164 (`+` country code and number) on the wire; national formats are
    refused rather than guessed, because guessing the country sends texts to the wrong person.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{field} is required: an E.164 phone number such as +13125550123",
                           field=field)
    text = raw.strip()
    if not text.startswith("+"):
        raise InvalidInput(
            f"{field} '{text}' is not in E.164 form: start with + and the country code, "
            "e.g. +13125550123", field=field)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{field} '{text}' is not a valid phone number", field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{field} '{text}' is not a valid phone number", field=field)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164 != text:
        raise InvalidInput(
            f"{field} '{text}' is not in E.164 form; did you mean {e164}?", field=field)
    return e164


def region_of(e164: str) -> str | None:
    """ISO 3166 alpha-2 region of a valid E.164 number (None if unknown)."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
