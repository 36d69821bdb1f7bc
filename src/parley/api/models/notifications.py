"""Notification channels and their topic subscriptions, as Genesys' notifications API shapes
them."""

from __future__ import annotations

from parley.api.models.common import Model


class ChannelModel(Model):
    connectUri: str
    id: str
    expires: str


class ChannelEntityListing(Model):
    entities: list[ChannelModel]


class ChannelTopic(Model):
    id: str
    state: str | None = None
    rejectionReason: str | None = None
    selfUri: str | None = None


class ChannelTopicEntityListing(Model):
    entities: list[ChannelTopic]


class AvailableTopic(Model):
    id: str
    description: str


class AvailableTopicEntityListing(Model):
    entities: list[AvailableTopic]
