"""Lesson 01's mutants: wrong settings a reviewer would reject, each caught by the checks it names.

`uv run workshop verify 01` plants each one in a copy of the solution and proves that the named
checks fail with a `Lesson 01:` message containing `says`.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

URL_RETURN = '                f"not {url.drivername}"\n            )\n        return value\n'

MUTANTS = [
    # --- step 2: the prefix -----------------------------------------------------------------
    Mutant(
        "no-env-prefix",
        find='        env_prefix="LEDGER_",\n',
        replace="",
        killed_by=[
            "test_settings_read_prefixed_environment_variables",
            "test_variables_without_the_prefix_are_ignored",
        ],
        says="env_prefix",
        why="without a prefix any APP_NAME or DATABASE_URL on the host configures Ledger, and LEDGER_* is ignored",
    ),
    Mutant(
        "prefix-without-underscore",
        find='        env_prefix="LEDGER_",\n',
        replace='        env_prefix="LEDGER",\n',
        killed_by=["test_settings_read_prefixed_environment_variables"],
        says="env_prefix",
        why="the prefix is glued to the name: LEDGERAPP_NAME would be read and the documented LEDGER_APP_NAME not",
    ),
    # --- step 3: .env -----------------------------------------------------------------------
    Mutant(
        "no-dotenv",
        find='        env_file=".env",\n',
        replace="",
        killed_by=["test_settings_read_a_dotenv_file_in_the_working_folder"],
        says="the .env file was not read",
        why="the developer's .env is silently ignored: the local setup the README promises does not work",
    ),
    Mutant(
        "dotenv-next-to-the-code",
        find='        env_file=".env",\n',
        replace='        env_file=Path(__file__).with_name(".env"),\n',
        also=[Edit(find="from enum import StrEnum\n", replace="from enum import StrEnum\nfrom pathlib import Path\n")],
        killed_by=["test_settings_read_a_dotenv_file_in_the_working_folder"],
        says="the .env file was not read",
        why="reads app/core/.env, inside the package (and the image), instead of the .env where the service starts",
    ),
    Mutant(
        "dotenv-beats-the-environment",
        find="    cors_origins: list[str] = Field(default_factory=list)\n",
        replace=(
            "    cors_origins: list[str] = Field(default_factory=list)\n\n"
            "    @classmethod\n"
            "    def settings_customise_sources(  # type: ignore[no-untyped-def]\n"
            "        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings\n"
            "    ):\n"
            "        return init_settings, dotenv_settings, env_settings, file_secret_settings\n"
        ),
        killed_by=["test_environment_variables_win_over_the_dotenv_file"],
        says=".env won over the environment",
        why="a deployment can no longer override a stray .env: the file baked into a host wins over its variables",
    ),
    Mutant(
        "extra-forbid",
        find='        extra="ignore",\n',
        replace='        extra="forbid",\n',
        killed_by=["test_unknown_keys_in_dotenv_are_ignored"],
        says="extra='ignore'",
        why="the .env shared with Docker Compose (POSTGRES_PASSWORD) stops the service from starting",
    ),
    Mutant(
        "extra-left-at-its-default",
        find='        extra="ignore",\n',
        replace="",
        killed_by=["test_unknown_keys_in_dotenv_are_ignored"],
        says="extra='ignore'",
        why="BaseSettings forbids extra input by default: any other tool's key in .env stops the service",
    ),
    Mutant(
        "extra-allow",
        find='        extra="ignore",\n',
        replace='        extra="allow",\n',
        killed_by=["test_unknown_keys_in_dotenv_are_ignored"],
        says="were kept on the settings",
        why="other tools' keys, POSTGRES_PASSWORD included, become attributes that repr() and logs print",
    ),
    # --- step 4: types, bounds, the URL ---------------------------------------------------------
    Mutant(
        "bad-pool-size-falls-back-to-the-default",
        find='    @field_validator("database_url")\n',
        replace=(
            '    @field_validator("db_pool_size", mode="before")\n'
            "    @classmethod\n"
            "    def lenient_pool_size(cls, value: Any) -> Any:\n"
            "        try:\n"
            "            return int(value)\n"
            "        except (TypeError, ValueError):\n"
            "            return 5\n\n"
            '    @field_validator("database_url")\n'
        ),
        killed_by=["test_a_bad_value_fails_fast_and_names_the_field"],
        says="was accepted",
        why="a typo in production silently runs with a default instead of stopping the deploy",
    ),
    Mutant(
        "pool-size-misnamed",
        find="    db_pool_size: int = Field(default=5, ge=1, le=100)\n",
        replace="    pool_size: int = Field(default=5, ge=1, le=100)\n",
        killed_by=[
            "test_a_bad_value_fails_fast_and_names_the_field",
            "test_settings_read_prefixed_environment_variables",
        ],
        says="LEDGER_DB_POOL_SIZE",
        why="LEDGER_DB_POOL_SIZE is silently ignored (extra='ignore') and lesson 02 finds no db_pool_size",
    ),
    Mutant(
        "pool-size-unbounded",
        find="    db_pool_size: int = Field(default=5, ge=1, le=100)\n",
        replace="    db_pool_size: int = 5\n",
        killed_by=["test_impossible_pool_settings_are_refused"],
        says="db_pool_size=0 was accepted",
        why="a pool of 0 connections serves nobody, and 1000 exhausts PostgreSQL's max_connections",
    ),
    Mutant(
        "pool-size-without-upper-bound",
        find="    db_pool_size: int = Field(default=5, ge=1, le=100)\n",
        replace="    db_pool_size: int = Field(default=5, ge=1)\n",
        killed_by=["test_impossible_pool_settings_are_refused"],
        says="db_pool_size=101 was accepted",
        why="a typo of 500 connections per process exhausts the database at the next deploy",
    ),
    Mutant(
        "pool-timeout-may-be-zero",
        find="    db_pool_timeout: float = Field(default=30.0, gt=0)\n",
        replace="    db_pool_timeout: float = Field(default=30.0, ge=0)\n",
        killed_by=["test_impossible_pool_settings_are_refused"],
        says="db_pool_timeout=0 was accepted",
        why="a timeout of 0 fails every request that has to wait a moment for a connection",
    ),
    Mutant(
        "overflow-unbounded",
        find="    db_max_overflow: int = Field(default=10, ge=0, le=100)\n",
        replace="    db_max_overflow: int = 10\n",
        killed_by=["test_impossible_pool_settings_are_refused"],
        says="db_max_overflow=-1 was accepted",
        why="a negative overflow is meaningless and reaches create_async_engine unchecked",
    ),
    Mutant(
        "pre-ping-off",
        find="    db_pool_pre_ping: bool = True\n",
        replace="    db_pool_pre_ping: bool = False\n",
        killed_by=["test_pool_settings_have_production_defaults"],
        says="db_pool_pre_ping defaults to False",
        why="after a database restart the pool hands out dead connections and the first requests fail",
    ),
    Mutant(
        "connections-never-recycled",
        find="    db_pool_recycle: int = Field(default=1800, ge=-1)\n",
        replace="    db_pool_recycle: int = Field(default=-1, ge=-1)\n",
        killed_by=["test_pool_settings_have_production_defaults"],
        says="db_pool_recycle defaults to -1",
        why="connections live forever and are cut by firewalls and proxies with idle timeouts",
    ),
    Mutant(
        "sql-echo-on-by-default",
        find="    db_echo: bool = False\n",
        replace="    db_echo: bool = True\n",
        killed_by=["test_sql_echo_is_off_by_default"],
        says="db_echo defaults to True",
        why="every statement and its parameters (owners, amounts) land in the production logs",
    ),
    Mutant(
        "environment-typed-as-str",
        find="    environment: Environment = Environment.DEVELOPMENT\n",
        replace='    environment: str = "development"\n',
        killed_by=["test_an_unknown_environment_is_refused"],
        says="environment='prod' (a typo of production) was accepted",
        why="LEDGER_ENVIRONMENT=prod starts the service, in no environment the code knows",
    ),
    Mutant(
        "unknown-environment-falls-back-to-development",
        find='            environment = str(data.get("environment", Environment.DEVELOPMENT))\n',
        replace=(
            '            if data.get("environment") not in list(Environment):\n'
            '                data["environment"] = Environment.DEVELOPMENT\n'
            '            environment = str(data.get("environment", Environment.DEVELOPMENT))\n'
        ),
        killed_by=["test_an_unknown_environment_is_refused"],
        says="was accepted as 'development'",
        why="a typo in production's LEDGER_ENVIRONMENT turns debug on and accepts the default secret",
    ),
    Mutant(
        "url-backend-checked-not-the-driver",
        find='        if url.drivername != "postgresql+asyncpg":\n',
        replace='        if url.get_backend_name() != "postgresql":\n',
        killed_by=["test_a_database_url_for_another_driver_is_refused"],
        says="was accepted",
        why="postgresql:// means the synchronous psycopg2 driver: the async engine fails at the first request",
    ),
    Mutant(
        "url-driver-never-checked",
        find='        if url.drivername != "postgresql+asyncpg":\n',
        replace="        if False:\n",
        killed_by=["test_a_database_url_for_another_driver_is_refused"],
        says="was accepted",
        why="any parseable URL passes, MySQL and SQLite included: the mistake surfaces at the first query",
    ),
    Mutant(
        "argument-error-escapes",
        find=(
            "        try:\n"
            "            url = make_url(value)\n"
            "        except ArgumentError as error:\n"
            '            raise ValueError(f"not a database URL: {error}") from None\n'
        ),
        replace="        url = make_url(value)\n",
        killed_by=["test_text_that_is_not_a_database_url_is_refused"],
        says="ArgumentError",
        why="pydantic only reports ValueError: an ArgumentError crashes the start with a traceback naming no field",
    ),
    Mutant(
        "unparsable-url-waved-through",
        find='            raise ValueError(f"not a database URL: {error}") from None\n',
        replace="            return value\n",
        killed_by=["test_text_that_is_not_a_database_url_is_refused"],
        says="was accepted",
        why="text that is not a URL starts the service, which then fails at its first query",
    ),
    Mutant(
        "url-requires-a-host",
        find=URL_RETURN,
        replace=URL_RETURN.replace(
            "        return value\n",
            '        if not url.host:\n            raise ValueError("the URL needs a host")\n        return value\n',
        ),
        killed_by=["test_a_socket_database_url_is_accepted"],
        says="was refused",
        why="a Unix-socket URL has no host: the workshop's own database (and many managed ones) become unreachable",
    ),
    Mutant(
        "url-typed-postgresdsn",
        find='    database_url: str = "postgresql+asyncpg://postgres:postgres@localhost:5432/ledger"\n',
        replace=(
            '    database_url: PostgresDsn = "postgresql+asyncpg://postgres:postgres@localhost:5432/ledger"'
            "  # type: ignore[assignment]\n"
        ),
        also=[
            Edit(find="            url = make_url(value)\n", replace="            url = make_url(str(value))\n"),
            Edit(
                find="from pydantic import Field, SecretStr,",
                replace="from pydantic import Field, PostgresDsn, SecretStr,",
            ),
        ],
        killed_by=["test_a_socket_database_url_is_accepted"],
        says="was refused",
        why="PostgresDsn requires a host: the Unix-socket URL of the workshop's database is refused",
    ),
    Mutant(
        "url-returned-as-str-of-make-url",
        find=URL_RETURN,
        replace=URL_RETURN.replace("        return value\n", "        return str(url)\n"),
        killed_by=["test_a_database_url_is_kept_exactly_as_given"],
        says="came back as",
        why="str(URL) masks the password as ***: the engine then connects with the wrong password",
    ),
    Mutant(
        "cors-wildcard-by-default",
        find="    cors_origins: list[str] = Field(default_factory=list)\n",
        replace='    cors_origins: list[str] = Field(default_factory=lambda: ["*"])\n',
        killed_by=["test_no_browser_origin_is_allowed_by_default"],
        says="cors_origins defaults to ['*']",
        why="every web page on the internet may call the API from its visitors' browsers",
    ),
    Mutant(
        "cors-origins-as-one-string",
        find="    cors_origins: list[str] = Field(default_factory=list)\n",
        replace='    cors_origins: str = ""\n',
        killed_by=["test_cors_origins_are_read_from_a_json_list", "test_no_browser_origin_is_allowed_by_default"],
        says="cors_origins",
        why="lesson 06 hands the value to CORSMiddleware, which then iterates the characters of one string",
    ),
    Mutant(
        "recycle-refuses-never",
        find="    db_pool_recycle: int = Field(default=1800, ge=-1)\n",
        replace="    db_pool_recycle: int = Field(default=1800, ge=0)\n",
        killed_by=["test_pool_settings_accept_every_value_within_their_bounds"],
        says="db_pool_recycle=-1 was refused",
        why="-1 is SQLAlchemy's documented 'never recycle', which the README allows; a deployment using it cannot start",
    ),
    Mutant(
        "pool-size-lower-bound-exclusive",
        find="    db_pool_size: int = Field(default=5, ge=1, le=100)\n",
        replace="    db_pool_size: int = Field(default=5, gt=1, lt=100)\n",
        killed_by=["test_pool_settings_accept_every_value_within_their_bounds"],
        says="db_pool_size=1 was refused",
        why="off by one: a pool of 1 (a small worker) or of 100 is valid per the table and is refused at start",
    ),
    # --- step 5: secrets and environments -------------------------------------------------------
    Mutant(
        "secret-key-as-plain-str",
        find="    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)\n",
        replace="    secret_key: str = DEFAULT_SECRET_KEY\n",
        also=[
            Edit(
                find="            and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY\n",
                replace="            and self.secret_key == DEFAULT_SECRET_KEY\n",
            )
        ],
        killed_by=["test_the_secret_key_never_shows_in_repr_or_logs"],
        says="plain text in repr(settings)",
        why="the secret prints in repr(), logs and tracebacks: anyone who reads them can sign as the service",
    ),
    Mutant(
        "secret-key-hidden-from-repr-only",
        find="    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)\n",
        replace="    secret_key: str = Field(default=DEFAULT_SECRET_KEY, repr=False)\n",
        also=[
            Edit(
                find="            and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY\n",
                replace="            and self.secret_key == DEFAULT_SECRET_KEY\n",
            )
        ],
        killed_by=["test_the_secret_key_never_shows_in_repr_or_logs"],
        says="plain text in settings.model_dump_json()",
        why="repr=False hides it from repr only: model_dump_json() and every dump still print the secret",
    ),
    Mutant(
        "debug-never-defaulted",
        find='            data.setdefault("debug", environment == Environment.DEVELOPMENT)\n',
        replace="            pass\n",
        killed_by=["test_debug_defaults_to_on_in_development"],
        says="debug defaulted to False",
        why="development loses its debug output, and the environment default the lesson asks for is missing",
    ),
    Mutant(
        "debug-default-forgets-the-default-environment",
        find='            environment = str(data.get("environment", Environment.DEVELOPMENT))\n',
        replace='            environment = str(data.get("environment"))\n',
        killed_by=["test_debug_defaults_to_on_in_development"],
        says="debug defaulted to False",
        why="with LEDGER_ENVIRONMENT unset the service is in development, yet the validator reads 'None'",
    ),
    Mutant(
        "debug-on-everywhere",
        find='            data.setdefault("debug", environment == Environment.DEVELOPMENT)\n',
        replace='            data.setdefault("debug", True)\n',
        killed_by=["test_debug_defaults_to_off_outside_development"],
        says="debug defaulted to True",
        why="production shows stack traces and internals to every client",
    ),
    Mutant(
        "debug-off-only-in-production",
        find='            data.setdefault("debug", environment == Environment.DEVELOPMENT)\n',
        replace='            data.setdefault("debug", environment != Environment.PRODUCTION)\n',
        killed_by=[
            "test_debug_defaults_to_off_outside_development[staging]",
            "test_debug_defaults_to_off_outside_development[test]",
        ],
        says="debug defaulted to True",
        why="staging runs production's data and traffic shape with debug on: it leaks what production hides",
    ),
    Mutant(
        "debug-default-overrides-explicit-value",
        find='            data.setdefault("debug", environment == Environment.DEVELOPMENT)\n',
        replace='            data["debug"] = environment == Environment.DEVELOPMENT\n',
        killed_by=["test_an_explicit_debug_setting_wins"],
        says="an explicit value must win",
        why="an operator's LEDGER_DEBUG is silently ignored: debugging production (or silencing dev) is impossible",
    ),
    Mutant(
        "debug-forced-on-in-development",
        find='            data.setdefault("debug", environment == Environment.DEVELOPMENT)\n',
        replace=('            if environment == Environment.DEVELOPMENT:\n                data["debug"] = True\n'),
        killed_by=["test_an_explicit_debug_setting_wins"],
        says="LEDGER_DEBUG=false was set",
        why="LEDGER_DEBUG=false is ignored in development: a developer cannot see what production will show",
    ),
    Mutant(
        "default-secret-never-refused",
        find="        if (\n            self.environment is not Environment.DEVELOPMENT\n",
        replace="        if False and (\n            self.environment is not Environment.DEVELOPMENT\n",
        killed_by=["test_the_default_secret_is_refused_outside_development[production]"],
        says="the default secret key was accepted",
        why="production signs with a secret published in the workshop's own code",
    ),
    Mutant(
        "secret-compared-as-secretstr",
        find="            and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY\n",
        replace="            and self.secret_key == DEFAULT_SECRET_KEY\n",
        killed_by=["test_the_default_secret_is_refused_outside_development"],
        says="the default secret key was accepted",
        why="a SecretStr never equals a str: the check is always False and the default secret always passes",
    ),
    Mutant(
        "default-secret-refused-only-in-production",
        find="            self.environment is not Environment.DEVELOPMENT\n",
        replace="            self.environment is Environment.PRODUCTION\n",
        killed_by=[
            "test_the_default_secret_is_refused_outside_development[staging]",
            "test_the_default_secret_is_refused_outside_development[test]",
        ],
        says="the default secret key was accepted",
        why="staging (and CI) run with the published secret: tokens signed there are forgeable",
    ),
    Mutant(
        "secret-refusal-names-no-variable",
        find=(
            '                f"LEDGER_SECRET_KEY still has its default value; set a real secret for the "\n'
            '                f"{self.environment} environment"\n'
        ),
        replace='                "the secret key is insecure"\n',
        killed_by=["test_the_default_secret_is_refused_outside_development[production]"],
        says="does not name LEDGER_SECRET_KEY",
        why="the operator reads 'insecure' and has to search the code for which variable to set",
    ),
    Mutant(
        "default-secret-refused-everywhere",
        find="            self.environment is not Environment.DEVELOPMENT\n            and ",
        replace="            ",
        killed_by=["test_development_accepts_the_default_secret"],
        says="in development (nothing set), the default secret key was refused",
        why="a fresh clone cannot start without inventing a secret: the local loop breaks",
    ),
    Mutant(
        "any-secret-refused-outside-development",
        find="            and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY\n",
        replace="            and self.secret_key.get_secret_value() != ''\n",
        killed_by=["test_production_accepts_a_real_secret"],
        says="a real LEDGER_SECRET_KEY was refused",
        why="production cannot start at all, whatever secret the operator sets",
    ),
    Mutant(
        "secret-refused-by-an-assert",
        find=(
            "        if (\n"
            "            self.environment is not Environment.DEVELOPMENT\n"
            "            and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY\n"
            "        ):\n"
            "            raise ValueError(\n"
            '                f"LEDGER_SECRET_KEY still has its default value; set a real secret for the "\n'
            '                f"{self.environment} environment"\n'
            "            )\n"
        ),
        replace=(
            "        assert (\n"
            "            self.environment is Environment.DEVELOPMENT\n"
            "            or self.secret_key.get_secret_value() != DEFAULT_SECRET_KEY\n"
            '        ), f"LEDGER_SECRET_KEY still has its default value; set a real secret for {self.environment}"\n'
        ),
        killed_by=["test_the_default_secret_is_refused_outside_development"],
        says="python -O",
        why="python -O (PYTHONOPTIMIZE) strips asserts: the production image starts with the well-known secret",
    ),
    Mutant(
        "debug-default-read-from-os-environ",
        find='            environment = str(data.get("environment", Environment.DEVELOPMENT))\n',
        replace='            environment = os.environ.get("LEDGER_ENVIRONMENT", Environment.DEVELOPMENT)\n',
        also=[
            Edit(
                find="from enum import StrEnum\n",
                replace="import os\nfrom enum import StrEnum\n",
                path="app/core/config.py",
            )
        ],
        killed_by=["test_debug_defaults_to_off_outside_development"],
        says="not from os.environ",
        why="a second source of truth: an environment set in .env or passed to Settings() keeps debug on in production",
    ),
    # --- step 6: read once ------------------------------------------------------------------
    Mutant(
        "get-settings-not-cached",
        find="@lru_cache\ndef get_settings() -> Settings:",
        replace="def get_settings() -> Settings:",
        killed_by=["test_get_settings_is_cached"],
        says="built a new Settings on the second call",
        why="every call reads the environment and .env again: slow, and settings may change under a running app",
    ),
    Mutant(
        "hand-rolled-cache-without-reset",
        find="@lru_cache\ndef get_settings() -> Settings:",
        replace="_settings: Settings | None = None\n\n\ndef get_settings() -> Settings:",
        also=[
            Edit(
                find="    return Settings()\n",
                replace=(
                    "    global _settings\n"
                    "    if _settings is None:\n"
                    "        _settings = Settings()\n"
                    "    return _settings\n"
                ),
            )
        ],
        killed_by=["test_get_settings_reads_the_environment_on_its_first_call"],
        says="cache_clear",
        why="nothing can reset it: tests and later lessons' fixtures get the first settings forever",
    ),
    Mutant(
        "settings-built-at-import",
        find="@lru_cache\ndef get_settings() -> Settings:",
        replace="settings = Settings()\n\n\n@lru_cache\ndef get_settings() -> Settings:",
        also=[Edit(find="    return Settings()\n", replace="    return settings\n")],
        killed_by=[
            "test_get_settings_reads_the_environment_on_its_first_call",
            "test_importing_the_config_module_builds_no_settings",
        ],
        says="at import",
        why="the environment is read at import, before tests can set it, and a bad one breaks every import",
    ),
    Mutant(
        "module-level-settings-left-beside-get-settings",
        find="    return Settings()\n",
        replace="    return Settings()\n\n\nsettings = get_settings()\n",
        killed_by=["test_importing_the_config_module_builds_no_settings"],
        says="at import",
        why="importing the module reads (and may fail on) the environment; code that uses `settings` skips the cache",
    ),
]

# The stack's own bar (step 6): what ruff and mypy --strict refuse in a learner's config.py.
MUTANTS += [
    Mutant(
        "untyped-helper",
        path="app/core/config.py",
        find='DEFAULT_SECRET_KEY = "change-me-in-production"\n',
        replace='DEFAULT_SECRET_KEY = "change-me-in-production"\n\n\ndef is_default(secret):\n    return secret == DEFAULT_SECRET_KEY\n',
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="missing a type annotation",
        why="mypy --strict refuses an untyped function: its callers get no checking at all",
    ),
    Mutant(
        "unused-import-left-behind",
        path="app/core/config.py",
        find="from enum import StrEnum\n",
        replace="import os\nfrom enum import StrEnum\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="F401",
        why="an import nothing uses is dead code ruff reports on every run",
    ),
]
