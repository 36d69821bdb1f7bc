"""The schema. Alembic migrations under `migrations/` create it; this module is its source.

Times are epoch milliseconds (BigInteger): portable across SQLite and PostgreSQL, cheap to
bulk-insert, and exactly what the API formats as `yyyy-MM-ddTHH:mm:ss.SSSZ`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

ID = String(36)


def _org() -> Column[str]:
    return Column("org_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"),
                  nullable=False, index=True)


organizations = Table(
    "organizations", metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("created_ms", BigInteger, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("state", String(20), nullable=False, default="active"),
    Column("version", Integer, nullable=False, default=1),
    Column("created_ms", BigInteger, nullable=False),
)

oauth_clients = Table(
    "oauth_clients", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("name", String(200), nullable=False),
    Column("grant_types", JSON, nullable=False),
    Column("role", String(20), nullable=False),
    Column("secret_hash", String(200)),
    Column("redirect_uris", JSON, nullable=False),
    Column("allow_loopback_redirects", Boolean, nullable=False, default=False),
    Column("state", String(20), nullable=False, default="active"),
    Column("created_ms", BigInteger, nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the token, never the token
    _org(),
    Column("client_id", ID, ForeignKey("oauth_clients.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE")),
    Column("role", String(20), nullable=False),
    Column("grant_type", String(40), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False, index=True),
    Column("refresh_hash", String(64), unique=True),
)

authorization_codes = Table(
    "authorization_codes", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the code
    Column("client_id", ID, ForeignKey("oauth_clients.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(10)),
    Column("expires_ms", BigInteger, nullable=False),
)

sms_numbers = Table(
    "sms_numbers", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("phone_number", String(20), nullable=False, unique=True),
    Column("name", String(200)),
    Column("phone_number_type", String(20), nullable=False),
    Column("country_code", String(2), nullable=False),
    Column("carrier", String(40), nullable=False),
    Column("status", String(30), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("created_by", ID),
    Column("modified_by", ID),
    Column("flow_id", ID),  # the inbound message route: which flow runs for texts to it
    Column("route_modified_ms", BigInteger),
    Column("route_modified_by", ID),
)

queues = Table(
    "queues", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("sms_number_id", ID, ForeignKey("sms_numbers.id", ondelete="SET NULL")),
    Column("alerting_timeout_seconds", Integer, nullable=False),
    Column("enable_auto_answer", Boolean, nullable=False, default=False),
    Column("service_level_percentage", Float, nullable=False),
    Column("service_level_duration_ms", Integer, nullable=False),
    Column("wrapup_prompt", String(30), nullable=False),
    Column("wrapup_timeout_ms", Integer),
    Column("skill_evaluation_method", String(10), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("created_by", ID),
    Column("modified_by", ID),
    UniqueConstraint("org_id", "name", name="uq_queues_org_name"),
)

queue_members = Table(
    "queue_members", metadata,
    Column("queue_id", ID, ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
           index=True),
    Column("joined", Boolean, nullable=False, default=True),
)

conversations = Table(
    "conversations", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("state", String(20), nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger),
    Column("customer_address", String(20), nullable=False),
    Column("org_address", String(20), nullable=False),
    Column("originating_direction", String(10), nullable=False),
    Column("last_activity_ms", BigInteger),
    Index("ix_conversations_thread", "org_address", "customer_address", "state"),
)

participants = Table(
    "participants", metadata,
    Column("id", ID, primary_key=True),
    Column("conversation_id", ID, ForeignKey("conversations.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("communication_id", ID, nullable=False, unique=True),
    Column("purpose", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("address", String(20), nullable=False),
    Column("from_address", String(20), nullable=False),
    Column("to_address", String(20), nullable=False),
    Column("user_id", ID, index=True),
    Column("queue_id", ID),
    Column("client_id", ID),
    Column("name", String(200)),
    Column("start_ms", BigInteger, nullable=False),
    Column("connected_ms", BigInteger),
    Column("end_ms", BigInteger),
    Column("disconnect_type", String(40)),
    Column("wrapup", JSON),
    Column("wrapup_required", Boolean, nullable=False, default=False, server_default="0",
           index=True),
    Column("alerting_timeout_ms", Integer),
    Column("attributes", JSON),
)

messages = Table(
    "messages", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("conversation_id", ID, ForeignKey("conversations.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("participant_id", ID, nullable=False),
    Column("direction", String(10), nullable=False),
    Column("from_address", String(20), nullable=False),
    Column("to_address", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_rank", Integer, nullable=False),  # statuses only move up (domain rule)
    Column("segment_count", Integer, nullable=False),
    Column("encoding", String(10), nullable=False),
    Column("carrier", String(40), nullable=False),
    Column("user_id", ID),
    Column("provider_message_id", String(100), index=True),
    Column("error_code", String(60)),
    Column("error_message", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("status_ms", BigInteger, nullable=False),
    Column("inbound_key", String(160), unique=True),  # carrier:id, so a retry is stored once
)

outbox = Table(
    "outbox", metadata,
    Column("message_id", ID, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("org_id", ID, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("lease_until_ms", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_outbox_due", "next_attempt_ms"),
)

# -- inbound ACD messaging (migration 0002) ----------------------------------------------------

agent_states = Table(
    "agent_states", metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    _org(),
    Column("presence", String(20), nullable=False),
    Column("presence_message", Text),
    Column("presence_ms", BigInteger, nullable=False),
    Column("not_responding", Boolean, nullable=False, default=False),
    Column("status_ms", BigInteger, nullable=False),
    Column("message_capacity", Integer),  # NULL: the organisation's setting applies
)

org_settings = Table(
    "org_settings", metadata,
    Column("org_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("message_capacity", Integer, nullable=False),
)

skills = Table(
    "skills", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("name", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    UniqueConstraint("org_id", "name", name="uq_skills_org_name"),
)

user_skills = Table(
    "user_skills", metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ID, ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True,
           index=True),
    Column("proficiency", Float, nullable=False),
)

wrapup_codes = Table(
    "wrapup_codes", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("created_by", ID),
    Column("modified_by", ID),
    UniqueConstraint("org_id", "name", name="uq_wrapup_codes_org_name"),
)

queue_wrapup_codes = Table(
    "queue_wrapup_codes", metadata,
    Column("queue_id", ID, ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    Column("code_id", ID, ForeignKey("wrapup_codes.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)

flows = Table(
    "flows", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("type", String(40), nullable=False),
    Column("saved_yaml", Text),
    Column("saved_version", Integer),
    Column("published_version", Integer),
    Column("published_ms", BigInteger),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("created_by", ID),
    Column("modified_by", ID),
    UniqueConstraint("org_id", "name", name="uq_flows_org_name"),
)

flow_versions = Table(
    "flow_versions", metadata,
    Column("id", ID, primary_key=True),
    Column("flow_id", ID, ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("yaml", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", ID),
    Column("published_ms", BigInteger),
    UniqueConstraint("flow_id", "version", name="uq_flow_versions_flow_version"),
)

flow_runs = Table(
    "flow_runs", metadata,
    Column("conversation_id", ID, ForeignKey("conversations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("org_id", ID, nullable=False),
    Column("flow_id", ID, nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", JSON, nullable=False),
    Column("wait_until_ms", BigInteger, index=True),
    Column("updated_ms", BigInteger, nullable=False),
)

acd_interactions = Table(
    "acd_interactions", metadata,
    Column("conversation_id", ID, ForeignKey("conversations.id", ondelete="CASCADE"),
           primary_key=True),
    _org(),
    Column("queue_id", ID, nullable=False, index=True),
    Column("state", String(20), nullable=False),  # waiting, alerting, connected
    Column("priority", Integer, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("preferred_agent", ID),
    Column("enqueued_ms", BigInteger, nullable=False),
    Column("agent_id", ID),
    Column("participant_id", ID),
    Column("deadline_ms", BigInteger),
    Column("declined_by", JSON, nullable=False),
)

early_receipts = Table(
    "early_receipts", metadata,
    Column("carrier", String(40), primary_key=True, server_default=""),  # migration 0003
    Column("provider_message_id", String(100), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("status_rank", Integer, nullable=False),
    Column("status_ms", BigInteger, nullable=False),
    Column("error_code", String(60)),
    Column("error_message", Text),
)
"""Delivery receipts that arrived before the carrier's submit response was recorded."""

