"""The simulator's handset side: texts a simulated phone received or sent."""

from __future__ import annotations

from pydantic import Field

from parley.api.models.common import Model


class HandsetMessage(Model):
    id: str
    direction: str
    """`received` (the phone got it from one of our numbers) or `sent` (the phone texted it)."""
    fromAddress: str
    toAddress: str
    text: str
    status: str
    time: str
    segmentCount: int


class HandsetMessageListing(Model):
    phone: str
    entities: list[HandsetMessage]


class InjectedText(Model):
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    text: str | None = None


class InjectedTextResult(Model):
    id: str
    """The carrier message id the simulator gave the text."""
