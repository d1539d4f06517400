"""Shared by lesson 06's checks: your app, served over real HTTP, on a database rolled back after each check.

`ledger()` builds the app with your `create_app()`, runs its lifespan (as a server would, with
asgi_lifespan's LifespanManager) and gives an `httpx.AsyncClient` that talks to it in-process.
Each request's session is a SAVEPOINT inside this check's own transaction, which is rolled back
when the check ends: checks never see each other's accounts, and nothing is left behind.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from workshop.grading import load

Ledger = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def create_app(**settings: Any) -> FastAPI:
    """Your create_app() with Settings from the environment, plus keyword overrides."""
    config = load("app.core.config")
    application: FastAPI = load("app.main").create_app(config.Settings(**settings))
    return application


@asynccontextmanager
async def serving(application: FastAPI, errors: list[BaseException] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and a client for it.

    By default an exception escaping the app (a stub's NotImplementedError) reaches the check.
    With `errors=[]` the client gets the response a real client would (a 500) and the list gets the error.
    """
    async with LifespanManager(application) as manager:
        app: Any = manager.app
        if errors is not None:
            served = app

            async def recording(scope: Any, receive: Any, send: Any) -> None:
                try:
                    await served(scope, receive, send)
                except Exception as error:
                    errors.append(error)
                    raise

            app = recording
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=errors is None)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:
            yield client


@pytest.fixture
def ledger(app_env: str, db_connection: AsyncConnection) -> Ledger:
    """`async with ledger(**settings) as http:` — your app, its sessions joined to this check's transaction."""

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        application = create_app(**settings)

        async def session_in_this_check() -> AsyncIterator[AsyncSession]:
            # What get_session does (commit on success, roll back on error), inside the check's transaction.
            async with AsyncSession(
                bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
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


def error_code(response: httpx.Response) -> object:
    """The `code` in a `{"error": {"code": …, "message": …}}` body, or what stands there instead."""
    try:
        body = response.json()
    except ValueError:
        return f"a body that is not JSON: {response.text[:80]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return f"a body without error.code and error.message: {response.text[:120]}"
    return error.get("code")


def expect_error(response: httpx.Response, status: int, code: str, what: str) -> None:
    """A teaching assertion: `what` answered `status` with the error body carrying `code`."""
    assert response.status_code == status, (
        f"Lesson 06: {what} answered {response.status_code} {response.text[:120]}; expected {status} (step 5)"
    )
    found = error_code(response)
    assert found == code, (
        f'Lesson 06: {what} answered {status} with {found!r}; expected {{"error": {{"code": "{code}", '
        '"message": …}} (step 5)'
    )


async def open_account(http: httpx.AsyncClient, owner: str = "Ada", currency: str = "EUR") -> dict[str, Any]:
    response = await http.post("/api/v1/accounts", json={"owner": owner, "currency": currency})
    assert response.status_code == 201, (
        f"Lesson 06: POST /api/v1/accounts answered {response.status_code} {response.text[:160]}; "
        "expected 201 with the new account (step 3)"
    )
    account: dict[str, Any] = response.json()
    return account


async def deposit(http: httpx.AsyncClient, account_id: str, amount: int) -> dict[str, Any]:
    response = await http.post(f"/api/v1/accounts/{account_id}/deposits", json={"amount": amount})
    assert response.status_code == 201, (
        f"Lesson 06: POST /api/v1/accounts/{{id}}/deposits answered {response.status_code} "
        f"{response.text[:160]}; expected 201 with the account (step 3)"
    )
    account: dict[str, Any] = response.json()
    return account


async def balance(http: httpx.AsyncClient, account_id: str) -> object:
    response = await http.get(f"/api/v1/accounts/{account_id}")
    assert response.status_code == 200, (
        f"Lesson 06: GET /api/v1/accounts/{{id}} answered {response.status_code} {response.text[:160]} (step 3)"
    )
    return response.json().get("balance")
