"""Lesson 02 checks, steps 4 and 5: the lifespan owns the engine; /health asks the database.

`httpx.ASGITransport` does not run an app's lifespan, so these checks wrap the app in
`asgi_lifespan.LifespanManager`, which sends the startup and shutdown events a server would.
"""

import asyncio
import contextlib
import sys
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from workshop.grading import load

# A healthy loop wakes every 10 ms; a blocked one not for a second (wide: other work shares the machine).
BLOCKED = 1.0
APP_MODULES = ("app.main", "app.core.database", "app.dependencies.session", "app.routers.health")


def require_a_pool(engine: AsyncEngine) -> None:
    """Fail with a lesson message when the engine keeps no pool of connections (NullPool and the like)."""
    assert callable(getattr(engine.pool, "checkedin", None)), (
        f"Lesson 02: app.state.engine has a {type(engine.pool).__name__}, which keeps no pool of connections: "
        "every request opens (and closes) a connection of its own, and the db_* settings do nothing; keep "
        "create_async_engine's own pool, configured from the settings (step 1)"
    )


def create_app(**settings: Any) -> FastAPI:
    """Your create_app() with Settings from the environment, plus keyword overrides."""
    config = load("app.core.config")
    return load("app.main").create_app(config.Settings(**settings))


def require_a_sessionmaker(application: FastAPI) -> None:
    assert getattr(application.state, "sessionmaker", None) is not None, (
        "Lesson 02: after startup there is no app.state.sessionmaker, so get_session cannot make a "
        "session; finish the lifespan and pass lifespan=lifespan to FastAPI (step 4)"
    )


async def get_health(application: FastAPI) -> httpx.Response:
    async with LifespanManager(application) as manager:
        require_a_sessionmaker(application)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            try:
                return await http.get("/health")
            except OSError as error:
                raise AssertionError(
                    f"Lesson 02: GET /health failed with {type(error).__name__} ({error}) instead of answering: "
                    "a refused connection raises OSError, and database_is_up() must catch the connection "
                    "errors and return False (step 5)"
                ) from error


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
    held = [
        f"{module}.{name}"
        for module in APP_MODULES
        if module in sys.modules
        for name, value in vars(sys.modules[module]).items()
        if isinstance(value, AsyncEngine | async_sessionmaker | AsyncSession)
    ]
    assert not held, (
        f"Lesson 02: importing the app created {', '.join(held)} at module level; an engine made at import "
        "ignores the settings create_app() is given and is never disposed: create it in the lifespan (step 4)"
    )


