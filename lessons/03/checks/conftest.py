"""Shared by lesson 03's checks: run Alembic in-process against a database of the check's own.

Alembic runs your `alembic.ini` and `migrations/env.py` exactly as `uv run alembic …` does in
lessons/03, only without a new process (that is ~10x faster). The URL reaches env.py the way it
does in production: through LEDGER_DATABASE_URL and `get_settings()`.

Also here: the rows the contract's CHECK constraints must accept or refuse (`rules_broken_on`), tried
on the models' own tables and on the migrated ones, and a session on the models' own tables
(`session_on_the_models`), for the checks of steps 3 and 4, which come before the migration.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData, text
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from workshop import database, grading
from workshop.grading import LessonError

T = TypeVar("T")
SECRET = "a-test-secret-that-is-not-the-default"


@contextmanager
def _logging_kept() -> Iterator[None]:
    """env.py calls logging.config.fileConfig(); undo that, so the checks' own logging stays as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = {
        name: (logger.disabled, logger.level, logger.handlers[:], logger.propagate)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, (disabled, old_level, old_handlers, propagate) in loggers.items():
            logger = logging.getLogger(name)
            logger.disabled, logger.handlers[:], logger.propagate = disabled, old_handlers, propagate
            logger.setLevel(old_level)


@dataclass
class Alembic:
    """`alembic` commands on one lesson folder (or a copy of it) and one database."""

    folder: Path
    url: str
    monkeypatch: pytest.MonkeyPatch

    def config(self, output: io.StringIO | None = None) -> Config:
        ini = self.folder / "alembic.ini"
        if not ini.is_file():
            raise LessonError(f"Lesson {grading.lesson()}: there is no {ini.name} in {self.folder.name}/ (step 5)")
        return Config(str(ini), stdout=output or io.StringIO(), output_buffer=output)

    def head(self) -> str | None:
        """The newest revision in migrations/versions."""
        return self._alembic("heads", lambda: ScriptDirectory.from_config(self.config()).get_current_head())

    async def run(self, what: str, action: Callable[[Config], T], output: io.StringIO | None = None) -> T:
        """Run one Alembic command, e.g. `await alembic.run("upgrade head", lambda c: command.upgrade(c, "head"))`.

        It runs in a worker thread: env.py calls asyncio.run(), which needs a thread without a running loop.
        """
        config = self.config(output)
        return await asyncio.to_thread(self._alembic, what, lambda: action(config))

    async def upgrade(self, target: str = "head") -> None:
        await self.online(f"upgrade {target}", lambda config: command.upgrade(config, target))

    async def downgrade(self, target: str = "base") -> None:
        await self.online(f"downgrade {target}", lambda config: command.downgrade(config, target))

    async def online(self, what: str, action: Callable[[Config], T]) -> T:
        """An Alembic command that connects: an error before it reaches the database becomes a lesson message."""
        try:
            return await self.run(what, action)
        except (OSError, ArgumentError) as error:
            raise LessonError(
                f"Lesson {grading.lesson()}: `alembic {what}` could not reach the database of LEDGER_DATABASE_URL "
                f"({type(error).__name__}: {_first_line(error)}); env.py's database_url() must return "
                "get_settings().database_url, the URL the app uses (step 5)"
            ) from None

    def _alembic(self, what: str, action: Callable[[], T]) -> T:
        # Run where `uv run alembic` runs: in the folder of alembic.ini, with the URL in the environment.
        with self.monkeypatch.context() as patch, _logging_kept():
            patch.chdir(self.folder)
            patch.setenv("LEDGER_DATABASE_URL", self.url)
            patch.setenv("LEDGER_ENVIRONMENT", "test")
            patch.setenv("LEDGER_SECRET_KEY", SECRET)
            _clear_settings_cache()
            patch.setattr(sys, "path", list(sys.path))  # prepend_sys_path adds to it on every command
            try:
                return action()
            except CommandError as error:
                raise LessonError(
                    f"Lesson {grading.lesson()}: `alembic {what}` failed: {str(error).rstrip('.')}. Run it yourself in "
                    f"lessons/{grading.lesson()} to see more (steps 5-6)"
                ) from None
            finally:
                _clear_settings_cache()


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def _clear_settings_cache() -> None:
    config = sys.modules.get("app.core.config")
    cache_clear = getattr(getattr(config, "get_settings", None), "cache_clear", None)
    if callable(cache_clear):
        cache_clear()


# The first check that needs the migrated database builds it in its setup (`alembic upgrade head` in a process
# of its own, seconds on a busy machine, and again after every change of migrations/): give those checks time.
MIGRATED_DATABASE_TIMEOUT = 30


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.workshop_timeout(MIGRATED_DATABASE_TIMEOUT))


@dataclass
class Scratch:
    server: database.Server
    name: str
    created: asyncio.Future[None]


