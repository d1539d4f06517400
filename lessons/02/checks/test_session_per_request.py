"""Lesson 02 checks, step 3: one session per request, committed when the route returns, rolled back when it raises.

Each check builds a tiny app of its own whose routes use your `SessionDep`, so these checks need
only app/core/database.py and app/dependencies/session.py, not the rest of the app. Commits here
are real: each check writes to a table of its own, which it drops at the end.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, HTTPException
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from workshop.grading import load

pytestmark = pytest.mark.step(3)


@pytest_asyncio.fixture(loop_scope="session")
async def notes(db_engine: AsyncEngine) -> AsyncIterator[str]:
    """The name of a fresh table `(id integer PRIMARY KEY, body text)` for this check alone."""
    name = f"notes_{uuid.uuid4().hex[:12]}"
    async with db_engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE {name} (id integer PRIMARY KEY, body text NOT NULL)"))
    try:
        yield name
    finally:
        async with db_engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS {name}"))


def app_with_sessions(engine: AsyncEngine) -> tuple[FastAPI, Any]:
    """A bare app whose state has a sessionmaker (what your lifespan will do in step 4), and SessionDep."""
    application = FastAPI()
    application.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    return application, load("app.dependencies.session").SessionDep


def client(application: Any, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://ledger.test")


def recording(application: FastAPI, errors: list[Exception]) -> Any:
    """The app, as an ASGI callable that notes every exception escaping it."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await application(scope, receive, send)
        except Exception as error:
            errors.append(error)
            raise

    return app


def explain(errors: list[Exception]) -> None:
    """Re-raise a stub's NotImplementedError; turn a read of app.state beyond the sessionmaker into a lesson message."""
    for error in errors:
        if isinstance(error, NotImplementedError):
            raise error
    for error in errors:
        if isinstance(error, AttributeError) and "'State' object has no attribute" in str(error):
            missing = str(error).rsplit(" ", 1)[-1].strip("'\"")
            raise AssertionError(
                f"Lesson 02: get_session read request.app.state.{missing}, but a request needs only "
                "request.app.state.sessionmaker, made once by the lifespan on the app's one engine (this check's "
                "app has nothing else): an engine or a sessionmaker made per request is a new pool, and a new "
                "connection, for every request (step 3)"
            ) from error


async def committed(engine: AsyncEngine, table: str) -> list[str]:
    """The rows as another connection sees them: only what was committed."""
    async with engine.connect() as connection:
        return list((await connection.execute(text(f"SELECT body FROM {table} ORDER BY id"))).scalars())


async def test_a_request_commits_its_writes_when_the_route_returns(db_engine: AsyncEngine, notes: str) -> None:
    """Hint: after `yield session`, the route has returned without an error: commit there."""
    application, SessionDep = app_with_sessions(db_engine)

    @application.post("/notes", status_code=201)
    async def add_note(session: SessionDep) -> None:
        await session.execute(text(f"INSERT INTO {notes} VALUES (1, 'kept')"))

    errors: list[Exception] = []
    async with client(recording(application, errors), raise_app_exceptions=False) as http:
        response = await http.post("/notes")
    explain(errors)
    for error in errors:
        raise error
    assert response.status_code == 201, f"Lesson 02: POST /notes answered {response.status_code} (step 3)"
    assert await committed(db_engine, notes) == ["kept"], (
        "Lesson 02: a route wrote a row and returned, but another connection does not see it: "
        "get_session must commit after the route returns (step 3)"
    )


async def test_a_request_that_raises_rolls_back_its_writes(db_engine: AsyncEngine, notes: str) -> None:
    """Hint: wrap `yield session` in try/except: roll back, then `raise` so FastAPI still answers the error."""
    application, SessionDep = app_with_sessions(db_engine)

    @application.post("/notes")
    async def add_note_then_refuse(session: SessionDep) -> None:
        await session.execute(text(f"INSERT INTO {notes} VALUES (1, 'must vanish')"))
        raise HTTPException(status_code=409, detail="changed my mind")

    errors: list[Exception] = []
    async with client(recording(application, errors), raise_app_exceptions=False) as http:
        response = await http.post("/notes")
    explain(errors)
    assert await committed(db_engine, notes) == [], (
        "Lesson 02: the route raised after writing a row, and the row was committed: roll back when "
        "the route raises, and never commit in a `finally` (step 3)"
    )
    assert response.status_code == 409, (
        f"Lesson 02: the route raised HTTPException(409) but the client got {response.status_code}: "
        "re-raise the exception after rolling back (step 3)"
    )


async def test_two_concurrent_requests_never_share_a_session(db_engine: AsyncEngine) -> None:
    """Hint: make a new session inside get_session, for every call: `async with sessionmaker() as session`."""
    application, SessionDep = app_with_sessions(db_engine)
    seen: list[AsyncSession] = []
    both_inside = asyncio.Barrier(2)

    @application.get("/who")
    async def who(session: SessionDep) -> None:
        seen.append(session)
        await both_inside.wait()  # both requests are in flight at the same time

    errors: list[Exception] = []
    async with client(recording(application, errors), raise_app_exceptions=False) as http:
        try:
            async with asyncio.timeout(3):
                await asyncio.gather(http.get("/who"), http.get("/who"))
        except TimeoutError:
            raise AssertionError(
                "Lesson 02: two requests could not run at the same time; does get_session hold a lock "
                "or wait for the previous session? (step 3)"
            ) from None
    explain(errors)
    for error in errors:
        raise error
    assert len(seen) == 2 and seen[0] is not seen[1], (
        "Lesson 02: two requests in flight got the same AsyncSession; a session is not safe to share "
        "between concurrent tasks. Make one per request (step 3)"
    )


