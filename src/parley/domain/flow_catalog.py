"""Flows as configuration: a named flow with saved YAML and numbered, published versions.

The language itself (parsing, actions, interpreter) is in `domain.flows`; this is what an
admin manages: create, save, publish (a new immutable version), and point numbers at it.
Routes always run the published version.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Flow:
    id: str
    org_id: str
    name: str
    type: str
    created_ms: int
    modified_ms: int
    description: str | None = None
    saved_yaml: str | None = None
    saved_version: int | None = None
    published_version: int | None = None
    published_ms: int | None = None
    created_by: str | None = None
    modified_by: str | None = None


@dataclass(frozen=True, slots=True)
class FlowVersion:
    id: str
    flow_id: str
    version: int
    yaml: str
    created_ms: int
    created_by: str | None = None
    published_ms: int | None = None
