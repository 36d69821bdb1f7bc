"""SMS numbers and queues, as Genesys' routing API shapes them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from parley.api.formats import iso
from parley.api.models.common import EntityListing, EntityRef, Model
from parley.domain.directory import User as UserEntity
from parley.domain.numbers import AvailableNumber
from parley.domain.numbers import SmsNumber as SmsNumberEntity
from parley.domain.queues import Queue as QueueEntity
from parley.domain.queues import QueueMember as QueueMemberEntity


class IdRef(Model):
    id: str | None = None


class SmsPhoneNumberProvision(Model):
    phoneNumber: str | None = None
    phoneNumberType: str | None = None
    countryCode: str | None = None
    name: str | None = None
    integration: IdRef | None = None
    """The carrier connection to register it on (Parley: /api/v2/parley/carriers)."""


class SmsPhoneNumberUpdate(Model):
    name: str | None = None
    version: int | None = None
    integration: IdRef | None = None
    """Move the number to another carrier connection."""


class SmsPhoneNumber(Model):
    id: str
    name: str | None = None
    phoneNumber: str
    phoneNumberType: str
    phoneNumberStatus: str
    countryCode: str
    provisionedThroughPureCloud: bool = True
    capabilities: list[str] = Field(default_factory=lambda: ["sms"])
    supportsSms: bool = True
    supportsMms: bool = False
    supportsVoice: bool = False
    version: int
    dateCreated: str | None = None
    dateModified: str | None = None
    createdBy: EntityRef | None = None
    modifiedBy: EntityRef | None = None
    integration: EntityRef | None = None
    selfUri: str

    @classmethod
    def of(cls, n: SmsNumberEntity) -> SmsPhoneNumber:
        return cls(
            id=n.id, name=n.name, phoneNumber=n.phone_number,
            phoneNumberType=n.phone_number_type.value, phoneNumberStatus=n.status,
            countryCode=n.country_code, version=n.version, dateCreated=iso(n.created_ms),
            dateModified=iso(n.modified_ms),
            createdBy=EntityRef(id=n.created_by) if n.created_by else None,
            modifiedBy=EntityRef(id=n.modified_by) if n.modified_by else None,
            integration=EntityRef(id=n.carrier, name=n.carrier),
            selfUri=f"/api/v2/routing/sms/phonenumbers/{n.id}")


class SmsPhoneNumberEntityListing(EntityListing[SmsPhoneNumber]):
    pass


class SmsAvailablePhoneNumber(Model):
    id: str
    name: str
    phoneNumber: str
    countryCode: str
    region: str | None = None
    city: str | None = None
    capabilities: list[str] = Field(default_factory=lambda: ["sms"])
    phoneNumberType: str
    addressRequirement: Literal["none"] = "none"
    integration: EntityRef | None = None
    """The carrier connection offering it (a Parley addition)."""

    @classmethod
    def of(cls, a: AvailableNumber, connection_id: str) -> SmsAvailablePhoneNumber:
        return cls(id=a.phone_number, name=a.phone_number, phoneNumber=a.phone_number,
                   countryCode=a.country_code, region=a.region, city=a.city,
                   phoneNumberType=a.phone_number_type.value,
                   integration=EntityRef(id=connection_id))


class SmsAvailablePhoneNumberEntityListing(Model):
    entities: list[SmsAvailablePhoneNumber]


# -- queues ---------------------------------------------------------------------------------


class ServiceLevel(Model):
    percentage: float | None = None
    durationMs: int | None = None


class MessageMediaSettings(Model):
    alertingTimeoutSeconds: int | None = None
    enableAutoAnswer: bool | None = None
    serviceLevel: ServiceLevel | None = None


class QueueMediaSettings(Model):
    message: MessageMediaSettings | None = None


class AcwSettings(Model):
    wrapupPrompt: str | None = None
    timeoutMs: int | None = None


class SmsAddressRef(Model):
    id: str
    name: str | None = None
    selfUri: str | None = None


class OutboundMessagingAddresses(Model):
    smsAddress: SmsAddressRef | None = None


class QueueRequest(Model):
    """CreateQueueRequest and QueueRequest (PUT): the fields Parley acts on."""

    name: str | None = None
    description: str | None = None
    mediaSettings: QueueMediaSettings | None = None
    acwSettings: AcwSettings | None = None
    skillEvaluationMethod: str | None = None
    outboundMessagingAddresses: OutboundMessagingAddresses | None = None
    version: int | None = None


class Queue(Model):
    id: str
    name: str
    description: str | None = None
    division: EntityRef | None = None
    dateCreated: str | None = None
    dateModified: str | None = None
    createdBy: str | None = None
    modifiedBy: str | None = None
    memberCount: int
    userMemberCount: int
    joinedMemberCount: int
    mediaSettings: QueueMediaSettings
    acwSettings: AcwSettings
    skillEvaluationMethod: str
    outboundMessagingAddresses: OutboundMessagingAddresses | None = None
    version: int | None = None
    selfUri: str

    @classmethod
    def of(cls, q: QueueEntity) -> Queue:
        return cls(
            id=q.id, name=q.name, description=q.description, dateCreated=iso(q.created_ms),
            dateModified=iso(q.modified_ms), createdBy=q.created_by, modifiedBy=q.modified_by,
            memberCount=q.member_count, userMemberCount=q.member_count,
            joinedMemberCount=q.joined_member_count,
            mediaSettings=QueueMediaSettings(message=MessageMediaSettings(
                alertingTimeoutSeconds=q.alerting_timeout_seconds,
                enableAutoAnswer=q.enable_auto_answer,
                serviceLevel=ServiceLevel(percentage=q.service_level_percentage,
                                          durationMs=q.service_level_duration_ms))),
            acwSettings=AcwSettings(wrapupPrompt=q.wrapup_prompt.value,
                                    timeoutMs=q.wrapup_timeout_ms),
            skillEvaluationMethod=q.skill_evaluation_method.value,
            outboundMessagingAddresses=None if q.sms_number_id is None else
            OutboundMessagingAddresses(smsAddress=SmsAddressRef(
                id=q.sms_number_id, selfUri=f"/api/v2/routing/sms/phonenumbers/{q.sms_number_id}")),
            version=q.version, selfUri=f"/api/v2/routing/queues/{q.id}")


class QueueEntityListing(EntityListing[Queue]):
    pass


class MemberRef(Model):
    id: str
    joined: bool | None = None


class QueueMemberUser(Model):
    id: str
    name: str
    email: str
    state: str
    selfUri: str


class QueueMember(Model):
    id: str
    name: str
    user: QueueMemberUser
    ringNumber: int = 1
    joined: bool
    memberBy: str = "user"
    selfUri: str

    @classmethod
    def of(cls, m: QueueMemberEntity, u: UserEntity) -> QueueMember:
        return cls(id=u.id, name=u.name, joined=m.joined,
                   user=QueueMemberUser(id=u.id, name=u.name, email=u.email, state=u.state,
                                        selfUri=f"/api/v2/users/{u.id}"),
                   selfUri=f"/api/v2/routing/queues/{m.queue_id}/members/{u.id}")


class QueueMemberEntityListing(Model):
    entities: list[QueueMember]
    pageNumber: int
    pageSize: int
    firstUri: str | None = None
    selfUri: str | None = None
    nextUri: str | None = None
    previousUri: str | None = None
