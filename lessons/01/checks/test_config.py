"""Lesson 01 checks: Settings read the environment and `.env`, validate, and keep secrets secret.

Every check runs in an empty folder with no LEDGER_* variables (the `clean_env` fixture), so
your own `.env` never changes a result.
"""

import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from workshop.grading import load

pytestmark = pytest.mark.usefixtures("clean_env")

REAL_SECRET = "s3cr3t-for-the-checks-only"


def settings(**overrides: Any) -> Any:
    """A fresh Settings from the current environment and `.env`, plus keyword overrides."""
    return load("app.core.config").Settings(**overrides)


def error_text(**overrides: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**overrides)
    return str(caught.value)


@pytest.mark.step(2)
def test_settings_read_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: `SettingsConfigDict(env_prefix="LEDGER_")` maps LEDGER_APP_NAME to `app_name`."""
    monkeypatch.setenv("LEDGER_APP_NAME", "Ledger (staging)")
    monkeypatch.setenv("LEDGER_DB_POOL_SIZE", "7")
    loaded = settings()
    assert loaded.app_name == "Ledger (staging)", (
        f"Lesson 01: LEDGER_APP_NAME was set but app_name is {loaded.app_name!r}; "
        "set env_prefix='LEDGER_' in model_config (step 2)"
    )
    assert loaded.db_pool_size == 7, (
        f"Lesson 01: LEDGER_DB_POOL_SIZE=7 gave db_pool_size={loaded.db_pool_size!r} (step 2)"
    )


@pytest.mark.step(2)
def test_variables_without_the_prefix_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: with a prefix, a bare APP_NAME (another program's variable) must not leak in."""
    monkeypatch.setenv("APP_NAME", "somebody else's app")
    assert settings().app_name == "Ledger", (
        "Lesson 01: a variable without the LEDGER_ prefix changed the settings; set env_prefix='LEDGER_' (step 2)"
    )


@pytest.mark.step(3)
def test_settings_read_a_dotenv_file_in_the_working_folder(clean_env: Path) -> None:
    """Hint: `SettingsConfigDict(env_file=".env")` reads the file from the working folder."""
    (clean_env / ".env").write_text("LEDGER_APP_NAME=from-dotenv\n", encoding="utf-8")
    assert settings().app_name == "from-dotenv", (
        "Lesson 01: a .env file with LEDGER_APP_NAME was ignored; set env_file='.env' (step 3)"
    )


