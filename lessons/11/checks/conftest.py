"""Shared by lesson 11's checks: your app over HTTP, users who sign up and log in, and v1 and v2 side by side.

`ledger()` builds the app with your `create_app()`, runs its lifespan and gives an `httpx.AsyncClient`
that talks to it in-process. Each request's session is a SAVEPOINT inside the check's own transaction,
rolled back when the check ends: checks never see each other's users or accounts.

Users sign up and log in through v2, with real Argon2 hashes (a tenth of a second each).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop import grading
from workshop.grading import LessonError
from workshop.serving import ESCAPED, Ledger, ledger_in, where

# The secret the engine's app_env fixture sets (LEDGER_SECRET_KEY): your app signs cursors with it.
SECRET = "a-test-secret-that-is-not-the-default"
PASSWORD = "correct horse battery staple"
PROBLEM_JSON = "application/problem+json"

# The first check that needs the migrated database builds it (`alembic upgrade head`, seconds on a busy
# machine); checks that sign up two users hash two passwords. Give both room.
DATABASE_TIMEOUT = 30


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "database_url" in names or "ledger" in names or "committed_database_url" in names:
            item.add_marker(pytest.mark.workshop_timeout(DATABASE_TIMEOUT))


def lesson_error(message: str) -> LessonError:
    return LessonError(f"Lesson 11: {message}")


@pytest.fixture
def ledger(app_env: str, db_connection: AsyncConnection) -> Ledger:
    """`async with ledger(**settings) as http:` — your app, its sessions joined to this check's transaction."""
    return ledger_in(db_connection)


def explain(response: httpx.Response) -> str:
    """What a response is, in words: a 500 and the exception behind it, a body, a media type."""
    status = response.status_code
    escaped = response.extensions.get(ESCAPED)
    if status == 500 and isinstance(escaped, BaseException):
        said = grading.unexpected_outcome(escaped) or f"your code raised {type(escaped).__name__}: {escaped}"
        return f"500 because {said[:300]}{where(escaped)}"
    media = response.headers.get("content-type", "no content-type")
    return f"{status} ({media}) {response.text[:240]}"


def expect_status(response: httpx.Response, status: int, what: str, step: int, wanted: str = "") -> None:
    """A teaching assertion: `what` answered `status`; otherwise say what it answered instead."""
    if response.status_code != status:
        raise lesson_error(
            f"{what} answered {explain(response)}; expected {status}{' ' + wanted if wanted else ''} (step {step})"
        )


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@dataclass
class SignedIn:
    """A user who signed up and logged in: their email, id, and the headers of their requests."""

    email: str
    id: str
    headers: dict[str, str] = field(default_factory=dict)


async def signed_in(http: httpx.AsyncClient, name: str = "user") -> SignedIn:
    """Sign up and log in through v1 (lesson 09's routes, which v1 keeps)."""
    email = f"{name}-{uuid.uuid4().hex[:10]}@example.com"
    created = await http.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    expect_status(created, 201, f"signing up {email} (POST /api/v1/users, lesson 09)", 4, "as in lesson 09")
    token = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    expect_status(token, 200, "logging in (POST /api/v1/auth/token, lesson 09)", 4, "as in lesson 09")
    return SignedIn(email, str(created.json()["id"]), {"Authorization": f"Bearer {token.json()['access_token']}"})


async def open_accounts(http: httpx.AsyncClient, who: SignedIn, count: int) -> list[str]:
    """`count` accounts opened by `who` through v1, oldest first: their ids."""
    ids = []
    for _ in range(count):
        response = await http.post(
            "/api/v1/accounts", json={"owner": who.email, "currency": "EUR"}, headers=who.headers
        )
        expect_status(response, 201, "opening an account (POST /api/v1/accounts, lesson 06)", 3, "as before")
        ids.append(str(response.json()["id"]))
    return ids


def v1_contract(document: dict[str, Any]) -> dict[str, Any]:
    """v1's paths in an OpenAPI document, and every component schema they reach."""

    def references(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
            return found.union(*(references(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(references(value) for value in node))
        return set()

    paths = {path: item for path, item in document.get("paths", {}).items() if path.startswith("/api/v1/")}
    schemas = document.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    todo = references(paths)
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo |= references(schemas.get(name, {}))
    return {"paths": paths, "schemas": {name: schemas[name] for name in sorted(reached) if name in schemas}}
