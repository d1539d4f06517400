"""The class server's settings: from `class serve`'s options, or WORKSHOP_CLASS_* variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workshop.classroom import protocol


class ClassSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKSHOP_CLASS_", extra="ignore")

    # A SQLAlchemy URL with the asyncpg driver; a secret, since it may hold a password.
    database_url: SecretStr
    pool_size: int = Field(default=5, ge=1, le=100)
    max_overflow: int = Field(default=10, ge=0, le=100)
    max_learners: int = Field(default=protocol.MAX_LEARNERS, ge=1)
    # Results that arrive together are written in one transaction, up to this many.
    batch_size: int = Field(default=250, ge=1, le=1000)
    # The instructor's page is redrawn at least this often, so its minutes keep counting.
    redraw_seconds: float = Field(default=20.0, gt=0)
    # Wrong class codes tolerated from one address per minute before it must wait.
    join_failures_per_minute: int = Field(default=10, ge=1)

    @field_validator("database_url")
    @classmethod
    def _asyncpg(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                url = "postgresql+asyncpg://" + url.removeprefix(plain)
        if not url.startswith("postgresql+asyncpg://"):
            raise ValueError("the class server needs a PostgreSQL URL: postgresql://user:password@host/database")
        return SecretStr(url)
