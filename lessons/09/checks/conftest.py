"""Shared by lesson 09's checks: your app over HTTP, users who sign up and log in, tokens good and bad.

`ledger()` builds the app with your `create_app()`, runs its lifespan and gives an
`httpx.AsyncClient` that talks to it in-process. Each request's session is a SAVEPOINT inside the
check's own transaction, rolled back when the check ends: checks never see each other's users.

Users sign up and log in through your API, with real Argon2 hashes (a tenth of a second each), so
a check that needs two users takes about a second. `argon2_calls()` counts the hashes and
verifications your code makes, and notes where each ran: in a worker thread, or on the event loop.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop import grading
from workshop.grading import LessonError
from workshop.serving import ESCAPED, Ledger, ledger_in, where

# The secret the engine's app_env fixture sets (LEDGER_SECRET_KEY): your app signs with it.
SECRET = "a-test-secret-that-is-not-the-default"
PASSWORD = "correct horse battery staple"
TOKEN_URL = "/api/v1/auth/token"

# The first check that needs the migrated database builds it (`alembic upgrade head`, seconds on a busy
# machine); checks that hash several passwords take a second or two. Give both room.
DATABASE_TIMEOUT = 30


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()) or "ledger" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.workshop_timeout(DATABASE_TIMEOUT))


def lesson_error(message: str) -> LessonError:
    return LessonError(f"Lesson 09: {message}")


# --- the app over HTTP -------------------------------------------------------------------------------


@pytest.fixture
def ledger(app_env: str, db_connection: AsyncConnection) -> Ledger:
    """`async with ledger(**settings) as http:` — your app, its sessions joined to this check's transaction."""
    return ledger_in(db_connection)


def explain(response: httpx.Response) -> str:
    """What a response is, in words: a 500 and the exception behind it, an HTTPException, an error code."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    escaped = response.extensions.get(ESCAPED)
    if status == 500 and isinstance(escaped, BaseException):
        said = grading.unexpected_outcome(escaped) or f"your code raised {type(escaped).__name__}: {escaped}"
        return f"500 because {said[:300]}{where(escaped)}"
    if status in (301, 302, 307, 308):
        return (
            f"{status}, a redirect to {response.headers.get('location')}: the route is declared with a trailing "
            "slash (or the request lacks one it needs), and many clients drop the Authorization header on a redirect"
        )
    if isinstance(body, dict) and set(body) == {"detail"}:
        if status == 404 and body["detail"] == "Not Found":
            return (
                f'404 {{"detail": "Not Found"}}: no route matches {response.request.method} {response.request.url.path}'
            )
        return (
            f'{status} {{"detail": {body["detail"]!r}}}: that body is FastAPI\'s own (an HTTPException, or a security '
            "scheme with auto_error), not the API's one error body"
        )
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "code" in error:
        return f"{status} with the error {error['code']!r}: {str(error.get('message', ''))[:160]}"
    return f"{status} {response.text[:200]}"


def expect_status(response: httpx.Response, status: int, what: str, step: int, wanted: str = "") -> None:
    """A teaching assertion: `what` answered `status`; otherwise say what it answered instead."""
    if response.status_code != status:
        raise lesson_error(
            f"{what} answered {explain(response)}; expected {status}{' ' + wanted if wanted else ''} (step {step})"
        )


def error_code(response: httpx.Response) -> object:
    """The `code` of a `{"error": {"code": …}}` body, or a description of what stands there instead."""
    try:
        body = response.json()
    except ValueError:
        return f"a body that is not JSON: {response.text[:80]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else f"no error code: {response.text[:120]}"


# --- users ---------------------------------------------------------------------------------------------


def new_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


async def sign_up(http: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
    """POST /api/v1/users; the new user as the API answers it."""
    email = email or new_email()
    response = await http.post("/api/v1/users", json={"email": email, "password": password})
    expect_status(response, 201, f"signing up {email} (POST /api/v1/users)", 4, "with the new user")
    user: dict[str, Any] = response.json()
    return user


async def log_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """POST /api/v1/auth/token with the OAuth2 form; the token response."""
    response = await http.post(TOKEN_URL, data={"username": email, "password": password})
    expect_status(response, 200, f"logging in as {email} (POST {TOKEN_URL}, a form)", 4, "with an access token")
    token: dict[str, Any] = response.json()
    if not isinstance(token.get("access_token"), str):
        raise lesson_error(
            f"logging in answered {response.text[:200]}; expected an OAuth2 token response with access_token (step 4)"
        )
    return token


@dataclass
class SignedIn:
    """A user who signed up and logged in: their email, id, and the headers of their requests."""

    email: str
    id: str
    headers: dict[str, str] = field(default_factory=dict)


async def signed_in(http: httpx.AsyncClient, name: str = "user") -> SignedIn:
    email = new_email(name)
    user = await sign_up(http, email)
    token = await log_in(http, email)
    return SignedIn(email, str(user.get("id")), {"Authorization": f"Bearer {token['access_token']}"})


async def open_account(
    http: httpx.AsyncClient, who: SignedIn, currency: str = "EUR", deposit: int = 0
) -> dict[str, Any]:
    """An account opened by `who`, with `deposit` paid into it."""
    response = await http.post("/api/v1/accounts", json={"owner": who.email, "currency": currency}, headers=who.headers)
    expect_status(response, 201, "opening an account with a valid token (POST /api/v1/accounts)", 6, "with it")
    account: dict[str, Any] = response.json()
    if deposit:
        paid = await http.post(
            f"/api/v1/accounts/{account['id']}/deposits", json={"amount": deposit}, headers=who.headers
        )
        expect_status(paid, 201, "a deposit into one's own account, with its owner's token", 6, "with the account")
        account = paid.json()
    return account


# --- Argon2, watched -----------------------------------------------------------------------------------


@dataclass
class Argon2Calls:
    """Every Argon2 hash and verification pwdlib made, and whether each ran on the event loop."""

    hashes: int = 0
    verifications: int = 0
    on_the_loop: list[str] = field(default_factory=list)  # "hash" / "verify", for each call made on the loop

    def note(self, what: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a thread without an event loop: a worker thread
        self.on_the_loop.append(f"{what} (in thread {threading.current_thread().name})")


@contextmanager
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Argon2Calls]:
    """Count pwdlib's Argon2 work while the block runs."""
    calls = Argon2Calls()
    original_hash, original_verify = Argon2Hasher.hash, Argon2Hasher.verify

    def counted_hash(self: Argon2Hasher, password: str | bytes, *, salt: bytes | None = None) -> str:
        calls.hashes += 1
        calls.note("hash")
        return original_hash(self, password, salt=salt)

    def counted_verify(self: Argon2Hasher, password: str | bytes, hash: str | bytes) -> bool:
        calls.verifications += 1
        calls.note("verify")
        return original_verify(self, password, hash)

    with monkeypatch.context() as patch:
        patch.setattr(Argon2Hasher, "hash", counted_hash)
        patch.setattr(Argon2Hasher, "verify", counted_verify)
        yield calls


