"""SMS numbers an organisation has registered at a carrier."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PhoneNumberType(StrEnum):
    LOCAL = "local"
    MOBILE = "mobile"
    TOLLFREE = "tollfree"
    SHORTCODE = "shortcode"


@dataclass(slots=True)
class SmsNumber:
    id: str
    org_id: str
    phone_number: str
    phone_number_type: PhoneNumberType
    country_code: str
    carrier: str
    name: str | None = None
    status: str = "ACTIVE"
    version: int = 1
    created_ms: int = 0
    modified_ms: int = 0
    created_by: str | None = None
    modified_by: str | None = None


@dataclass(frozen=True, slots=True)
class AvailableNumber:
    phone_number: str
    phone_number_type: PhoneNumberType
    country_code: str
    region: str | None = None
    city: str | None = None
