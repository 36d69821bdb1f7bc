"""Presence, routing status, utilization, skills and wrap-up codes."""

from __future__ import annotations

from pydantic import StrictFloat, StrictInt

from parley.api.formats import iso
from parley.api.models.common import EntityListing, Model
from parley.domain.agents import AgentPresence, Skill, SystemPresence, UserSkill, WrapupCode


class PresenceDefinition(Model):
    id: str | None = None
    systemPresence: str | None = None
    selfUri: str | None = None


class UserPresence(Model):
    id: str | None = None
    name: str | None = None
    source: str | None = None
    sourceId: str | None = None
    primary: bool | None = None
    presenceDefinition: PresenceDefinition | None = None
    message: str | None = None
    modifiedDate: str | None = None
    selfUri: str | None = None

    @classmethod
    def of(cls, p: AgentPresence) -> UserPresence:
        return cls(id=p.presence.definition_id, name=p.presence.label, source="PURECLOUD",
                   sourceId="PURECLOUD", primary=True,
                   presenceDefinition=PresenceDefinition(
                       id=p.presence.definition_id, systemPresence=p.presence.value,
                       selfUri=f"/api/v2/presence/definitions/{p.presence.definition_id}"),
                   message=p.message, modifiedDate=iso(p.modified_ms) if p.modified_ms else None,
                   selfUri=f"/api/v2/users/{p.user_id}/presences/purecloud")


class OrganizationPresenceDefinition(Model):
    id: str
    name: str
    type: str = "System"
    languageLabels: dict[str, str]
    systemPresence: str
    deactivated: bool = False
    selfUri: str

    @classmethod
    def of(cls, p: SystemPresence) -> OrganizationPresenceDefinition:
        return cls(id=p.definition_id, name=p.label, languageLabels={"en_US": p.label},
                   systemPresence=p.value,
                   selfUri=f"/api/v2/presence/definitions/{p.definition_id}")


class OrganizationPresenceDefinitionEntityListing(Model):
    entities: list[OrganizationPresenceDefinition]
    total: int
    selfUri: str


class RoutingStatus(Model):
    userId: str | None = None
    status: str | None = None
    startTime: str | None = None


class MediaUtilization(Model):
    maximumCapacity: StrictInt | None = None
    interruptableMediaTypes: list[str] | None = None
    includeNonAcd: bool | None = None


class UtilizationRequest(Model):
    utilization: dict[str, MediaUtilization] | None = None


class UtilizationResponse(Model):
    utilization: dict[str, MediaUtilization]
    level: str | None = None

    @classmethod
    def of(cls, capacity: int, level: str | None = None) -> UtilizationResponse:
        return cls(utilization={"message": MediaUtilization(
            maximumCapacity=capacity, interruptableMediaTypes=[], includeNonAcd=False)},
            level=level)


class RoutingSkill(Model):
    id: str
    name: str
    state: str
    version: str
    dateModified: str | None = None
    selfUri: str

    @classmethod
    def of(cls, s: Skill) -> RoutingSkill:
        return cls(id=s.id, name=s.name, state=s.state, version=str(s.version),
                   dateModified=iso(s.modified_ms), selfUri=f"/api/v2/routing/skills/{s.id}")


class SkillEntityListing(EntityListing[RoutingSkill]):
    pass


class CreateRoutingSkill(Model):
    name: str | None = None


class UserRoutingSkill(Model):
    id: str
    name: str | None = None
    proficiency: float
    state: str = "active"
    skillUri: str | None = None
    selfUri: str | None = None

    @classmethod
    def of(cls, us: UserSkill, s: Skill) -> UserRoutingSkill:
        return cls(id=s.id, name=s.name, proficiency=us.proficiency,
                   skillUri=f"/api/v2/routing/skills/{s.id}",
                   selfUri=f"/api/v2/users/{us.user_id}/routingskills/{s.id}")


class UserRoutingSkillPost(Model):
    id: str
    proficiency: StrictInt | StrictFloat | None = None


class UserRoutingSkillPut(Model):
    """PUT .../routingskills/{skillId} takes a UserRoutingSkill: the path names the skill."""

    id: str | None = None
    proficiency: StrictInt | StrictFloat | None = None


class UserSkillEntityListing(EntityListing[UserRoutingSkill]):
    pass


class WrapupCodeModel(Model):
    id: str
    name: str
    description: str | None = None
    dateCreated: str | None = None
    dateModified: str | None = None
    createdBy: str | None = None
    modifiedBy: str | None = None
    selfUri: str

    @classmethod
    def of(cls, w: WrapupCode) -> WrapupCodeModel:
        return cls(id=w.id, name=w.name, description=w.description,
                   dateCreated=iso(w.created_ms), dateModified=iso(w.modified_ms),
                   createdBy=w.created_by, modifiedBy=w.modified_by,
                   selfUri=f"/api/v2/routing/wrapupcodes/{w.id}")


class WrapupCodeEntityListing(EntityListing[WrapupCodeModel]):
    pass


class WrapupCodeRequest(Model):
    name: str | None = None
    description: str | None = None


class IdRef(Model):
    id: str
