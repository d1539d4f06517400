"""Settings: every knob of the service, read from the environment and `.env`, checked at start.

LEDGER_ENVIRONMENT=production LEDGER_SECRET_KEY=… uv run workshop serve 01
"""

from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SECRET_KEY = "change-me-in-production"


class Environment(StrEnum):
    """Where the service runs. Everything but development is treated like production: no default
    secret, debug off unless set."""

    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """The service's configuration. Field `database_url` is set by `LEDGER_DATABASE_URL`."""

    model_config = SettingsConfigDict(
        env_prefix="LEDGER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    app_name: str = "Ledger"
    environment: Environment = Environment.DEVELOPMENT
    debug: bool = False
    database_url: str = "postgresql+asyncpg://postgres:postgres@localhost:5432/ledger"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)

    # The connection pool (lesson 02 hands these to create_async_engine).
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=10, ge=0, le=100)
    db_pool_timeout: float = Field(default=30.0, gt=0)
    db_pool_recycle: int = Field(default=1800, ge=-1)
    db_pool_pre_ping: bool = True
    db_echo: bool = False

    # Browser origins allowed to call the API (lesson 06), as JSON: LEDGER_CORS_ORIGINS='["http://localhost:5173"]'
    cors_origins: list[str] = Field(default_factory=list)

    # How long an access token is good for (lesson 09), in minutes. Short: a stolen token is worth little,
    # and a client logs in again when it expires. secret_key above signs every token.
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)

    # Lesson 10: logs, probes, the exchange-rate service and the Redis cache.
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    # Redis caches exchange rates. Down, the service is slower (it asks the rate service each time), not broken.
    redis_url: str = "redis://localhost:6379/0"
    # The exchange-rate service: Frankfurter's API (ECB reference rates, no key).
    # GET {rates_url}/latest?base=EUR&symbols=USD
    rates_url: str = "https://api.frankfurter.dev/v1"
    rates_timeout: float = Field(default=2.0, gt=0, le=30, description="Seconds for each call: connect, read, write.")
    rates_retries: int = Field(default=2, ge=0, le=5, description="Extra attempts after a 5xx or a connection error.")
    rates_cache_seconds: int = Field(default=300, ge=1, le=24 * 3600, description="How long Redis keeps a rate.")
    # How long /health/ready waits for the database and for Redis, each, before it calls it down.
    ready_timeout: float = Field(default=1.0, gt=0, le=10)

    # --- lesson 11: API v1 is deprecated; these dates and this page are what its clients are told ---------
    # Every /api/v1 response says so: `Deprecation` (RFC 9745) since api_v1_deprecated_at, `Sunset` (RFC 8594)
    # at api_v1_sunset_at, when v1 stops answering, and a `Link` to the guide for moving to /api/v2.
    api_v1_deprecated_at: datetime = datetime(2026, 12, 1, tzinfo=UTC)
    api_v1_sunset_at: datetime = datetime(2027, 6, 1, tzinfo=UTC)
    # The workshop's docs page (`uv run workshop docs`); in production, the public copy of that page.
    api_v1_migration_guide: str = "http://127.0.0.1:8001/moving-from-v1-to-v2/"
    # --- end of lesson 11 -----------------------------------------------------------------------------

    @field_validator("database_url")
    @classmethod
    def database_url_is_async_postgres(cls, value: str) -> str:
        """Refuse a URL SQLAlchemy cannot read, or one for another database or driver."""
        try:
            url = make_url(value)
        except ArgumentError as error:
            raise ValueError(f"not a database URL: {error}") from None
        if url.drivername != "postgresql+asyncpg":
            raise ValueError(
                f"use the postgresql+asyncpg driver (postgresql+asyncpg://user:password@host/db), not {url.drivername}"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def environment_defaults(cls, data: Any) -> Any:
        """Fill the defaults that depend on the environment; an explicit value always wins."""
        if isinstance(data, dict):
            environment = str(data.get("environment", Environment.DEVELOPMENT))
            data.setdefault("debug", environment == Environment.DEVELOPMENT)
        return data

    @model_validator(mode="after")
    def sunset_after_deprecation(self) -> Self:
        """A version cannot be switched off before it was deprecated, and its dates need a time zone (lesson 11)."""
        for name in ("api_v1_deprecated_at", "api_v1_sunset_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} needs a time zone, e.g. 2027-06-01T00:00:00Z")
        if self.api_v1_sunset_at <= self.api_v1_deprecated_at:
            raise ValueError("api_v1_sunset_at must come after api_v1_deprecated_at")
        return self

    @model_validator(mode="after")
    def refuse_default_secret_outside_development(self) -> Self:
        """A service started outside development with the well-known default secret is a leak."""
        if self.environment is not Environment.DEVELOPMENT and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY:
            raise ValueError(
                f"LEDGER_SECRET_KEY still has its default value; set a real secret for the "
                f"{self.environment} environment"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per process; tests call `get_settings.cache_clear()`."""
    return Settings()
