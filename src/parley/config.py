"""Settings, from environment variables with the PARLEY_ prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from parley.domain.flows import DataHostRules


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/parley.db",
        description="sqlite+aiosqlite:///path (embedded) or postgresql+asyncpg://user@host/db")
    data_dir: Path = Field(default=Path("var"),
                           description="where the embedded server keeps its files")
    token_ttl_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    sim_enabled: bool = Field(default=True, description="the built-in simulator carrier")
    sim_delivery_delay_ms: int = Field(default=300, ge=0)
    default_carrier: str = "sim"
    public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="the URL people and providers reach this server at (webhooks are signed "
                    "against it)")
    outbox_lease_ms: int = Field(default=30_000, ge=1_000)
    outbox_poll_interval_s: float = Field(default=1.0, gt=0)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65_536, ge=64,
                                   description="Argon2id memory per password hash")
    threading_window_hours: int = Field(
        default=72, ge=0, le=72,
        description="a text within this many hours of a conversation's end continues it")
    notification_heartbeat_s: float = Field(default=30.0, gt=0)
    log_level: str = "INFO"
    data_action_allow: str = Field(
        default="",
        description="hosts and networks flows' data actions may call although they are not "
                    "public, comma-separated: crm.internal, *.corp.example, 10.1.0.0/16")

    @field_validator("data_action_allow")
    @classmethod
    def _readable_allow_list(cls, value: str) -> str:
        DataHostRules.parse(value)  # refuse a typo at start-up, not at the first call
        return value

    @property
    def data_hosts(self) -> DataHostRules:
        """What data actions may reach besides public addresses."""
        return DataHostRules.parse(self.data_action_allow)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