@pytest_asyncio.fixture(scope="session", loop_scope="session", autouse=True)
async def scratch_database(request: pytest.FixtureRequest) -> AsyncIterator[Scratch | None]:
    """One database for the Alembic checks of this run, when a selected check needs it; dropped at the end.

    Creating a database costs ~0.3 s, so it is created in the background, while the engine clones
    the migrated template for the other checks.
    """
    if not any("empty_database_url" in getattr(item, "fixturenames", ()) for item in request.session.items):
        yield None
        return
    server: database.Server = request.getfixturevalue("database_server")
    name = database.run_database_name(f"{grading.lesson()}_alembic")
    scratch = Scratch(server, name, asyncio.ensure_future(database.create_database(server, name)))
    try:
        yield scratch
    finally:
        await asyncio.gather(scratch.created, return_exceptions=True)
        await database.drop_database(server, name)


@pytest_asyncio.fixture(loop_scope="session")
async def empty_database_url(scratch_database: Scratch | None) -> str:
    """The scratch database, emptied for this check: no tables, no alembic_version. Returns its URL."""
    assert scratch_database is not None, "the scratch database is made for checks that ask for empty_database_url"
    await scratch_database.created
    server, name = scratch_database.server, scratch_database.name
    await database.execute(server.dsn(name), "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
    return server.database_url(name)


@pytest.fixture
def session_on_the_models(empty_database_url: str) -> Callable[[MetaData], AbstractAsyncContextManager[AsyncSession]]:
    """`async with session_on_the_models(Base.metadata) as session:` a session on the tables your models describe,
    created with `create_all` in the scratch database and rolled back after: no migration needed (step 6)."""

    @asynccontextmanager
    async def session_on(metadata: MetaData) -> AsyncIterator[AsyncSession]:
        engine = create_async_engine(empty_database_url)
        try:
            async with engine.connect() as connection:
                transaction = await connection.begin()
                try:
                    await connection.run_sync(metadata.create_all)
                    session = AsyncSession(
                        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
                    )
                    try:
                        yield session
                    finally:
                        await session.close()
                finally:
                    await transaction.rollback()
        finally:
            await engine.dispose()

    return session_on


@pytest.fixture
def alembic_on(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Alembic]:
    """`alembic_on(url)` → Alembic commands for the lesson's folder (or `folder=`) on that database."""

    def make(url: str, folder: Path | None = None) -> Alembic:
        return Alembic(folder or grading.folder(), url, monkeypatch)

    return make


# --- the rules of the contract, as rows the tables must accept or refuse ----------------------------


@dataclass(frozen=True)
class Rule:
    row: str  # the row, in words
    sql: str  # inserts it; :id is a fresh id, :account an account with 500 EUR
    refused_by: str | None  # the constraint that must refuse it; None: the row must be accepted


ACCOUNT = "INSERT INTO accounts (id, owner, currency, balance) VALUES (:id, 'Ada', '{currency}', {balance})"
ENTRY = "INSERT INTO entries (id, account_id, amount) VALUES (:id, :account, {amount})"
RULES = [
    Rule("an account with balance 0", ACCOUNT.format(currency="EUR", balance=0), None),
    Rule("an account with balance -1", ACCOUNT.format(currency="EUR", balance=-1), "ck_accounts_balance_not_negative"),
    Rule(
        "an account with currency 'EU'", ACCOUNT.format(currency="EU", balance=500), "ck_accounts_currency_is_iso_code"
    ),
    Rule("an entry of amount -500 (money out)", ENTRY.format(amount=-500), None),
    Rule("an entry of amount 500 (money in)", ENTRY.format(amount=500), None),
    Rule("an entry of amount 0", ENTRY.format(amount=0), "ck_entries_amount_not_zero"),
]


async def broken_rules(connection: AsyncConnection) -> list[str]:
    """What the tables `accounts` and `entries` on `connection` get wrong about RULES, in words.

    Each row goes in a SAVEPOINT of the connection's transaction; the caller rolls that transaction back.
    """
    account = uuid.uuid4()
    try:
        async with connection.begin_nested():
            await connection.execute(text(ACCOUNT.format(currency="EUR", balance=500)), {"id": account})
    except IntegrityError as error:
        return [f"an account with balance 500 in EUR was refused ({_first_line(error.orig)})"]
    wrong = []
    for rule in RULES:
        try:
            async with connection.begin_nested():
                await connection.execute(text(rule.sql), {"id": uuid.uuid4(), "account": account})
        except IntegrityError as error:
            said = _first_line(error.orig)
            if rule.refused_by is None:
                wrong.append(f"{rule.row} was refused ({said})")
            elif f'"{rule.refused_by}"' not in said:  # quoted: not ck_accounts_ck_accounts_balance_not_negative
                wrong.append(f"{rule.row} was refused, but not by {rule.refused_by} ({said})")
        else:
            if rule.refused_by is not None:
                wrong.append(f"{rule.row} was accepted (no {rule.refused_by})")
    return wrong


@pytest.fixture
def rules_broken_on() -> Callable[[AsyncConnection], Awaitable[list[str]]]:
    """`await rules_broken_on(connection)`: the rules of the contract its accounts and entries tables break."""
    return broken_rules
