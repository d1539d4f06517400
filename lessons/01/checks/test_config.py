"""Lesson 01 checks: Settings read the environment and `.env`, validate, and keep secrets secret.

Every check runs in an empty folder with no LEDGER_* variables (the `clean_env` fixture), so
your own `.env` never changes a result.
"""

import importlib.util
import logging
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy.exc import ArgumentError

from workshop.grading import load

pytestmark = pytest.mark.usefixtures("clean_env")

# Long enough for a learner who also asks for a minimum length.
REAL_SECRET = "s3cr3t-for-the-lesson-01-checks-only-0123456789"
OUTSIDE_DEVELOPMENT = ["production", "staging", "test"]


def config() -> ModuleType:
    return load("app.core.config")


def summary(error: ValidationError) -> str:
    """A ValidationError on one line: `field: message; …`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'Settings'}: {item['msg']}" for item in error.errors()
    )


def configured(overrides: dict[str, Any]) -> str:
    """What this check configured, as the learner would have set it."""
    given = [f"{name}={value}" for name, value in sorted(os.environ.items()) if name.startswith("LEDGER_")]
    given += [f"{name}={value!r}" for name, value in overrides.items()]
    return ", ".join(given) or "nothing set: every default"


def settings(**overrides: Any) -> Any:
    """A fresh Settings from the current environment and `.env`, plus keyword overrides; it must be accepted."""
    try:
        return config().Settings(**overrides)
    except ValidationError as error:
        pytest.fail(
            f"Lesson 01: Settings() refused a configuration it should accept ({configured(overrides)}): "
            f"{summary(error)}"
        )


def refusal(**overrides: Any) -> ValidationError | None:
    """The ValidationError of Settings(**overrides), or None when it was accepted."""
    try:
        config().Settings(**overrides)
    except ValidationError as error:
        return error
    return None


def names_field(error: ValidationError, field: str) -> bool:
    return any(item["loc"][:1] == (field,) for item in error.errors())


# --- step 2 -------------------------------------------------------------------------------------


@pytest.mark.step(2)
def test_settings_read_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: the prefix belongs to the class, in model_config; LEDGER_APP_NAME then sets `app_name`."""
    monkeypatch.setenv("LEDGER_APP_NAME", "Ledger (from the environment)")
    monkeypatch.setenv("LEDGER_DB_POOL_SIZE", "7")
    loaded = settings()
    assert loaded.app_name == "Ledger (from the environment)", (
        f"Lesson 01: LEDGER_APP_NAME was set but app_name is {loaded.app_name!r}: Ledger's variables are "
        "its field names behind the LEDGER_ prefix; check env_prefix in model_config (step 2)"
    )
    assert getattr(loaded, "db_pool_size", None) == 7, (
        f"Lesson 01: LEDGER_DB_POOL_SIZE=7 gave db_pool_size={getattr(loaded, 'db_pool_size', '<missing>')!r}; "
        "check env_prefix and the field's name (step 2)"
    )