class CountingSessionmaker(async_sessionmaker[AsyncSession]):
    """An async_sessionmaker that counts the sessions it makes (`begin()` makes them through `__call__` too)."""

    made = 0

    def __call__(self, **local_kw: Any) -> AsyncSession:
        self.made += 1
        return super().__call__(**local_kw)


async def test_each_request_takes_its_session_from_the_apps_sessionmaker(db_engine: AsyncEngine) -> None:
    """Hint: the lifespan made one sessionmaker, on the app's one engine: `request.app.state.sessionmaker`."""
    application, SessionDep = app_with_sessions(db_engine)
    factory = CountingSessionmaker(db_engine, expire_on_commit=False)
    application.state.sessionmaker = factory

    @application.get("/one")
    async def one(session: SessionDep) -> int:
        return int((await session.execute(text("SELECT 1"))).scalar_one())

    errors: list[Exception] = []
    async with client(recording(application, errors), raise_app_exceptions=False) as http:
        response = await http.get("/one")
    for error in errors:
        if isinstance(error, NotImplementedError):
            raise error
    raised = f" (the request failed with {type(errors[0]).__name__}: {errors[0]})" if errors else ""
    assert factory.made == 1, (
        f"Lesson 02: one request made {factory.made} session(s) with request.app.state.sessionmaker{raised}; "
        "make each request's session with it, never with an engine or sessionmaker of get_session's own: an "
        "engine per request is a new pool and a new connection every time (step 3)"
    )
    assert response.status_code == 200, f"Lesson 02: GET /one answered {response.status_code} (step 3)"


@pytest.mark.parametrize("route", ["returns", "raises", "commit_fails"])
async def test_the_connection_goes_back_to_the_pool_after_the_request(
    database_url: str, db_engine: AsyncEngine, route: str
) -> None:
    """Hint: `async with sessionmaker() as session:` closes the session on the way out, whatever happens."""
    engine = create_async_engine(database_url)  # a pool of its own, so the count is this check's alone
    seen: list[AsyncSession] = []  # kept alive, so the garbage collector cannot hand a leaked connection back
    codes = f"codes_{uuid.uuid4().hex[:12]}"
    if route == "commit_fails":  # a UNIQUE constraint checked at COMMIT: the route succeeds, the commit fails
        async with db_engine.begin() as connection:
            await connection.execute(text(f"CREATE TABLE {codes} (code text UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
    try:
        application, SessionDep = app_with_sessions(engine)

        @application.get("/one")
        async def one(session: SessionDep) -> int:
            seen.append(session)
            value = int((await session.execute(text("SELECT 1"))).scalar_one())
            if route == "raises":
                raise HTTPException(status_code=409, detail="changed my mind")
            if route == "commit_fails":
                await session.execute(text(f"INSERT INTO {codes} VALUES ('A'), ('A')"))
            return value

        errors: list[Exception] = []
        async with client(recording(application, errors), raise_app_exceptions=False) as http:
            for _ in range(3):
                await http.get("/one")
        explain(errors)
        held = engine.pool.checkedout()
    finally:
        for session in seen:
            await session.close()
        await engine.dispose()
        if route == "commit_fails":
            async with db_engine.begin() as connection:
                await connection.execute(text(f"DROP TABLE IF EXISTS {codes}"))
    if route == "returns":
        assert held == 0, (
            f"Lesson 02: after three requests that read a row, {held} connection(s) are still checked out of "
            "the pool, each idle in an open transaction; close each request's session when the request ends, "
            "even when it had nothing to commit (step 3)"
        )
    elif route == "raises":
        assert held == 0, (
            f"Lesson 02: after three requests whose route raised, {held} connection(s) are still checked out "
            "of the pool, each idle in a transaction that holds its locks; roll back and close the session "
            "when the route raises (step 3)"
        )
    else:
        assert held == 0, (
            f"Lesson 02: after three requests whose commit failed, {held} connection(s) are still checked out "
            "of the pool, each stuck in a failed transaction until the garbage collector finds its session: "
            "the session was never closed. Close it whatever happens, a failing commit included (step 3)"
        )


async def test_a_commit_that_fails_is_never_answered_with_2xx(db_engine: AsyncEngine) -> None:
    """Hint: the commit must run before FastAPI sends the response: that is what scope="function" does."""
    codes = f"codes_{uuid.uuid4().hex[:12]}"
    async with db_engine.begin() as connection:  # a UNIQUE constraint checked at COMMIT, not at INSERT
        await connection.execute(text(f"CREATE TABLE {codes} (code text UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
    try:
        application, SessionDep = app_with_sessions(db_engine)

        @application.post("/codes", status_code=201)
        async def add_twice(session: SessionDep) -> None:
            # Both inserts succeed; the commit fails.
            await session.execute(text(f"INSERT INTO {codes} VALUES ('A'), ('A')"))

        errors: list[Exception] = []
        async with client(recording(application, errors), raise_app_exceptions=False) as http:
            response = await http.post("/codes")
    finally:
        async with db_engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS {codes}"))
    explain(errors)
    for error in errors:
        if not isinstance(error, IntegrityError):
            raise error  # not the failed commit: something else broke first
    assert errors, (
        "Lesson 02: the route's writes were never committed; commit in get_session after the route returns (step 3)"
    )
    assert not response.is_success, (
        f"Lesson 02: the commit failed (a duplicate code) but the client was told {response.status_code}; "
        'commit in get_session, and declare SessionDep with Depends(get_session, scope="function") (step 3)'
    )
