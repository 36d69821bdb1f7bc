"""Identifiers: Genesys uses UUID strings for every entity, and so do we.

They are UUIDv7 (RFC 9562): time-ordered, so a new row lands at the end of each B-tree index
instead of at a random page. With random UUIDv4s the message table's inserts slowed four-fold
as it filled (docs/performance.md); with v7 they do not.
"""

from __future__ import annotations

import uuid_utils


def new_id() -> str:
    return str(uuid_utils.uuid7())