@pytest.mark.step(3)
def test_environment_variables_win_over_the_dotenv_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: this order is pydantic-settings' default; do not override settings_customise_sources."""
    (clean_env / ".env").write_text("LEDGER_APP_NAME=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("LEDGER_APP_NAME", "from-environment")
    assert settings().app_name == "from-environment", (
        "Lesson 01: .env won over the environment; a deployment must be able to override it (step 3)"
    )


@pytest.mark.step(3)
def test_unknown_keys_in_dotenv_are_ignored(clean_env: Path) -> None:
    """Hint: a shared .env also holds other tools' keys: `extra="ignore"` in model_config."""
    (clean_env / ".env").write_text("POSTGRES_PASSWORD=x\nLEDGER_NOT_A_FIELD=1\n", encoding="utf-8")
    try:
        settings()
    except ValidationError as error:
        pytest.fail(f"Lesson 01: unknown keys in .env broke the settings; add extra='ignore' (step 3): {error}")


@pytest.mark.step(4)
def test_a_bad_value_fails_fast_and_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: type the field (`db_pool_size: int`) and pydantic refuses "many" for you."""
    monkeypatch.setenv("LEDGER_DB_POOL_SIZE", "many")
    with pytest.raises(ValidationError) as caught:
        settings()
    assert "db_pool_size" in str(caught.value), (
        f"Lesson 01: the error does not name the field db_pool_size: {caught.value} (step 4)"
    )


@pytest.mark.step(4)
def test_impossible_pool_settings_are_refused() -> None:
    """Hint: `Field(default=5, ge=1)` bounds a number; a pool of 0 connections serves nobody."""
    for field, value in [("db_pool_size", 0), ("db_max_overflow", -1), ("db_pool_timeout", 0)]:
        try:
            settings(**{field: value})
        except ValidationError:
            continue
        pytest.fail(f"Lesson 01: {field}={value} was accepted; bound it with Field(ge=…/gt=…) (step 4)")


@pytest.mark.step(4)
def test_pool_settings_have_production_defaults() -> None:
    """Hint: see the table in step 4; lesson 02 passes these to create_async_engine."""
    loaded = settings()
    expected = {
        "db_pool_size": 5,
        "db_max_overflow": 10,
        "db_pool_timeout": 30.0,
        "db_pool_recycle": 1800,
        "db_pool_pre_ping": True,
    }
    actual = {name: getattr(loaded, name, "<missing>") for name in expected}
    assert actual == expected, f"Lesson 01: pool defaults are {actual}; expected {expected} (step 4)"


@pytest.mark.step(4)
def test_an_unknown_environment_is_refused() -> None:
    """Hint: type `environment` with the Environment enum, not str."""
    assert "environment" in error_text(environment="staging"), (
        "Lesson 01: environment='staging' should fail and name the field (step 4)"
    )


@pytest.mark.step(4)
def test_a_database_url_for_another_driver_is_refused() -> None:
    """Hint: `make_url(value).drivername` is 'postgresql+asyncpg' for the driver we use."""
    for url in ["mysql://root@localhost/ledger", "postgresql://postgres@localhost/ledger", "nonsense"]:
        try:
            settings(database_url=url)
        except ValidationError as error:
            assert "database_url" in str(error), f"Lesson 01: the error should name database_url: {error}"
            continue
        pytest.fail(f"Lesson 01: database_url={url!r} was accepted; require postgresql+asyncpg (step 4)")


@pytest.mark.step(4)
def test_a_socket_database_url_is_accepted() -> None:
    """Hint: the workshop's own server listens on a Unix socket: the URL has no host part."""
    url = "postgresql+asyncpg://postgres:@/ledger?host=/tmp/sockets"
    assert settings(database_url=url).database_url == url, (
        "Lesson 01: a valid socket URL was changed or refused; validate with make_url (step 4)"
    )


@pytest.mark.step(5)
def test_the_secret_key_never_shows_in_repr_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Hint: `secret_key: SecretStr`; read it with `.get_secret_value()` only where it is used."""
    monkeypatch.setenv("LEDGER_SECRET_KEY", REAL_SECRET)
    loaded = settings()
    assert isinstance(loaded.secret_key, SecretStr), (
        f"Lesson 01: secret_key is a {type(loaded.secret_key).__name__}; make it SecretStr (step 5)"
    )
    assert loaded.secret_key.get_secret_value() == REAL_SECRET, "Lesson 01: LEDGER_SECRET_KEY was not read"
    with caplog.at_level(logging.INFO):
        logging.getLogger("ledger").info("settings: %s / %r", loaded, loaded)
    for shown in (repr(loaded), str(loaded), loaded.model_dump_json(), caplog.text):
        assert REAL_SECRET not in shown, "Lesson 01: the secret key appears in plain text (step 5)"


@pytest.mark.step(5)
def test_debug_is_on_in_development_and_off_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: a `mode="before"` model validator can fill `debug` from `environment` when it is unset."""
    assert settings().debug is True, "Lesson 01: in development, debug should default to True (step 5)"
    monkeypatch.setenv("LEDGER_SECRET_KEY", REAL_SECRET)
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")
    assert settings().debug is False, "Lesson 01: in production, debug should default to False (step 5)"
    monkeypatch.setenv("LEDGER_DEBUG", "true")
    assert settings().debug is True, "Lesson 01: an explicit LEDGER_DEBUG must win over the default (step 5)"


@pytest.mark.step(5)
def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: a `mode="after"` model validator sees every field; raise ValueError from it."""
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")
    with pytest.raises(ValidationError) as caught:
        settings()
    assert "LEDGER_SECRET_KEY" in str(caught.value), (
        f"Lesson 01: say which variable to set in the error; got: {caught.value} (step 5)"
    )


@pytest.mark.step(5)
def test_production_accepts_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: only the well-known default is refused, not every secret."""
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")
    monkeypatch.setenv("LEDGER_SECRET_KEY", REAL_SECRET)
    loaded = settings()
    assert str(loaded.environment) == "production", "Lesson 01: LEDGER_ENVIRONMENT was not read (step 4)"


@pytest.mark.step(6)
def test_get_settings_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: `@lru_cache` on get_settings; tests clear it with `get_settings.cache_clear()`."""
    config = load("app.core.config")
    config.get_settings.cache_clear() if hasattr(config.get_settings, "cache_clear") else None
    first = config.get_settings()
    monkeypatch.setenv("LEDGER_APP_NAME", "changed after the first call")
    second = config.get_settings()
    assert isinstance(first, config.Settings), "Lesson 01: get_settings() should return a Settings (step 6)"
    assert second is first, (
        "Lesson 01: get_settings() built a new Settings on the second call; cache it with @lru_cache (step 6)"
    )
