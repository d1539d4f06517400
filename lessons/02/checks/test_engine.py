"""Lesson 02 checks, steps 1 and 2: the engine takes its pool from Settings; the sessionmaker makes AsyncSessions."""

import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import QueuePool

from workshop.grading import load

# Two configurations whose every value differs, so that no hard-coded value passes both.
POOL_CONFIGURATIONS = [
    {
        "LEDGER_DB_POOL_SIZE": "7",
        "LEDGER_DB_MAX_OVERFLOW": "3",
        "LEDGER_DB_POOL_TIMEOUT": "4.5",
        "LEDGER_DB_POOL_RECYCLE": "600",
        "LEDGER_DB_POOL_PRE_PING": "false",
        "LEDGER_DB_ECHO": "true",
    },
    {
        "LEDGER_DB_POOL_SIZE": "2",
        "LEDGER_DB_MAX_OVERFLOW": "0",
        "LEDGER_DB_POOL_TIMEOUT": "12",
        "LEDGER_DB_POOL_RECYCLE": "1800",
        "LEDGER_DB_POOL_PRE_PING": "true",
        "LEDGER_DB_ECHO": "false",
    },
]


def engine_options(engine: AsyncEngine) -> dict[str, object]:
    """What the engine and its pool were built with, by create_async_engine keyword."""
    pool = engine.pool
    return {
        "url": engine.url,
        "pool_size": pool.size() if hasattr(pool, "size") else None,
        "max_overflow": getattr(pool, "_max_overflow", None),
        "pool_timeout": pool.timeout() if hasattr(pool, "timeout") else None,
        "pool_recycle": getattr(pool, "_recycle", None),
        "pool_pre_ping": getattr(pool, "_pre_ping", None),
        "echo": engine.echo,
    }


@pytest.mark.step(1)
async def test_the_engine_takes_its_pool_from_the_settings(app_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: every `db_*` setting has a keyword of the same name, minus `db_`, in create_async_engine."""
    for variables in POOL_CONFIGURATIONS:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        settings = load("app.core.config").Settings()
        engine = load("app.core.database").create_engine(settings)
        assert isinstance(engine, AsyncEngine), (
            f"Lesson 02: create_engine() returned {type(engine).__name__}, not an AsyncEngine; a synchronous "
            "engine blocks the event loop on every query: return create_async_engine(...) (step 1)"
        )
        try:
            actual = engine_options(engine)
            pool_class = type(engine.pool).__name__
            pools = isinstance(engine.pool, QueuePool)
        finally:
            await engine.dispose()
        assert pools, (
            f"Lesson 02: create_engine() made an engine with a {pool_class}, which keeps no pool of connections "
            "to size: every request would open (and close) a connection of its own, and the db_* settings do "
            "nothing; keep create_async_engine's own pool and pass it each setting (step 1)"
        )
        expected = {
            "url": make_url(app_env),
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout,
            "pool_recycle": settings.db_pool_recycle,
            "pool_pre_ping": settings.db_pool_pre_ping,
            "echo": settings.db_echo,
        }
        wrong = [
            f"{key}={actual[key]!r} (expected {expected[key]!r})" for key in expected if actual[key] != expected[key]
        ]
        shown = ", ".join(f"{name}={value}" for name, value in variables.items())
        assert not wrong, (
            f"Lesson 02: with {shown}, the engine has {', '.join(wrong)}; pass each setting to "
            "create_async_engine, never a value of your own (step 1)"
        )


@pytest.mark.step(2)
async def test_the_sessionmaker_makes_async_sessions_on_the_engine(db_engine: AsyncEngine) -> None:
    """Hint: `async_sessionmaker(engine, ...)` binds every session it makes to that engine."""
    factory = load("app.core.database").create_sessionmaker(db_engine)
    session = factory()
    if not isinstance(session, AsyncSession):
        close = getattr(session, "close", None)
        if callable(close):
            close()
        raise AssertionError(
            f"Lesson 02: the sessionmaker made a {type(session).__name__}, not an AsyncSession: a synchronous "
            "session cannot be awaited in async code. Use async_sessionmaker (step 2)"
        )
    try:
        assert session.bind is db_engine, (
            "Lesson 02: the sessions are not bound to the engine passed to create_sessionmaker but to another "
            "one: a second engine is a second pool nobody configures or disposes. Pass `engine` to "
            "async_sessionmaker (step 2)"
        )
    finally:
        await session.close()


@pytest.mark.step(2)
async def test_sessions_do_not_expire_objects_on_commit(db_engine: AsyncEngine) -> None:
    """Hint: an expired attribute reloads with a query, and async code cannot run one behind your back."""
    factory = load("app.core.database").create_sessionmaker(db_engine)
    async with factory() as session:
        assert session.sync_session.expire_on_commit is False, (
            "Lesson 02: the sessions expire objects on commit; pass expire_on_commit=False to "
            "async_sessionmaker (step 2)"
        )
