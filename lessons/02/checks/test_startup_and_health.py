"""Lesson 02 checks, steps 4 and 5: the lifespan owns the engine; /health asks the database.

`httpx.ASGITransport` does not run an app's lifespan, so these checks wrap the app in
`asgi_lifespan.LifespanManager`, which sends the startup and shutdown events a server would.
"""

import sys
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from workshop.grading import load


def create_app(**settings: Any) -> FastAPI:
    """Your create_app() with Settings from the environment, plus keyword overrides."""
    config = load("app.core.config")
    return load("app.main").create_app(config.Settings(**settings))


async def get_health(application: FastAPI) -> httpx.Response:
    async with LifespanManager(application) as manager:
        assert getattr(application.state, "sessionmaker", None) is not None, (
            "Lesson 02: after startup there is no app.state.sessionmaker, so get_session cannot make a "
            "session; finish the lifespan and pass lifespan=lifespan to FastAPI (step 4)"
        )
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            return await http.get("/health")


@pytest.mark.step(4)
def test_importing_the_app_opens_no_connection(
    clean_env: object, monkeypatch: pytest.MonkeyPatch, unreachable_url: str
) -> None:
    """Hint: connect in the lifespan, never at import: `uvicorn app.main:app` imports the module first."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", unreachable_url)
    config = load("app.core.config")
    config.get_settings.cache_clear()
    monkeypatch.delitem(sys.modules, "app.main", raising=False)  # import it afresh, with no database
    try:
        main = load("app.main")
        application = main.create_app()
    finally:
        config.get_settings.cache_clear()
    assert isinstance(application, FastAPI), (
        f"Lesson 02: create_app() returned {type(application).__name__}, not a FastAPI app (step 4)"
    )
    assert getattr(application.state, "engine", None) is None, (
        "Lesson 02: create_app() already put an engine on app.state; create it in the lifespan, "
        "when the server starts (step 4)"
    )


@pytest.mark.step(4)
async def test_the_lifespan_puts_an_engine_and_a_sessionmaker_on_app_state(app_env: str) -> None:
    """Hint: in `lifespan`, before `yield`: `app.state.engine = create_engine(...)`, then the sessionmaker."""
    application = create_app()
    async with LifespanManager(application):
        engine = getattr(application.state, "engine", None)
        factory = getattr(application.state, "sessionmaker", None)
        assert isinstance(engine, AsyncEngine), (
            f"Lesson 02: after startup app.state.engine is {engine!r}; create it in the lifespan and pass "
            "lifespan=lifespan to FastAPI (step 4)"
        )
        assert engine.url == make_url(app_env), (
            "Lesson 02: the engine does not use the app's settings.database_url; build it with "
            "create_engine(app.state.settings) (step 4)"
        )
        assert isinstance(factory, async_sessionmaker) and factory.kw.get("bind") is engine, (
            f"Lesson 02: after startup app.state.sessionmaker is {factory!r}; make it with "
            "create_sessionmaker(engine) on the engine you just created (step 4)"
        )


@pytest.mark.step(4)
async def test_the_lifespan_disposes_of_the_engine_on_shutdown(app_env: str) -> None:
    """Hint: after `yield` (in a `finally`), `await engine.dispose()` closes the pooled connections."""
    application = create_app()
    async with LifespanManager(application):
        engine = getattr(application.state, "engine", None)
        assert isinstance(engine, AsyncEngine), (
            "Lesson 02: after startup there is no app.state.engine; create it in the lifespan (step 4)"
        )
        async with engine.connect() as connection:  # leaves one open connection in the pool
            await connection.execute(text("SELECT 1"))
        pool = engine.pool
        assert pool.checkedin() == 1
    assert pool.checkedin() == 0, (
        "Lesson 02: after shutdown the pool still holds an open connection; dispose of the engine "
        "when the lifespan ends (step 4)"
    )


@pytest.mark.step(5)
async def test_database_is_up_says_true_when_the_database_answers(db_session: AsyncSession) -> None:
    """Hint: `await session.execute(text("SELECT 1"))` round-trips to the server."""
    up = await load("app.core.database").database_is_up(db_session)
    assert up is True, f"Lesson 02: database_is_up() returned {up!r} on a working database (step 5)"


@pytest.mark.step(5)
async def test_database_is_up_says_false_when_the_database_is_unreachable(unreachable_url: str) -> None:
    """Hint: a refused connection raises OSError; an error the server reports arrives as DBAPIError."""
    engine = create_async_engine(unreachable_url)
    try:
        async with AsyncSession(engine) as session:
            try:
                up = await load("app.core.database").database_is_up(session)
            except NotImplementedError:
                raise
            except Exception as error:
                raise AssertionError(
                    f"Lesson 02: database_is_up() raised {type(error).__name__} for a database nobody "
                    "listens on; catch the connection errors and return False (step 5)"
                ) from error
    finally:
        await engine.dispose()
    assert up is False, f"Lesson 02: database_is_up() returned {up!r} for an unreachable database (step 5)"


class BrokenSession:
    """Stands in for a session whose query has a bug (not a connection problem)."""

    async def execute(self, *args: object, **kwargs: object) -> object:
        raise LookupError("a bug in the code, not an outage")


@pytest.mark.step(5)
async def test_database_is_up_does_not_hide_bugs() -> None:
    """Hint: catch the errors an outage raises, not every Exception: a bug must not look like an outage."""
    is_up = load("app.core.database").database_is_up
    try:
        up = await is_up(BrokenSession())
    except LookupError:
        return
    raise AssertionError(
        f"Lesson 02: database_is_up() swallowed a LookupError and returned {up!r}; catch only "
        "OSError and DBAPIError (step 5)"
    )


@pytest.mark.step(5)
async def test_health_says_ok_when_the_database_answers(app_env: str) -> None:
    """Hint: the route takes `session: SessionDep` and asks `database_is_up(session)`."""
    response = await get_health(create_app())
    assert response.status_code == 200, (
        f"Lesson 02: GET /health answered {response.status_code} with a working database (step 5)"
    )
    assert response.json() == {"status": "ok", "database": "ok"}, (
        f'Lesson 02: GET /health returned {response.text}; expected {{"status": "ok", "database": "ok"}} (step 5)'
    )


@pytest.mark.step(5)
async def test_health_answers_503_when_the_database_is_unreachable(app_env: str, unreachable_url: str) -> None:
    """Hint: take `response: Response` as a parameter and set `response.status_code` to 503."""
    response = await get_health(create_app(database_url=unreachable_url))
    assert response.status_code == 503, (
        f"Lesson 02: GET /health answered {response.status_code} while the database is unreachable; "
        "a load balancer needs 503 to stop sending traffic (step 5)"
    )
    assert response.json() == {"status": "degraded", "database": "unreachable"}, (
        f'Lesson 02: GET /health returned {response.text}; expected {{"status": "degraded", '
        '"database": "unreachable"} (step 5)'
    )
