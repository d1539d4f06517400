"""The lesson's app served in-process for checks over HTTP (lessons 06 and 09 on).

`serving(app)` runs the app's lifespan, as a server would (asgi_lifespan's LifespanManager), and
gives an `httpx.AsyncClient` that talks to it. `ledger_in(connection)` is what a lesson's `ledger`
fixture returns: `async with ledger(**settings) as http:` builds the app with the learner's
`create_app()`, each request's session a SAVEPOINT inside the check's own transaction.
"""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop import grading
from workshop.grading import load

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Ledger = Callable[..., AbstractAsyncContextManager["httpx.AsyncClient"]]

ESCAPED = "workshop_escaped_error"  # response.extensions key: the exception that became this 500
SERVED_BY = "workshop_application"  # response.extensions key: the app that answered


def create_app(**settings: Any) -> FastAPI:
    """The learner's create_app() with Settings from the environment, plus keyword overrides."""
    config = load("app.core.config")
    application: FastAPI = load("app.main").create_app(config.Settings(**settings))
    return application


def stub_error(error: BaseException) -> BaseException | None:
    """The NotImplementedError of a stub inside `error` (a group, a cause, a context), else None."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NotImplementedError):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(linked for linked in (current.__cause__, current.__context__) if linked is not None)
    return None


def where(error: BaseException) -> str:
    """` (app/routers/v1/accounts.py:33)`: the innermost line of the lesson's app the error passed through."""
    app_dir = grading.folder().resolve() / "app"
    site = ""
    for frame, line in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename).resolve()
        if app_dir in path.parents:
            site = f" ({path.relative_to(app_dir.parent).as_posix()}:{line})"
    return site


@asynccontextmanager
async def serving(application: FastAPI, errors: list[BaseException] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and a client for it.

    An exception escaping the app becomes what a real client gets, a 500; the response carries it
    (`response.extensions[ESCAPED]`) for the lesson's `explain()`. A stub's NotImplementedError still
    reaches the check at once, so the check fails as "todo". Pass `errors=[]` to collect every
    escaped exception in that list as well (stubs included).
    """
    import httpx
    from asgi_lifespan import LifespanManager

    recorded: list[BaseException] = [] if errors is None else errors
    async with LifespanManager(application) as manager:
        served: Any = manager.app

        async def recording(scope: Any, receive: Any, send: Any) -> None:
            try:
                await served(scope, receive, send)
            except Exception as error:
                recorded.append(error)
                raise

        seen = len(recorded)

        async def attach_error(response: httpx.Response) -> None:
            nonlocal seen
            response.extensions[SERVED_BY] = application
            new, seen = recorded[seen:], len(recorded)
            if not new:
                return
            if errors is None and any(stub_error(error) is not None for error in new):
                raise new[-1]  # a stub: the check fails as "todo", pointing at it
            response.extensions[ESCAPED] = new[-1]

        transport = httpx.ASGITransport(app=recording, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ledger.test", event_hooks={"response": [attach_error]}
        ) as client:
            yield client


def ledger_in(connection: AsyncConnection) -> Ledger:
    """`async with ledger(**settings) as http:`: the learner's app, its sessions inside `connection`'s transaction."""
    from sqlalchemy.ext.asyncio import AsyncSession

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        application = create_app(**settings)

        async def session_in_this_check() -> AsyncIterator[AsyncSession]:
            # What get_session does (commit on success, roll back on error), inside the check's transaction.
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

        application.dependency_overrides[load("app.dependencies.session").get_session] = session_in_this_check
        async with serving(application) as client:
            yield client

    return start
