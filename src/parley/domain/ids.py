"""Identifiers: Genesys uses UUID strings for every entity, and so do we."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
