"""Fixtures every lesson's checks can ask for: a clean environment and a real, isolated database.

Isolation: each pytest process gets its own database (cloned from a migrated template once the
lesson has migrations); each check runs inside an outer transaction that is rolled back, and the
session under test joins it with SAVEPOINTs, so a check never sees another check's rows.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from workshop import database, grading

if TYPE_CHECKING:  # imported lazily below: lessons without a database should not pay for it
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

LEARNER_PREFIX = "LEDGER_"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No LEDGER_* variables and an empty working folder, so the learner's own `.env` stays out."""
    for name in list(os.environ):
        if name.startswith(LEARNER_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture
def app_env(clean_env: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[str]:
    """The lesson's app configured for this run's database (environment "test"); yields the URL.

    Clears the `get_settings()` cache before and after, so every check reads its own settings.
    """
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "test")
    monkeypatch.setenv("LEDGER_SECRET_KEY", "a-test-secret-that-is-not-the-default")
    _clear_settings_cache()
    yield database_url
    _clear_settings_cache()


def _clear_settings_cache() -> None:
    import sys

    config = sys.modules.get("app.core.config")
    cache_clear = getattr(getattr(config, "get_settings", None), "cache_clear", None)
    if callable(cache_clear):
        cache_clear()


@pytest.fixture(scope="session")
def database_server() -> database.Server:
    """The PostgreSQL server of this run: embedded, or WORKSHOP_DATABASE_URL."""
    return database.server()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_template(database_server: database.Server) -> AsyncIterator[str | None]:
    """The lesson's migrated template database (None before lesson 03 has migrations).

    The run holds a lease on it until it ends, so no other run (another checkout, other
    migrations) drops it meanwhile.
    """
    await database.drop_leftovers(database_server)
    await database.drop_orphaned_templates(database_server)
    folder = grading.CURRENT["folder"]
    name = database.template_name(folder, grading.lesson()) if isinstance(folder, Path) else None
    if not isinstance(folder, Path) or name is None:
        yield None
        return
    lease = await database.lease_template(database_server, name)
    try:
        yield await database.migrated_template(database_server, folder, grading.lesson())
    finally:
        await lease.release()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_url(database_server: database.Server, database_template: str | None) -> AsyncIterator[str]:
    """A database of this process's own (migrated when the lesson has migrations), as a URL."""
    name = database.run_database_name(grading.lesson())
    await database.create_database(database_server, name, template=database_template)
    try:
        yield database_server.database_url(name)
    finally:
        await database.drop_database(database_server, name)


COMMITTED = "committed_database_url"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def committed_databases(
    request: pytest.FixtureRequest, database_server: database.Server, database_template: str | None
) -> AsyncIterator[list[str]]:
    """Clones of the template for this process's checks that commit, all made when the first is needed.

    One at a time, each clone costs a check 0.1 s of setup; made together, the lot costs about that
    once. `committed_database_url` takes one each and drops it after its check; the rest go at the end.
    """
    wanted = sum(1 for item in request.session.items if COMMITTED in getattr(item, "fixturenames", ()))
    names = [database.run_database_name(f"{grading.lesson()}_c{os.urandom(3).hex()}") for _ in range(wanted)]
    left = list(names)
    try:
        await database.in_batches(
            lambda name: database.create_database(database_server, name, template=database_template), names
        )
        yield left
    finally:
        await asyncio.gather(*(database.drop_database(database_server, name) for name in left))


@pytest_asyncio.fixture(loop_scope="session")
async def committed_database_url(
    database_server: database.Server, database_template: str | None, committed_databases: list[str]
) -> AsyncIterator[str]:
    """A database of the check's own where commits are real (for concurrency checks); dropped after.

    A clone of the migrated template, made beside the other clones of the run (`committed_databases`).
    """
    if committed_databases:
        name = committed_databases.pop()
    else:  # asked for by a check that did not name it (getfixturevalue): one clone on its own
        name = database.run_database_name(f"{grading.lesson()}_c{os.urandom(3).hex()}")
        await database.create_database(database_server, name, template=database_template)
    try:
        yield database_server.database_url(name)
    finally:
        await database.drop_database(database_server, name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url, pool_size=5, max_overflow=5)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def db_connection(db_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that is rolled back after the check."""
    async with db_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest_asyncio.fixture(loop_scope="session")
async def db_session(db_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """An AsyncSession whose commits and rollbacks become SAVEPOINTs of the outer transaction."""
    from sqlalchemy.ext.asyncio import AsyncSession

    session = AsyncSession(bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        await session.close()


# --- Redis (lesson 10 on): asked for by the checks that need it, so earlier lessons never start it ---------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[tuple[object, int]]:
    """The Redis of this run (embedded, or WORKSHOP_REDIS_URL) and the database number this process claimed."""
    from workshop import redis_server as provider

    target = provider.server()
    number = provider.claim_database(target)
    try:
        yield target, number
    finally:
        provider.release_database(target, number)


@pytest.fixture
def redis_url(redis_server: tuple[object, int]) -> str:
    """The URL of this process's own Redis database, emptied before the check."""
    from workshop import redis_server as provider

    target, number = redis_server
    assert isinstance(target, provider.Server)
    provider.flush(target, number)
    return target.database_url(number)
