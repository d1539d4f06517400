"""Shared by lesson 03's checks: run Alembic in-process against a database of the check's own.

Alembic runs your `alembic.ini` and `migrations/env.py` exactly as `uv run alembic …` does in
lessons/03, only without a new process (that is ~10x faster). The URL reaches env.py the way it
does in production: through LEDGER_DATABASE_URL and `get_settings()`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

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

    async def run(self, what: str, action: Callable[[Config], object], output: io.StringIO | None = None) -> None:
        """Run one Alembic command, e.g. `await alembic.run("upgrade head", lambda c: command.upgrade(c, "head"))`.

        It runs in a worker thread: env.py calls asyncio.run(), which needs a thread without a running loop.
        """
        config = self.config(output)
        await asyncio.to_thread(self._alembic, what, lambda: action(config))

    async def upgrade(self, target: str = "head") -> None:
        await self.run(f"upgrade {target}", lambda config: command.upgrade(config, target))

    async def downgrade(self, target: str = "base") -> None:
        await self.run(f"downgrade {target}", lambda config: command.downgrade(config, target))

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


def _clear_settings_cache() -> None:
    config = sys.modules.get("app.core.config")
    cache_clear = getattr(getattr(config, "get_settings", None), "cache_clear", None)
    if callable(cache_clear):
        cache_clear()


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
def alembic_on(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Alembic]:
    """`alembic_on(url)` → Alembic commands for the lesson's folder (or `folder=`) on that database."""

    def make(url: str, folder: Path | None = None) -> Alembic:
        return Alembic(folder or grading.folder(), url, monkeypatch)

    return make
