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

    raise NotImplementedError("Lesson 01: declare the settings: model_config with the LEDGER_ prefix and .env, then the fields (steps 2–5)")

    @field_validator("database_url")
    @classmethod
    def database_url_is_async_postgres(cls, value: str) -> str:
        """Refuse a URL SQLAlchemy cannot read, or one for another database or driver."""
        # TODO Lesson 01: parse the URL with sqlalchemy.engine.make_url and require postgresql+asyncpg (step 4)
        return value

    @model_validator(mode="before")
    @classmethod
    def environment_defaults(cls, data: Any) -> Any:
        """Fill the defaults that depend on the environment; an explicit value always wins."""
        # TODO Lesson 01: default debug to True in development only (step 5)
        return data

    @model_validator(mode="after")
    def refuse_default_secret_outside_development(self) -> Self:
        """A service started outside development with the well-known default secret is a leak."""
        # TODO Lesson 01: raise ValueError when secret_key is the default outside development (step 5)
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per process; tests call `get_settings.cache_clear()`."""
    raise NotImplementedError("Lesson 01: return Settings(), cached so the environment is read once (step 6)")
