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

Users (lesson 09): `user` is a user of the test's own, added on `session`; `client` and
`live_client` send that user's access token with every request, and `guest` sends none. The
fixtures issue tokens directly (`create_access_token`) and store a placeholder hash: Argon2 costs
a tenth of a second per hash, and only the tests of sign-up and log-in need a real one.

Every async fixture and test runs on one event loop for the whole session (pyproject.toml sets
asyncio_default_fixture_loop_scope and asyncio_default_test_loop_scope to "session"): the
session-scoped engine's connections are only ever used on the loop that opened them.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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
from app.core.security import create_access_token
from app.crud.users import UserRepository
from app.dependencies.session import get_session
from app.main import create_app
from app.models import User

TEST_DATABASE = "LEDGER_TEST_DATABASE_URL"
LESSON = Path(__file__).resolve().parents[1]  # the folder that holds alembic.ini and app/
EMPTY_TABLES = text("TRUNCATE entries, idempotency_keys, accounts, users")
# Stored for the fixtures' users: not a hash any hasher knows, so no password logs in as them.
PLACEHOLDER_HASH = "!not-a-password-hash"


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
    return Settings(
        database_url=url,
        environment=Environment.TEST,
        secret_key=SecretStr("tests-only-not-a-secret-but-32-bytes-long"),
    )


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
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection of the test's own, inside a transaction that is rolled back when the test ends."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        if transaction.is_active:
            await transaction.rollback()


@pytest_asyncio.fixture(loop_scope="session")
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """An AsyncSession on the test's connection: its commits and rollbacks become SAVEPOINTs."""
    async with AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session


async def add_user(session: AsyncSession, email: str | None = None) -> User:
    """A user with a placeholder hash (no password logs in as it), flushed on `session`."""
    user = await UserRepository(session).add(
        email=email or f"user-{uuid.uuid4().hex[:12]}@example.com", password_hash=PLACEHOLDER_HASH
    )
    assert user is not None
    return user


@pytest_asyncio.fixture(loop_scope="session")
async def user(session: AsyncSession) -> User:
    """A user of the test's own, in the test's transaction."""
    return await add_user(session)


@pytest_asyncio.fixture(loop_scope="session")
async def stranger(session: AsyncSession) -> User:
    """Another user, in the test's transaction: `user` must never see their accounts."""
    return await add_user(session)


def bearer(user: User, settings: Settings) -> dict[str, str]:
    """The Authorization header of a request made by `user`."""
    return {"Authorization": f"Bearer {create_access_token(user.id, settings).token}"}


@pytest.fixture
def headers_of(settings: Settings) -> Callable[[User], dict[str, str]]:
    """`headers=headers_of(stranger)`: send a request as another user."""
    return lambda user: bearer(user, settings)


@asynccontextmanager
async def in_the_test(
    settings: Settings, connection: AsyncConnection, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app over HTTP, in-process: its lifespan runs, and each request's session joins the test's transaction."""
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
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test", headers=headers) as client:
            yield client


@pytest_asyncio.fixture(loop_scope="session")
async def client(settings: Settings, connection: AsyncConnection, user: User) -> AsyncIterator[httpx.AsyncClient]:
    """The app over HTTP, each request sent with the access token of `user`."""
    async with in_the_test(settings, connection, bearer(user, settings)) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def guest(settings: Settings, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """The app over HTTP, each request sent without a token."""
    async with in_the_test(settings, connection) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def live_client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app exactly as it serves: its own pool, the real get_session, real commits. Tables emptied after."""
    app = create_app(settings)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        owner = await add_user(session)
        await session.commit()
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ledger.test", headers=bearer(owner, settings)
        ) as client:
            yield client
    async with engine.begin() as connection:
        await connection.execute(EMPTY_TABLES)
