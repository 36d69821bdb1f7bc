"""Conversation shapes: the media-agnostic Conversation and the MessageConversation."""

from __future__ import annotations

from typing import Any

from parley.api.formats import iso
from parley.api.models.common import EntityListing, EntityRef, Model
from parley.domain.conversations import Participant as ParticipantEntity
from parley.domain.conversations import Purpose
from parley.domain.conversations import Wrapup as WrapupEntity
from parley.domain.messages import Message as MessageEntity
from parley.services.views import ConversationView

PROVIDER = "Parley"


class CreateOutboundMessagingConversationRequest(Model):
    queueId: str | None = None
    toAddress: str | None = None
    toAddressMessengerType: str | None = None
    useExistingConversation: bool | None = None
    externalContactId: str | None = None
    useUserFromAddress: bool | None = None


class CreateOutboundMessagingConversationResponse(Model):
    id: str
    selfUri: str


class Address(Model):
    name: str | None = None
    nameRaw: str | None = None
    addressNormalized: str | None = None
    addressRaw: str | None = None
    addressDisplayable: str | None = None

    @classmethod
    def of(cls, e164: str) -> Address:
        return cls(addressNormalized=e164, addressRaw=e164, addressDisplayable=e164)


class MessageDetails(Model):
    messageId: str
    messageURI: str
    messageStatus: str
    messageSegmentCount: int
    messageTime: str | None = None

    @classmethod
    def of(cls, m: MessageEntity) -> MessageDetails:
        return cls(messageId=m.id,
                   messageURI=f"/api/v2/conversations/messages/{m.conversation_id}/messages/{m.id}",
                   messageStatus=m.status.value, messageSegmentCount=m.segment_count,
                   messageTime=iso(m.created_ms))


class Wrapup(Model):
    code: str | None = None
    name: str | None = None
    notes: str | None = None
    tags: list[str] | None = None
    durationSeconds: int | None = None
    endTime: str | None = None

    @classmethod
    def of(cls, w: WrapupEntity | None) -> Wrapup | None:
        if w is None:
            return None
        return cls(code=w.code, name=w.name, notes=w.notes, tags=w.tags or None,
                   durationSeconds=w.duration_seconds, endTime=iso(w.end_ms))

    def to_entity(self) -> WrapupEntity:
        return WrapupEntity(code=self.code, name=self.name, notes=self.notes,
                            tags=list(self.tags or []), duration_seconds=self.durationSeconds)


class MessageCommunication(Model):
    """The `Message` model of Participant.messages[]: one communication."""

    id: str
    state: str
    initialState: str | None = None
    held: bool = False
    direction: str
    type: str = "sms"
    provider: str = PROVIDER
    toAddress: Address
    fromAddress: Address
    messages: list[MessageDetails]
    connectedTime: str | None = None
    disconnectedTime: str | None = None
    disconnectType: str | None = None
    recipientCountry: str | None = None


class Participant(Model):
    id: str
    startTime: str | None = None
    endTime: str | None = None
    connectedTime: str | None = None
    name: str | None = None
    userUri: str | None = None
    userId: str | None = None
    queueId: str | None = None
    queueName: str | None = None
    purpose: str
    participantType: str | None = None
    address: str | None = None
    ani: str | None = None
    dnis: str | None = None
    wrapupRequired: bool | None = None
    wrapup: Wrapup | None = None
    attributes: dict[str, str] = {}
    messages: list[MessageCommunication] = []


class Conversation(Model):
    id: str
    startTime: str
    endTime: str | None = None
    address: str | None = None
    participants: list[Participant]
    recordingState: str = "NONE"
    state: str | None = None
    selfUri: str


class MessageMediaParticipant(Model):
    id: str
    name: str | None = None
    address: str | None = None
    startTime: str | None = None
    connectedTime: str | None = None
    endTime: str | None = None
    purpose: str
    state: str
    direction: str
    disconnectType: str | None = None
    held: bool = False
    wrapupRequired: bool | None = None
    wrapup: Wrapup | None = None
    user: EntityRef | None = None
    queue: EntityRef | None = None
    attributes: dict[str, str] = {}
    provider: str = PROVIDER
    toAddress: Address
    fromAddress: Address
    messages: list[MessageDetails]
    type: str = "sms"


class MessageConversation(Model):
    id: str
    participants: list[MessageMediaParticipant]
    selfUri: str


class MessageConversationEntityListing(EntityListing[MessageConversation]):
    pass


class MediaParticipantRequest(Model):
    state: str | None = None
    wrapup: Wrapup | None = None
    wrapupSkipped: bool | None = None


# -- mapping ---------------------------------------------------------------------------------


def _party_fields(view: ConversationView, p: ParticipantEntity) -> dict[str, Any]:
    return {
        "id": p.id, "startTime": iso(p.start_ms), "endTime": iso(p.end_ms),
        "connectedTime": iso(p.connected_ms),
        "name": view.user_names.get(p.user_id or "", p.name),
        "purpose": p.purpose.value, "address": p.address,
        "wrapupRequired": p.wrapup_required if p.purpose is Purpose.AGENT else None,
        "wrapup": Wrapup.of(p.wrapup), "attributes": dict(p.attributes),
    }


def conversation_of(view: ConversationView) -> Conversation:
    c = view.conversation
    participants = []
    for p in c.participants:
        comm = MessageCommunication(
            id=p.communication_id, state=p.state.value, direction=p.direction,
            toAddress=Address.of(p.to_address), fromAddress=Address.of(p.from_address),
            messages=[MessageDetails.of(m) for m in view.messages_of(p)],
            connectedTime=iso(p.connected_ms), disconnectedTime=iso(p.end_ms),
            disconnectType=p.disconnect_type)
        participants.append(Participant(
            **_party_fields(view, p), userId=p.user_id,
            userUri=f"/api/v2/users/{p.user_id}" if p.user_id else None,
            queueId=p.queue_id, queueName=view.queue_names.get(p.queue_id or ""),
            participantType="Internal" if p.purpose is Purpose.AGENT else "External",
            ani=p.from_address, dnis=p.to_address, messages=[comm]))
    return Conversation(id=c.id, startTime=iso(c.start_ms) or "", endTime=iso(c.end_ms),
                        address=c.org_address, participants=participants,
                        state=c.state.value, selfUri=f"/api/v2/conversations/{c.id}")


def message_conversation_of(view: ConversationView) -> MessageConversation:
    c = view.conversation
    participants = [
        MessageMediaParticipant(
            **_party_fields(view, p), state=p.state.value, direction=p.direction,
            disconnectType=p.disconnect_type,
            user=EntityRef(id=p.user_id, name=view.user_names.get(p.user_id),
                           selfUri=f"/api/v2/users/{p.user_id}") if p.user_id else None,
            queue=EntityRef(id=p.queue_id, name=view.queue_names.get(p.queue_id),
                            selfUri=f"/api/v2/routing/queues/{p.queue_id}")
            if p.queue_id else None,
            toAddress=Address.of(p.to_address), fromAddress=Address.of(p.from_address),
            messages=[MessageDetails.of(m) for m in view.messages_of(p)])
        for p in c.participants]
    return MessageConversation(id=c.id, participants=participants,
                               selfUri=f"/api/v2/conversations/messages/{c.id}")


class TransferRequest(Model):
    queueId: str | None = None
    userId: str | None = None
    address: str | None = None
    transferType: str | None = None