@pytest.mark.step(2)
def test_variables_without_the_prefix_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: with a prefix, a bare APP_NAME (another program's variable) must not leak in."""
    monkeypatch.setenv("APP_NAME", "somebody else's app")
    assert settings().app_name == "Ledger", (
        "Lesson 01: APP_NAME, another program's variable without the LEDGER_ prefix, changed app_name: "
        "without an env_prefix every variable on the host can set Ledger's fields (step 2)"
    )


# --- step 3 -------------------------------------------------------------------------------------


@pytest.mark.step(3)
def test_settings_read_a_dotenv_file_in_the_working_folder(clean_env: Path) -> None:
    """Hint: `env_file` names the file; a relative name is read from the folder the process starts in."""
    (clean_env / ".env").write_text("LEDGER_APP_NAME=from-dotenv\n", encoding="utf-8")
    app_name = settings().app_name
    assert app_name == "from-dotenv", (
        f"Lesson 01: ./.env in the working folder set LEDGER_APP_NAME=from-dotenv, but app_name is {app_name!r}: "
        "the .env file was not read from where the service starts (step 3)"
    )


@pytest.mark.step(3)
def test_environment_variables_win_over_the_dotenv_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: this order is pydantic-settings' default; do not override settings_customise_sources."""
    (clean_env / ".env").write_text("LEDGER_APP_NAME=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("LEDGER_APP_NAME", "from-environment")
    app_name = settings().app_name
    assert app_name == "from-environment", (
        f"Lesson 01: .env won over the environment (app_name={app_name!r}): a deployment must be able to "
        "override a developer's .env with a variable (step 3)"
    )


@pytest.mark.step(3)
def test_unknown_keys_in_dotenv_are_ignored(clean_env: Path) -> None:
    """Hint: a shared .env also holds other tools' keys; model_config says what to do with extra input."""
    (clean_env / ".env").write_text("POSTGRES_PASSWORD=x\nLEDGER_NOT_A_FIELD=1\n", encoding="utf-8")
    error = refusal()
    assert error is None, (
        f"Lesson 01: keys of other tools in .env (POSTGRES_PASSWORD) stopped the service: {summary(error)}; "
        "unknown keys must be ignored, with extra='ignore' (step 3)"
    )
    kept = sorted(getattr(settings(), "model_extra", None) or {})
    assert not kept, (
        f"Lesson 01: keys that are no field were kept on the settings ({', '.join(kept)}), where repr() and "
        "logs print them, POSTGRES_PASSWORD included; they must be ignored, with extra='ignore' (step 3)"
    )


# --- step 4 -------------------------------------------------------------------------------------


@pytest.mark.step(4)
def test_a_bad_value_fails_fast_and_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: type the field (`db_pool_size: int`) and pydantic refuses "many" for you; never fall back."""
    monkeypatch.setenv("LEDGER_DB_POOL_SIZE", "many")
    error = refusal()
    if error is None:
        loaded = settings()
        assert hasattr(loaded, "db_pool_size"), (
            "Lesson 01: LEDGER_DB_POOL_SIZE=many was ignored: Settings has no field db_pool_size, so the "
            "variable configures nothing; the table in step 4 names the fields (step 4)"
        )
        got = loaded.db_pool_size
        pytest.fail(
            f"Lesson 01: LEDGER_DB_POOL_SIZE=many was accepted (db_pool_size={got!r}): bad configuration must "
            "stop the service at start, naming the field, not be replaced by a default (step 4)"
        )
    assert names_field(error, "db_pool_size"), (
        f"Lesson 01: the error does not name the field db_pool_size: {summary(error)} (step 4)"
    )


@pytest.mark.step(4)
def test_impossible_pool_settings_are_refused() -> None:
    """Hint: `Field(default=…, ge=…, le=…)` bounds a number; see the table in step 4."""
    impossible = [
        ("db_pool_size", 0),
        ("db_pool_size", 101),
        ("db_max_overflow", -1),
        ("db_max_overflow", 101),
        ("db_pool_timeout", 0),
        ("db_pool_recycle", -2),
    ]
    for field, value in impossible:
        error = refusal(**{field: value})
        assert error is not None and names_field(error, field), (
            f"Lesson 01: {field}={value} was accepted, outside the bounds of the table in step 4; "
            "bound the field with Field(ge=…, le=…) or gt=… (step 4)"
        )


@pytest.mark.step(4)
def test_pool_settings_accept_every_value_within_their_bounds() -> None:
    """Hint: a bound is inclusive with ge/le and exclusive with gt; the table in step 4 gives the edges."""
    edges = [
        ("db_pool_size", 1),
        ("db_pool_size", 100),
        ("db_max_overflow", 0),
        ("db_max_overflow", 100),
        ("db_pool_timeout", 0.5),
        ("db_pool_recycle", -1),
        ("db_pool_recycle", 0),
    ]
    for field, value in edges:
        error = refusal(**{field: value})
        assert error is None, (
            f"Lesson 01: {field}={value} was refused ({summary(error)}), yet the table in step 4 allows it"
            + (" (-1 is SQLAlchemy's value for 'never recycle')" if value == -1 else "")
            + "; a bound too tight refuses a valid configuration at start: check ge/le/gt (step 4)"
        )


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
    wrong = [
        f"{name} defaults to {getattr(loaded, name, '<missing>')!r}, expected {value!r}"
        for name, value in expected.items()
        if getattr(loaded, name, "<missing>") != value
    ]
    assert not wrong, f"Lesson 01: {'; '.join(wrong)} (the table in step 4)"


@pytest.mark.step(4)
def test_sql_echo_is_off_by_default() -> None:
    """Hint: see the table in step 4: echo is a switch you turn on while debugging a query."""
    echo = getattr(settings(), "db_echo", "<missing>")
    assert echo is False, (
        f"Lesson 01: db_echo defaults to {echo!r}: echo logs every SQL statement with its parameters "
        "(owners, amounts), so it must be off unless LEDGER_DB_ECHO turns it on (step 4)"
    )


@pytest.mark.step(4)
def test_an_unknown_environment_is_refused() -> None:
    """Hint: type `environment` with the Environment enum, not str, and never fall back to a default."""
    error = refusal(environment="prod", secret_key=REAL_SECRET)
    if error is None:
        got = settings(environment="prod", secret_key=REAL_SECRET).environment
        pytest.fail(
            f"Lesson 01: environment='prod' (a typo of production) was accepted as {str(got)!r}: an unknown "
            "environment must stop the service, naming the field environment (step 4)"
        )
    assert names_field(error, "environment"), (
        f"Lesson 01: environment='prod' was refused, but the error does not name the field environment: "
        f"{summary(error)} (step 4)"
    )


@pytest.mark.step(4)
def test_a_database_url_for_another_driver_is_refused() -> None:
    """Hint: `make_url(value).drivername` is 'postgresql+asyncpg' for the driver we use."""
    for url in [
        "mysql://root@localhost/ledger",
        "postgresql://postgres@localhost/ledger",
        "postgresql+psycopg2://postgres@localhost/ledger",
        "sqlite+aiosqlite:///ledger.db",
    ]:
        error = refusal(database_url=url)
        assert error is not None, (
            f"Lesson 01: database_url={url!r} was accepted: only postgresql+asyncpg works with Ledger's "
            "async engine; refuse every other database and driver (step 4)"
        )
        assert names_field(error, "database_url"), (
            f"Lesson 01: database_url={url!r} was refused, but the error does not name database_url: "
            f"{summary(error)} (step 4)"
        )


@pytest.mark.step(4)
def test_text_that_is_not_a_database_url_is_refused() -> None:
    """Hint: make_url raises ArgumentError on text that is not a URL; a validator reports with ValueError."""
    try:
        error = refusal(database_url="nonsense")
    except ArgumentError as raw:
        pytest.fail(
            f"Lesson 01: database_url='nonsense' raised sqlalchemy's ArgumentError ({raw}), which pydantic does "
            "not catch: the service would crash with a traceback instead of naming the field; a validator "
            "reports a bad value as a ValueError (step 4)"
        )
    assert error is not None, "Lesson 01: database_url='nonsense' was accepted: it is not a URL at all (step 4)"
    assert names_field(error, "database_url"), (
        f"Lesson 01: database_url='nonsense' was refused, but the error does not name database_url: "
        f"{summary(error)} (step 4)"
    )


@pytest.mark.step(4)
def test_a_socket_database_url_is_accepted() -> None:
    """Hint: the workshop's own server listens on a Unix socket: the URL has no host part."""
    url = "postgresql+asyncpg://postgres:@/ledger?host=/tmp/sockets"
    error = refusal(database_url=url)
    assert error is None, (
        f"Lesson 01: the Unix-socket URL {url} was refused ({summary(error)}): a URL without a host is "
        "valid for asyncpg, and it is how the workshop's database is reached (step 4)"
    )


@pytest.mark.step(4)
def test_a_database_url_is_kept_exactly_as_given() -> None:
    """Hint: a validator checks the URL and returns the value it was given, unchanged."""
    for url in [
        "postgresql+asyncpg://ledger:pa55-w0rd@db.example:5432/ledger",
        "postgresql+asyncpg://postgres:@/ledger?host=/tmp/sockets",
    ]:
        kept = settings(database_url=url).database_url
        assert kept == url, (
            f"Lesson 01: database_url={url!r} came back as {kept!r}: the engine would connect with that; "
            "return the value unchanged (str() of a parsed URL hides its password) (step 4)"
        )


@pytest.mark.step(4)
def test_no_browser_origin_is_allowed_by_default() -> None:
    """Hint: an empty list; each deployment names its own front-end origins."""
    origins = getattr(settings(), "cors_origins", "<missing>")
    assert origins == [], (
        f"Lesson 01: cors_origins defaults to {origins!r}: by default no browser origin may call the API; "
        "a deployment lists its own with LEDGER_CORS_ORIGINS (step 4)"
    )


@pytest.mark.step(4)
def test_cors_origins_are_read_from_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: `list[str]`: pydantic-settings reads a list from the environment as JSON."""
    monkeypatch.setenv("LEDGER_CORS_ORIGINS", '["http://localhost:5173", "https://ledger.example"]')
    origins = getattr(settings(), "cors_origins", "<missing>")
    assert origins == ["http://localhost:5173", "https://ledger.example"], (
        f'Lesson 01: LEDGER_CORS_ORIGINS=\'["http://localhost:5173", "https://ledger.example"]\' gave '
        f"cors_origins={origins!r}; expected a list of the two origins (step 4)"
    )


# --- step 5 -------------------------------------------------------------------------------------


@pytest.mark.step(5)
def test_the_secret_key_never_shows_in_repr_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Hint: `secret_key: SecretStr`; read it with `.get_secret_value()` only where it is used."""
    monkeypatch.setenv("LEDGER_SECRET_KEY", REAL_SECRET)
    loaded = settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("ledger").info("settings: %s / %r", loaded, loaded)
    for where, shown in [
        ("repr(settings)", repr(loaded)),
        ("str(settings)", str(loaded)),
        ("settings.model_dump_json()", loaded.model_dump_json()),
        ("a log line", caplog.text),
    ]:
        assert REAL_SECRET not in shown, (
            f"Lesson 01: the secret key appears in plain text in {where}: anyone who reads the logs can sign "
            "as the service (step 5)"
        )
    assert isinstance(loaded.secret_key, SecretStr), (
        f"Lesson 01: secret_key is a {type(loaded.secret_key).__name__}; make it a SecretStr (step 5)"
    )
    assert loaded.secret_key.get_secret_value() == REAL_SECRET, (
        "Lesson 01: LEDGER_SECRET_KEY was set but secret_key does not hold it (step 5)"
    )


@pytest.mark.step(5)
def test_debug_defaults_to_on_in_development() -> None:
    """Hint: a `mode="before"` model validator sees the raw input; an unset environment means development."""
    debug = settings().debug
    assert debug is True, (
        f"Lesson 01: with nothing set (so in development), debug defaulted to {debug!r}; expected True (step 5)"
    )


@pytest.mark.step(5)
@pytest.mark.parametrize("environment", OUTSIDE_DEVELOPMENT)
def test_debug_defaults_to_off_outside_development(
    environment: str, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: only development turns debug on by default; every other environment is treated like production."""
    monkeypatch.setenv("LEDGER_SECRET_KEY", REAL_SECRET)
    monkeypatch.setenv("LEDGER_ENVIRONMENT", environment)
    debug = settings().debug
    assert debug is False, (
        f"Lesson 01: in {environment}, debug defaulted to {debug!r}: debug output shows internals to every "
        "client; outside development it stays off unless LEDGER_DEBUG turns it on (step 5)"
    )
    # The same environment given another way: the default follows the settings' input, not one source.
    monkeypatch.delenv("LEDGER_ENVIRONMENT")
    (clean_env / ".env").write_text(f"LEDGER_ENVIRONMENT={environment}\n", encoding="utf-8")
    from_dotenv = settings().debug
    (clean_env / ".env").unlink()
    from_argument = settings(environment=environment).debug
    for source, debug in [("in .env", from_dotenv), (f"as Settings(environment={environment!r})", from_argument)]:
        assert debug is False, (
            f"Lesson 01: with the {environment} environment set {source} (not as a LEDGER_ENVIRONMENT "
            f"variable), debug defaulted to {debug!r}: the default must follow the environment the settings "
            "are given, whatever its source; read it from the validator's input data, not from os.environ "
            "(step 5)"
        )


@pytest.mark.step(5)
def test_an_explicit_debug_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: fill `debug` only when the input has none: `data.setdefault(...)`."""
    monkeypatch.setenv("LEDGER_SECRET_KEY", REAL_SECRET)
    for environment, value in [("production", "true"), ("development", "false")]:
        monkeypatch.setenv("LEDGER_ENVIRONMENT", environment)
        monkeypatch.setenv("LEDGER_DEBUG", value)
        debug = settings().debug
        assert debug is (value == "true"), (
            f"Lesson 01: in {environment}, LEDGER_DEBUG={value} was set but debug is {debug!r}: an explicit "
            "value must win over the environment's default (step 5)"
        )


@pytest.mark.step(5)
@pytest.mark.parametrize("environment", OUTSIDE_DEVELOPMENT)
def test_the_default_secret_is_refused_outside_development(environment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: a `mode="after"` model validator sees every field; raise ValueError from it."""
    monkeypatch.setenv("LEDGER_ENVIRONMENT", environment)
    error = refusal()
    assert error is not None, (
        f"Lesson 01: in {environment}, the default secret key was accepted: everyone who has read this "
        "code knows it; only development may run with it (step 5)"
    )
    assert "LEDGER_SECRET_KEY" in str(error), (
        f"Lesson 01: in {environment}, the default secret was refused, but the error does not name "
        f"LEDGER_SECRET_KEY, the variable to set: {summary(error)} (step 5)"
    )
    # The same module compiled as `python -O` (or PYTHONOPTIMIZE=1) runs it: without its assert statements.
    path = Path(config().__file__)
    optimized = ModuleType("ledger_config_optimized_probe")
    optimized.__file__ = str(path)
    monkeypatch.setitem(sys.modules, optimized.__name__, optimized)
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec", optimize=1), vars(optimized))
        optimized.Settings()
    except ValidationError:  # refused (perhaps already by a Settings() at import: another check's business)
        return
    pytest.fail(
        f"Lesson 01: under `python -O` (PYTHONOPTIMIZE=1, common in production images), {environment} started "
        "with the default secret key: the refusal is an assert statement, which -O removes; refuse with "
        "raise ValueError(...) (step 5)"
    )


@pytest.mark.step(5)
def test_development_accepts_the_default_secret() -> None:
    """Hint: the refusal applies outside development only; a laptop needs no real secret."""
    error = refusal()
    assert error is None, (
        f"Lesson 01: in development (nothing set), the default secret key was refused: {summary(error)}; "
        "only the other environments refuse it (step 5)"
    )


@pytest.mark.step(5)
def test_production_accepts_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: only the well-known default is refused, not every secret."""
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")
    monkeypatch.setenv("LEDGER_SECRET_KEY", REAL_SECRET)
    error = refusal()
    assert error is None, (
        f"Lesson 01: in production, a real LEDGER_SECRET_KEY was refused: {summary(error)}; only the default "
        "secret is refused (step 5)"
    )
    assert str(settings().environment) == "production", "Lesson 01: LEDGER_ENVIRONMENT was not read (step 4)"


# --- step 6 -------------------------------------------------------------------------------------


@pytest.mark.step(6)
def test_get_settings_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: `@lru_cache` on get_settings; tests clear it with `get_settings.cache_clear()`."""
    module = config()
    first = module.get_settings()
    monkeypatch.setenv("LEDGER_APP_NAME", "changed after the first call")
    second = module.get_settings()
    assert isinstance(first, module.Settings), "Lesson 01: get_settings() should return a Settings (step 6)"
    assert second is first, (
        "Lesson 01: get_settings() built a new Settings on the second call: every request would read the "
        "environment again; cache it with @lru_cache (step 6)"
    )


@pytest.mark.step(6)
def test_get_settings_reads_the_environment_on_its_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: get_settings() builds the Settings itself, the first time it is called."""
    module = config()
    clear = getattr(module.get_settings, "cache_clear", None)
    assert callable(clear), (
        "Lesson 01: get_settings has no cache_clear(): tests and later lessons reset the settings with "
        "get_settings.cache_clear(), which the cache of @lru_cache provides (step 6)"
    )
    monkeypatch.setenv("LEDGER_APP_NAME", "set before the first call")
    clear()
    try:
        app_name = module.get_settings().app_name
    finally:
        clear()
    assert app_name == "set before the first call", (
        f"Lesson 01: LEDGER_APP_NAME was set before get_settings() was first called (after cache_clear()), "
        f"yet it returned app_name={app_name!r}: those settings were built earlier, at import; build them "
        "when get_settings() is first called (step 6)"
    )


@pytest.mark.step(6)
def test_importing_the_config_module_builds_no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: nothing at the top level of config.py may call Settings() or get_settings()."""
    path = config().__file__
    # An environment Settings() refuses: a module that reads it at import cannot even be imported.
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")
    monkeypatch.setenv("LEDGER_DB_POOL_SIZE", "many")
    spec = importlib.util.spec_from_file_location("ledger_config_import_probe", path)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(fresh)
    except ValidationError as error:
        pytest.fail(
            f"Lesson 01: with a bad LEDGER_* environment, importing app/core/config.py failed ({summary(error)}): "
            "the module builds Settings at import, before a test or a script can fix the environment; "
            "build them only when get_settings() is first called (step 6)"
        )
    built = [name for name, value in vars(fresh).items() if isinstance(value, fresh.Settings)]
    assert not built, (
        f"Lesson 01: importing app/core/config.py builds a Settings ({', '.join(built)}) at import; "
        "build it only when get_settings() is first called (step 6)"
    )