# --- tokens ------------------------------------------------------------------------------------------

FORGERIES = ["expired", "tampered", "another-key", "alg-none", "hs512", "no-exp", "not-a-uuid", "malformed"]


def forge(how: str, user_id: uuid.UUID | None = None, secret: str = SECRET) -> str:
    """A token that proves nothing: `how` says what is wrong with it."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": str(user_id or uuid.uuid4()), "iat": now, "exp": now + timedelta(minutes=5)}
    match how:
        case "expired":
            return jwt.encode({**claims, "iat": now - timedelta(minutes=10), "exp": now - timedelta(seconds=5)}, secret)
        case "tampered":  # the claims of another user, under this token's signature
            header, _, signature = jwt.encode(claims, secret, algorithm="HS256").split(".")
            other = jwt.encode({**claims, "sub": str(uuid.uuid4())}, secret, algorithm="HS256").split(".")[1]
            return f"{header}.{other}.{signature}"
        case "another-key":
            return jwt.encode(claims, "someone-else's-key-that-is-long-enough", algorithm="HS256")
        case "alg-none":
            return jwt.encode(claims, None, algorithm="none")
        case "hs512":  # the right key, an algorithm the service does not use
            with warnings.catch_warnings():  # PyJWT warns that the test secret is short for HS512: it is
                warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
                return jwt.encode(claims, secret, algorithm="HS512")
        case "no-exp":
            return jwt.encode({"sub": claims["sub"], "iat": now}, secret, algorithm="HS256")
        case "not-a-uuid":
            return jwt.encode({**claims, "sub": "admin"}, secret, algorithm="HS256")
        case _:
            return "not.a.jwt"


def signed_for(user_id: uuid.UUID, secret: str = SECRET, minutes: int = 5) -> str:
    """A well-signed token for `user_id`, as your app would issue it."""
    now = datetime.now(UTC)
    return jwt.encode({"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes)}, secret, "HS256")


FORGED_WHAT = {
    "expired": "a token whose exp has passed",
    "tampered": "a token whose claims were changed after it was signed",
    "another-key": "a token signed with another key",
    "alg-none": 'a token with "alg": "none" and no signature',
    "hs512": "a token signed with the right key but HS512, an algorithm the service does not use",
    "no-exp": "a token without an exp claim",
    "not-a-uuid": 'a token whose sub is "admin", not a user id',
    "malformed": 'the string "not.a.jwt"',
}
