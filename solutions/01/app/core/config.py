"""Settings: every knob of the service, read from the environment and `.env`, checked at start.

    LEDGER_ENVIRONMENT=production LEDGER_SECRET_KEY=… uv run workshop serve 01
"""

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

    ### BEGIN SOLUTION declare the settings: model_config with the LEDGER_ prefix and .env, then the fields (steps 2–5)
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
    ### END SOLUTION

    @field_validator("database_url")
    @classmethod
    def database_url_is_async_postgres(cls, value: str) -> str:
        """Refuse a URL SQLAlchemy cannot read, or one for another database or driver."""
        ### BEGIN SOLUTION parse the URL with sqlalchemy.engine.make_url and require postgresql+asyncpg (step 4)
        ### STUB return value
        try:
            url = make_url(value)
        except ArgumentError as error:
            raise ValueError(f"not a database URL: {error}") from None
        if url.drivername != "postgresql+asyncpg":
            raise ValueError(
                f"use the postgresql+asyncpg driver (postgresql+asyncpg://user:password@host/db), "
                f"not {url.drivername}"
            )
        return value
        ### END SOLUTION

    @model_validator(mode="before")
    @classmethod
    def environment_defaults(cls, data: Any) -> Any:
        """Fill the defaults that depend on the environment; an explicit value always wins."""
        ### BEGIN SOLUTION default debug to True in development only (step 5)
        ### STUB return data
        if isinstance(data, dict):
            environment = str(data.get("environment", Environment.DEVELOPMENT))
            data.setdefault("debug", environment == Environment.DEVELOPMENT)
        return data
        ### END SOLUTION

    @model_validator(mode="after")
    def refuse_default_secret_outside_development(self) -> Self:
        """A service started outside development with the well-known default secret is a leak."""
        ### BEGIN SOLUTION raise ValueError when secret_key is the default outside development (step 5)
        ### STUB return self
        if (
            self.environment is not Environment.DEVELOPMENT
            and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY
        ):
            raise ValueError(
                f"LEDGER_SECRET_KEY still has its default value; set a real secret for the "
                f"{self.environment} environment"
            )
        return self
        ### END SOLUTION


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per process; tests call `get_settings.cache_clear()`."""
    ### BEGIN SOLUTION return Settings(), cached so the environment is read once (step 6)
    return Settings()
    ### END SOLUTION
