"""The learner's Alembic migrations, run in-process by a check on a database of the check's own.

    async with migrations.alembic_on(url, monkeypatch, holds="accounts", step=1) as (run, engine, config):
        await run("downgrade", "0003")   # a failure is a `Lesson NN:` message naming the command
        ...                              # look at the result through `engine`

Alembic's async env.py calls asyncio.run(), so each command runs in a worker thread; the app's settings
(which env.py reads for the URL) point at `url` while the context is open, and are read afresh after.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from workshop import grading

if TYPE_CHECKING:
    import pytest
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

Run = Callable[[str, str], Awaitable[None]]  # run("upgrade" | "downgrade", target)


@asynccontextmanager
async def alembic_on(
    url: str, monkeypatch: pytest.MonkeyPatch, *, holds: str, step: int, advice: str = ""
) -> AsyncIterator[tuple[Run, AsyncEngine, Config]]:
    """`run`, an engine on `url` and the Alembic config.

    `holds`: what the database holds, in words; `advice`: said after a failed command (`{what}` is the command).
    """
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    def failed(message: str) -> grading.LessonError:
        return grading.LessonError(f"Lesson {grading.lesson()}: {message} (step {step})")

    config = Config(str(grading.folder() / "alembic.ini"), stdout=io.StringIO())
    config.attributes["configure_logger"] = False  # keep the checks' logging as it is
    monkeypatch.setenv("LEDGER_DATABASE_URL", url)
    monkeypatch.setattr(sys, "path", list(sys.path))  # alembic.ini's prepend_sys_path adds to it
    get_settings = grading.load("app.core.config").get_settings
    get_settings.cache_clear()

    async def run(what: str, target: str) -> None:
        action = command.upgrade if what == "upgrade" else command.downgrade
        try:
            await asyncio.to_thread(action, config, target)
        except DBAPIError as error:
            said = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
            raise failed(
                f"`alembic {what} {target}` failed on a database that holds {holds}: {said}{advice.format(what=what)}"
            ) from None
        except CommandError as error:
            raise failed(f"`alembic {what} {target}` failed: {error}") from None

    engine = create_async_engine(url)
    try:
        yield run, engine, config
    finally:
        await engine.dispose()
        get_settings.cache_clear()