@pytest.mark.step(4)
async def test_the_lifespan_puts_an_engine_and_a_sessionmaker_on_app_state(app_env: str, database_server: Any) -> None:
    """Hint: in `lifespan`, before `yield`: `app.state.engine = create_engine(...)`, then the sessionmaker."""
    # Settings passed to create_app() that differ from the environment's (another database of the same
    # server, which exists everywhere): the engine must follow them.
    other_url = database_server.database_url("postgres")
    application = create_app(database_url=other_url)
    async with LifespanManager(application):
        engine = getattr(application.state, "engine", None)
        factory = getattr(application.state, "sessionmaker", None)
        assert isinstance(engine, AsyncEngine), (
            f"Lesson 02: after startup app.state.engine is {engine!r}; create it in the lifespan and pass "
            "lifespan=lifespan to FastAPI (step 4)"
        )
        assert engine.url != make_url(app_env), (
            "Lesson 02: create_app(settings) was given a database_url, but the engine uses LEDGER_DATABASE_URL "
            "from the environment: keep the settings create_app() is given on app.state.settings and build "
            "the engine in the lifespan with create_engine(app.state.settings), not get_settings() (step 4)"
        )
        assert engine.url == make_url(other_url), (
            f"Lesson 02: the engine's URL is {engine.url!r}, not the database_url of the app's settings; build "
            "it with create_engine(app.state.settings) (step 4)"
        )
        assert isinstance(factory, async_sessionmaker), (
            f"Lesson 02: after startup app.state.sessionmaker is {factory!r}; make it with "
            "create_sessionmaker(engine) (step 4)"
        )
        assert factory.kw.get("bind") is engine, (
            "Lesson 02: app.state.sessionmaker makes sessions on another engine than app.state.engine: a second "
            "pool that the lifespan never disposes. Make it with create_sessionmaker(engine) on the engine you "
            "just created (step 4)"
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
        require_a_pool(engine)
        try:
            async with engine.connect() as connection:  # leaves one open connection in the pool
                await connection.execute(text("SELECT 1"))
        except (OSError, DBAPIError) as error:
            raise AssertionError(
                f"Lesson 02: app.state.engine could not reach the database of the app's settings "
                f"({type(error).__name__}): it was not built from them; create it in the lifespan from "
                "app.state.settings (step 4)"
            ) from error
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


@pytest.mark.step(5)
async def test_database_is_up_says_false_when_the_server_refuses(database_server: Any) -> None:
    """Hint: when the server answers "no" (no such database, wrong password), SQLAlchemy raises DBAPIError."""
    engine = create_async_engine(database_server.database_url("ledger_no_such_database"))
    try:
        async with AsyncSession(engine) as session:
            try:
                up = await load("app.core.database").database_is_up(session)
            except NotImplementedError:
                raise
            except Exception as error:
                raise AssertionError(
                    f"Lesson 02: database_is_up() raised {type(error).__name__} when the server refused the "
                    "connection (no such database); catch DBAPIError too and return False (step 5)"
                ) from error
    finally:
        await engine.dispose()
    assert up is False, f"Lesson 02: database_is_up() returned {up!r} for a database that does not exist (step 5)"


@pytest.mark.step(5)
async def test_database_is_up_never_blocks_the_event_loop(unreachable_url: str) -> None:
    """Hint: in async code, wait with `await`; `time.sleep()` or a blocking call stops every other request."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    longest = 0.0

    async def heartbeat() -> None:
        nonlocal longest
        last = loop.time()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = loop.time()
            longest = max(longest, now - last)
            last = now

    database_is_up = load("app.core.database").database_is_up  # imported before the clock starts
    engine = create_async_engine(unreachable_url)
    try:
        with contextlib.suppress(OSError):  # a first attempt loads the driver, before the clock starts
            async with engine.connect():
                pass
        beating = asyncio.create_task(heartbeat())
        try:
            await asyncio.sleep(0.02)  # the heartbeat is running
            async with AsyncSession(engine) as session:
                try:
                    await database_is_up(session)
                except NotImplementedError:
                    raise
                except Exception:
                    pass  # not this check's business: test_database_is_up_says_false_when_the_database_is_unreachable
        finally:
            stop.set()
            await beating
    finally:
        await engine.dispose()
    assert longest < BLOCKED, (
        f"Lesson 02: while database_is_up() checked an unreachable database, the event loop stood still for "
        f"{longest:.1f} s: no other request could run. Something in it blocks (time.sleep, a synchronous "
        "driver or socket); await instead (step 5)"
    )


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
        f'Lesson 02: GET /health answered 503 with {response.text}; expected {{"status": "degraded", '
        '"database": "unreachable"}: set response.status_code and return the dict, an HTTPException replaces '
        "the body (step 5)"
    )


@pytest.mark.step(5)
async def test_health_uses_the_pool_of_the_apps_engine(app_env: str) -> None:
    """Hint: the route asks for `session: SessionDep`; the session comes from the lifespan's one engine."""
    application = create_app()
    async with LifespanManager(application) as manager:
        require_a_sessionmaker(application)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            for _ in range(3):
                response = await http.get("/health")
                assert response.status_code == 200, (
                    f"Lesson 02: GET /health answered {response.status_code} with a working database (step 5)"
                )
        engine = getattr(application.state, "engine", None)
        assert isinstance(engine, AsyncEngine), (
            "Lesson 02: after startup there is no app.state.engine; create it in the lifespan (step 4)"
        )
        require_a_pool(engine)
        pooled = engine.pool.checkedin()
    assert pooled >= 1, (
        "Lesson 02: three GET /health answered 200, yet the pool of app.state.engine never lent a connection: "
        "the requests used an engine of their own. Take the session from SessionDep, whose sessions come from "
        "app.state.sessionmaker, on the lifespan's engine (step 5)"
    )
