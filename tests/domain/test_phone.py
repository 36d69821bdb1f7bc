"""Phone numbers are E.164 or refused, with a message that names the field and the fix."""

from __future__ import annotations

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.phone import parse_e164, region_of


@pytest.mark.parametrize(("raw", "e164"), [
    pytest.param("+13125550100", "+13125550100", id="us"),
    pytest.param("+442079460958", "+442079460958", id="uk"),
    pytest.param("+4930123456", "+4930123456", id="germany"),
    pytest.param("  +13125550100 ", "+13125550100", id="surrounding-whitespace-trimmed"),
])
def test_valid_e164_is_accepted(raw: str, e164: str) -> None:
    assert parse_e164(raw, "toAddress") == e164


@pytest.mark.parametrize(("raw", "message"), [
    pytest.param("+1555", "toAddress '+1555' is not a valid phone number", id="too-short"),
    pytest.param("+131255501000", "toAddress '+131255501000' is not a valid phone number",
                 id="too-long"),
    pytest.param("+", "toAddress '+' is not a valid phone number", id="plus-only"),
    pytest.param("+1call-me", "toAddress '+1call-me' is not a valid phone number",
                 id="letters"),
    pytest.param("(312) 555-0100", "toAddress '(312) 555-0100' is not in E.164 form: start "
                 "with + and the country code, e.g. +13125550123", id="national-format"),
    pytest.param("3125550100", "toAddress '3125550100' is not in E.164 form: start with + and "
                 "the country code, e.g. +13125550123", id="national-digits"),
    pytest.param("13125550100", "toAddress '13125550100' is not in E.164 form: start with + "
                 "and the country code, e.g. +13125550123", id="missing-plus"),
    pytest.param("+1 312-555-0100", "toAddress '+1 312-555-0100' is not in E.164 form; did you "
                 "mean +13125550100?", id="spaces-and-dashes"),
    pytest.param("+1 (312) 555 0100", "toAddress '+1 (312) 555 0100' is not in E.164 form; did "
                 "you mean +13125550100?", id="parentheses"),
    pytest.param("+44 20 7946 0958", "toAddress '+44 20 7946 0958' is not in E.164 form; did "
                 "you mean +442079460958?", id="uk-with-spaces"),
    pytest.param("+44020 7946 0958", "toAddress '+44020 7946 0958' is not in E.164 form; did "
                 "you mean +442079460958?", id="uk-with-trunk-zero"),
])
def test_invalid_or_non_e164_is_refused(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_e164(raw, "toAddress")
    assert caught.value.message == message
    assert caught.value.field == "toAddress"


@pytest.mark.parametrize("raw", [
    pytest.param(None, id="none"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param(13125550100, id="integer"),
    pytest.param(["+13125550100"], id="list"),
])
def test_missing_or_non_string_is_required(raw: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_e164(raw, "fromAddress")
    assert caught.value.field == "fromAddress"
    assert caught.value.message == (
        "fromAddress is required: an E.164 phone number such as +13125550123")


@pytest.mark.parametrize(("e164", "region"), [
    pytest.param("+13125550100", "US", id="us"),
    pytest.param("+14165550100", "CA", id="canada"),
    pytest.param("+442079460958", "GB", id="uk"),
])
def test_region_of(e164: str, region: str) -> None:
    assert region_of(e164) == region
