"""The opt-out list and policy (Parley's own resources, under /api/v2/parley/)."""

from __future__ import annotations

from parley.api.models.common import EntityListing, Model
from parley.domain.opt_out import ANY_NUMBER, OptOut
from parley.domain.times import iso


class OptOutModel(Model):
    customer: str
    number: str
    """The number opted out of, or "*" for every number of the organisation."""
    allNumbers: bool
    keyword: str
    dateOptedOut: str

    @classmethod
    def of(cls, o: OptOut) -> OptOutModel:
        return cls(customer=o.customer_address, number=o.org_address,
                   allNumbers=o.org_address == ANY_NUMBER, keyword=o.keyword,
                   dateOptedOut=iso(o.created_ms) or "")


class OptOutListing(EntityListing[OptOutModel]):
    pass


class OptOutPolicyModel(Model):
    scope: str | None = None
    """`number` (STOP opts out of the number texted) or `organization` (of every number)."""
    stopWords: list[str] | None = None
    startWords: list[str] | None = None
    helpWords: list[str] | None = None
    stopReply: str | None = None
    startReply: str | None = None
    helpReply: str | None = None
