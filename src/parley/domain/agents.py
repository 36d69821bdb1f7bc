"""An agent's availability: presence, routing status, message capacity, skills.

Presence is what the agent says ("On Queue", "Break"); routing status is what the ACD makes
of it (IDLE, INTERACTING, NOT_RESPONDING, OFF_QUEUE). Only On Queue makes an agent routable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from parley.domain.errors import InvalidInput

MIN_CAPACITY, MAX_CAPACITY = 1, 25
DEFAULT_MESSAGE_CAPACITY = 1  # Genesys' default for message utilization
MAX_PROFICIENCY = 5.0


class SystemPresence(StrEnum):
    AVAILABLE = "Available"
    AWAY = "Away"
    BUSY = "Busy"
    OFFLINE = "Offline"
    IDLE = "Idle"
    ON_QUEUE = "OnQueue"
    MEAL = "Meal"
    TRAINING = "Training"
    MEETING = "Meeting"
    BREAK = "Break"

    @property
    def definition_id(self) -> str:
        """Stable ids for the system presence definitions (same in every organisation)."""
        return str(uuid.uuid5(_PRESENCE_NS, self.value))

    @property
    def event_name(self) -> str:
        """The spelling of notification events: upper case with underscores (ON_QUEUE)."""
        return "ON_QUEUE" if self is SystemPresence.ON_QUEUE else self.value.upper()

    @property
    def label(self) -> str:
        return "On Queue" if self is SystemPresence.ON_QUEUE else self.value


_PRESENCE_NS = uuid.UUID("5b1f4f3e-6a7c-4c55-9d4e-2d8f9b5e7a01")
PRESENCE_BY_ID = {p.definition_id: p for p in SystemPresence}


def presence_from(definition_id: str | None, system_presence: str | None) -> SystemPresence:
    """Resolve a PATCH body: by presenceDefinition.id, else by its systemPresence name."""
    if definition_id:
        found = PRESENCE_BY_ID.get(definition_id)
        if found is None:
            raise InvalidInput(f"presenceDefinition.id '{definition_id}' is not a presence "
                               "definition; GET /api/v2/presence/definitions lists them",
                               field="presenceDefinition.id")
        return found
    if system_presence:
        for p in SystemPresence:
            if p.value.lower() == system_presence.replace(" ", "").replace("_", "").lower():
                return p
        raise InvalidInput(f"systemPresence '{system_presence}' is not one of: "
                           + ", ".join(p.value for p in SystemPresence),
                           field="presenceDefinition.systemPresence")
    raise InvalidInput("presenceDefinition.id is required", field="presenceDefinition.id")


@dataclass(slots=True)
class AgentPresence:
    user_id: str
    org_id: str
    presence: SystemPresence
    modified_ms: int
    message: str | None = None


def check_capacity(value: object, field: str = "utilization.message.maximumCapacity") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or \
            not MIN_CAPACITY <= value <= MAX_CAPACITY:
        raise InvalidInput(f"{field} must be a whole number from {MIN_CAPACITY} to "
                           f"{MAX_CAPACITY} (got {value!r})", field=field)
    return value


def check_proficiency(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not 0.0 <= float(value) <= MAX_PROFICIENCY:
        raise InvalidInput(f"proficiency must be between 0 and {MAX_PROFICIENCY} "
                           f"(got {value!r})", field="proficiency")
    return float(value)


@dataclass(slots=True)
class Skill:
    id: str
    org_id: str
    name: str
    state: str = "active"
    version: int = 1
    modified_ms: int = 0


@dataclass(frozen=True, slots=True)
class UserSkill:
    user_id: str
    skill_id: str
    proficiency: float


@dataclass(slots=True)
class WrapupCode:
    id: str
    org_id: str
    name: str
    description: str | None = None
    created_ms: int = 0
    modified_ms: int = 0
    created_by: str | None = None
    modified_by: str | None = None


def check_name(value: object, what: str, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} name is required", field=field)
    if len(value) > 200:
        raise InvalidInput(f"{what} name is longer than 200 characters", field=field)
    return value.strip()
