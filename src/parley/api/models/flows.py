"""Flows, their versions and validation, and the inbound message routes (recipients) that
point numbers at them."""

from __future__ import annotations

from parley.api.models.common import EntityListing, EntityRef, Model
from parley.domain.flow_catalog import Flow, FlowVersion
from parley.domain.times import iso
from parley.services.flows import Route

FLOWS = "/api/v2/flows"
RECIPIENTS = "/api/v2/routing/message/recipients"


class FlowVersionModel(Model):
    id: str
    name: str
    commitVersion: str
    configurationVersion: str
    type: str
    createdBy: EntityRef | None = None
    dateCreated: int
    datePublished: str | None = None
    selfUri: str

    @classmethod
    def of(cls, v: FlowVersion, flow: Flow | None = None) -> FlowVersionModel:
        published = flow is not None and flow.published_version == v.version
        return cls(id=str(v.version), name=str(v.version), commitVersion=str(v.version),
                   configurationVersion=str(v.version),
                   type="PUBLISH" if published else "SAVE",
                   createdBy=EntityRef(id=v.created_by) if v.created_by else None,
                   dateCreated=v.created_ms,
                   datePublished=iso(v.published_ms),
                   selfUri=f"{FLOWS}/{v.flow_id}/versions/{v.version}")


class FlowModel(Model):
    id: str
    name: str
    description: str | None = None
    type: str
    active: bool
    system: bool = False
    deleted: bool = False
    publishedVersion: FlowVersionModel | None = None
    savedVersion: FlowVersionModel | None = None
    selfUri: str

    @classmethod
    def of(cls, f: Flow) -> FlowModel:
        def ref(version: int | None) -> FlowVersionModel | None:
            if version is None:
                return None
            return FlowVersionModel.of(FlowVersion(
                id=str(version), flow_id=f.id, version=version, yaml="",
                created_ms=f.modified_ms,
                published_ms=f.published_ms if version == f.published_version else None), f)

        return cls(id=f.id, name=f.name, description=f.description, type=f.type.upper(),
                   active=f.published_version is not None, publishedVersion=ref(
                       f.published_version), savedVersion=ref(f.saved_version),
                   selfUri=f"{FLOWS}/{f.id}")


class FlowEntityListing(EntityListing[FlowModel]):
    pass


class FlowVersionEntityListing(EntityListing[FlowVersionModel]):
    pass


class FlowRequest(Model):
    name: str | None = None
    description: str | None = None
    type: str | None = None


class Operation(Model):
    id: str
    complete: bool
    actionName: str
    actionStatus: str
    errorMessage: str | None = None


class FlowProblem(Model):
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    severity: str


class FlowValidation(Model):
    valid: bool
    name: str | None = None
    queues: list[str] | None = None
    problems: list[FlowProblem]


class RecipientFlow(Model):
    id: str
    name: str | None = None
    selfUri: str | None = None


class Recipient(Model):
    id: str
    name: str
    flow: RecipientFlow | None = None
    messengerType: str = "sms"
    dateModified: str | None = None
    modifiedBy: EntityRef | None = None
    selfUri: str

    @classmethod
    def of(cls, r: Route) -> Recipient:
        return cls(id=r.number.id, name=r.number.name or r.number.phone_number,
                   flow=None if r.flow is None else RecipientFlow(
                       id=r.flow.id, name=r.flow.name, selfUri=f"{FLOWS}/{r.flow.id}"),
                   dateModified=iso(r.modified_ms),
                   modifiedBy=EntityRef(id=r.modified_by) if r.modified_by else None,
                   selfUri=f"{RECIPIENTS}/{r.number.id}")


class RecipientListing(EntityListing[Recipient]):
    pass


class RecipientRequest(Model):
    flow: RecipientFlow | None = None