opt_outs = Table(
    "opt_outs", metadata,
    Column("org_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_address", String(20), primary_key=True),
    Column("org_address", String(20), primary_key=True),  # "*": every number of the org
    Column("keyword", String(40), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

opt_out_policies = Table(
    "opt_out_policies", metadata,
    Column("org_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("policy", JSON, nullable=False),
)

# -- carrier connections (migration 0003) -------------------------------------------------------

carrier_connections = Table(
    "carrier_connections", metadata,
    Column("id", ID, primary_key=True),
    _org(),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("secrets", JSON, nullable=False),  # never leaves the server through the API
    Column("inventory", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("created_by", ID),
    Column("modified_by", ID),
    UniqueConstraint("org_id", "name", name="uq_carrier_connections_org_name"),
)

message_parts = Table(
    "message_parts", metadata,
    Column("carrier", String(40), primary_key=True),
    Column("provider_message_id", String(100), primary_key=True),
    Column("message_id", ID, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("part", Integer, nullable=False),
    Column("parts", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_rank", Integer, nullable=False),
    Column("status_ms", BigInteger, nullable=False),
    Column("error_code", String(60)),
    Column("error_message", Text),
)
"""The carrier's id of each part of a multipart text, so a receipt for any part is matched
and the text is delivered only when every part is. Ids are the carrier's: two connections may
well hand out the same ones, so every match is on (carrier, id)."""

inbound_parts = Table(
    "inbound_parts", metadata,
    Column("carrier", String(40), primary_key=True),
    Column("part_key", String(200), primary_key=True),  # from|to|reference|total
    Column("seq", Integer, primary_key=True),
    Column("total", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("received_ms", BigInteger, nullable=False, index=True),
)
"""Parts of a multipart mobile-originated text, kept (and acknowledged) until all arrive."""
