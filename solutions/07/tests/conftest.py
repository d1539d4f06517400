"""The fixtures of Ledger's test suite: a real PostgreSQL, and nothing a test writes outlives it.

The database: `LEDGER_TEST_DATABASE_URL` names it, never the database the app serves from (the
tests empty its tables). Once per run, `database` migrates it with Alembic, for real, and empties
it, so every run starts from the schema production has and no rows at all.

Isolation, two ways:

* most tests get `session` or `client`: one connection per test, inside an outer transaction that
  is rolled back when the test ends. The code under test may commit or roll back: with
  join_transaction_mode="create_savepoint" those become SAVEPOINTs inside the outer transaction.
* tests that need real commits (transactions running at the same time, the request's own
  session dependency) get `live_client`: the app exactly as it serves, with its own pool and
  `get_session`; the tables are emptied after the test.

Every async fixture and test runs on one event loop for the whole session (pyproject.toml sets
asyncio_default_fixture_loop_scope and asyncio_default_test_loop_scope to "session"): the
session-scoped engine's connections are only ever used on the loop that opened them.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.config import Environment, Settings, get_settings
from app.core.database import create_engine
from app.dependencies.session import get_session
from app.main import create_app

TEST_DATABASE = "LEDGER_TEST_DATABASE_URL"
LESSON = Path(__file__).resolve().parents[1]  # the folder that holds alembic.ini and app/
EMPTY_TABLES = text("TRUNCATE entries, idempotency_keys, accounts")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The app's settings for the tests: the test database, the "test" environment."""
    url = os.environ.get(TEST_DATABASE)
    if not url:
        pytest.exit(
            f"{TEST_DATABASE} is not set. The tests need a PostgreSQL database of their own, which they fill "
            f"and empty. With the workshop's server:\n    export {TEST_DATABASE}=$(uv run workshop db url ledger_test)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    return Settings(database_url=url, environment=Environment.TEST, secret_key=SecretStr("tests-only-not-a-secret"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database(settings: Settings) -> str:
    """The test database at the newest migration, with empty tables; once per run. Returns its URL."""
    config = Config(str(LESSON / "alembic.ini"))
    config.attributes["configure_logger"] = False  # leave pytest's logging alone
    # migrations/env.py reads the URL from the app's settings: point LEDGER_DATABASE_URL at the test
    # database while it runs. Alembic's async env calls asyncio.run(), so it gets a thread of its own.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGER_DATABASE_URL", settings.database_url)
        get_settings.cache_clear()
        await asyncio.to_thread(command.upgrade, config, "head")
    get_settings.cache_clear()
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(EMPTY_TABLES)  # rows a killed run may have committed
    await engine.dispose()
    return settings.database_url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(settings: Settings, database: str) -> AsyncIterator[AsyncEngine]:
    """One engine, so one connection pool, for the whole run; disposed of at its end."""
    ### BEGIN SOLUTION write the `engine` fixture: create_engine(settings) from app.core.database, yield it, then dispose of it (step 1)
    engine = create_engine(settings)
    yield engine
    await engine.dispose()
    ### END SOLUTION


@pytest_asyncio.fixture(loop_scope="session")
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection of the test's own, inside a transaction that is rolled back when the test ends."""
    ### BEGIN SOLUTION write the `connection` fixture: engine.connect(), begin the outer transaction, yield, roll it back (step 1)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        if transaction.is_active:
            await transaction.rollback()
    ### END SOLUTION


@pytest_asyncio.fixture(loop_scope="session")
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """An AsyncSession on the test's connection: its commits and rollbacks become SAVEPOINTs."""
    ### BEGIN SOLUTION write the `session` fixture: AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) (step 1)
    async with AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session
    ### END SOLUTION


@pytest_asyncio.fixture(loop_scope="session")
async def client(settings: Settings, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """The app over HTTP, in-process: its lifespan runs, and each request's session joins the test's transaction."""
    ### BEGIN SOLUTION write the `client` fixture: create_app(settings), override get_session with a session on `connection`, LifespanManager, AsyncClient(transport=ASGITransport(...)) (step 2)
    ### STUB pytest.skip("the `client` fixture is not written yet (step 2): the tests that use it are skipped")
    app = create_app(settings)

    async def session_in_the_test() -> AsyncIterator[AsyncSession]:
        # get_session's contract, commit on success and roll back on error, on the test's connection.
        async with AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            try:
                yield session
            except Exception:
                await session.rollback()
                raise
            else:
                await session.commit()

    app.dependency_overrides[get_session] = session_in_the_test
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:
            yield client
    ### END SOLUTION


@pytest_asyncio.fixture(loop_scope="session")
async def live_client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app exactly as it serves: its own pool, the real get_session, real commits. Tables emptied after."""
    ### BEGIN SOLUTION write the `live_client` fixture: the app with no override under LifespanManager; afterwards run EMPTY_TABLES on `engine` (step 5)
    ### STUB pytest.skip("the `live_client` fixture is not written yet (step 5): the tests that use it are skipped")
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:
            yield client
    async with engine.begin() as connection:
        await connection.execute(EMPTY_TABLES)
    ### END SOLUTION
