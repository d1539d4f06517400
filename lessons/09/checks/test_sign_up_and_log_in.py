"""Lesson 09 checks, step 4: POST /api/v1/users signs up, POST /api/v1/auth/token logs in.

Over HTTP, on your app (`ledger`), with real Argon2 hashes. What a client never learns is checked
as carefully as what it gets: the password and its hash in no answer and no log line, and no way
to tell an unknown email from a wrong password, by the answer or by the time it takes.
"""

import asyncio
import logging
import time
import uuid

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from workshop.grading import load

from .conftest import (
    PASSWORD,
    TOKEN_URL,
    Ledger,
    argon2_calls,
    error_code,
    expect_status,
    explain,
    lesson_error,
    log_in,
    new_email,
    sign_up,
)

pytestmark = pytest.mark.step(4)

WEAK = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1),))


async def stored_hash(connection: AsyncConnection, user_id: object) -> str:
    found = (
        await connection.execute(
            text("SELECT password_hash FROM users WHERE id = :id"), {"id": uuid.UUID(str(user_id))}
        )
    ).scalar_one_or_none()
    if found is None:
        raise lesson_error(
            f"POST /api/v1/users answered the user {user_id}, but users has no row with that id (step 4)"
        )
    return str(found)


async def test_signing_up_answers_201_with_the_user_and_no_password(ledger: Ledger) -> None:
    """Hint: return `UserRead.model_validate(user)`: id, email, created_at, and nothing else."""
    email = new_email("ada")
    async with ledger() as http:
        response = await http.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    expect_status(response, 201, "POST /api/v1/users", 4, "with the new user")
    body = response.json()
    assert body.get("email") == email and "id" in body and "created_at" in body, (
        f"Lesson 09: signing up answered {response.text[:200]}; expected the user: id, email, created_at (step 4)"
    )
    extra = sorted(set(body) - {"id", "email", "created_at"})
    assert not extra and PASSWORD not in response.text and "$argon2" not in response.text, (
        f"Lesson 09: signing up answered the fields {sorted(body)}: {extra} should not be there. A password, "
        "or its hash, in an answer ends up in browser histories, proxies and logs. UserRead has id, email and "
        "created_at only (step 4)"
    )


async def test_sign_up_stores_an_argon2id_hash_never_the_password(
    ledger: Ledger, db_connection: AsyncConnection
) -> None:
    """Hint: `await security.hash_password(password)` before the repository sees anything."""
    async with ledger() as http:
        user = await sign_up(http)
    stored = await stored_hash(db_connection, user["id"])
    assert stored != PASSWORD and PASSWORD not in stored and stored.startswith("$argon2id$"), (
        f"Lesson 09: signing up stored {stored[:40]!r}… as the password hash; expected an Argon2id hash from "
        "security.hash_password(password), never the password (step 4)"
    )


async def test_an_email_taken_in_any_case_answers_409_email_taken(ledger: Ledger) -> None:
    """Hint: the repository's INSERT … ON CONFLICT returns None for a taken email: raise EmailTaken."""
    email = new_email("Ada")
    async with ledger() as http:
        await sign_up(http, email)
        response = await http.post("/api/v1/users", json={"email": email.upper(), "password": PASSWORD})
    expect_status(
        response, 409, f"signing up {email.upper()} after {email}", 4, 'with {"error": {"code": "email_taken"}}'
    )
    assert error_code(response) == "email_taken", (
        f"Lesson 09: a second sign-up with one email answered {explain(response)}; expected the code email_taken "
        "(step 4)"
    )


REFUSED = {
    "short-password": {"email": "ada@example.com", "password": "hunter2"},
    "not-an-email": {"email": "ada.example.com", "password": PASSWORD},
    "unknown-field": {"email": "ada@example.com", "password": PASSWORD, "is_admin": True},
}


@pytest.mark.parametrize("what", sorted(REFUSED))
async def test_sign_up_refuses_what_is_not_a_valid_user(ledger: Ledger, what: str) -> None:
    """Hint: UserCreate: extra="forbid", email matching EMAIL_PATTERN, password of MIN_PASSWORD_LENGTH or more."""
    async with ledger() as http:
        response = await http.post("/api/v1/users", json=REFUSED[what])
    expect_status(response, 422, f"signing up with {REFUSED[what]}", 4, "validation_error: UserCreate refuses it")


async def test_logging_in_answers_a_bearer_token_that_is_never_cached(ledger: Ledger) -> None:
    """Hint: the route takes `OAuth2PasswordRequestForm` (username is the email) and answers a `Token`."""
    email = new_email()
    async with ledger() as http:
        await sign_up(http, email)
        response = await http.post(TOKEN_URL, data={"username": email, "password": PASSWORD})
    expect_status(response, 200, f"logging in (POST {TOKEN_URL} with the OAuth2 form)", 4, "with an access token")
    body = response.json()
    assert isinstance(body.get("access_token"), str) and body.get("token_type") == "bearer", (
        f"Lesson 09: logging in answered {response.text[:200]}; expected an OAuth2 token response: "
        '{"access_token": …, "token_type": "bearer", "expires_in": …} (step 4)'
    )
    assert "no-store" in response.headers.get("cache-control", ""), (
        f"Lesson 09: the token response has Cache-Control {response.headers.get('cache-control')!r}; a token is a "
        "credential, and RFC 6749 (section 5.1) says no cache may keep it: Cache-Control: no-store (step 4)"
    )


async def test_logging_in_finds_the_email_whatever_its_case(ledger: Ledger) -> None:
    """Hint: look the user up by `func.lower(User.email) == func.lower(email)`."""
    email = new_email("Grace")
    async with ledger() as http:
        await sign_up(http, email)
        response = await http.post(TOKEN_URL, data={"username": email.lower(), "password": PASSWORD})
    expect_status(
        response,
        200,
        f"logging in as {email.lower()}, who signed up as {email}",
        4,
        "with a token: one mailbox, one user, whatever the case the email is typed in",
    )


async def test_a_wrong_password_and_an_unknown_email_answer_the_same(ledger: Ledger) -> None:
    """Hint: one error, InvalidCredentials, for both: the answer must not say which one was wrong."""
    email = new_email()
    async with ledger() as http:
        await sign_up(http, email)
        wrong_password = await http.post(TOKEN_URL, data={"username": email, "password": "not the password"})
        unknown_email = await http.post(TOKEN_URL, data={"username": new_email(), "password": "not the password"})
    expect_status(wrong_password, 401, "logging in with a wrong password", 4, "invalid_credentials")
    expect_status(unknown_email, 401, "logging in with an unknown email", 4, "invalid_credentials, as a wrong password")
    assert wrong_password.json() == unknown_email.json(), (
        f"Lesson 09: a wrong password answered {wrong_password.text} and an unknown email {unknown_email.text}: "
        "from the difference anyone can tell which emails have an account. Raise InvalidCredentials for both "
        "(step 4)"
    )
    assert wrong_password.headers.get("www-authenticate") == unknown_email.headers.get("www-authenticate"), (
        "Lesson 09: a wrong password and an unknown email answer with different WWW-Authenticate headers (step 4)"
    )


async def test_an_email_with_a_nul_byte_is_a_failed_log_in(ledger: Ledger) -> None:
    """Hint: PostgreSQL's text cannot hold a NUL byte: such an email is no user's, so do not look it up."""
    async with ledger() as http:
        response = await http.post(TOKEN_URL, data={"username": "ada\x00@example.com", "password": "not the password"})
    expect_status(
        response,
        401,
        "logging in with an email holding a NUL byte (username=ada%00@example.com)",
        4,
        "invalid_credentials, as for any unknown email: the form field is free text, and the database cannot "
        "compare a NUL",
    )


async def test_an_unknown_email_costs_as_much_hashing_as_a_wrong_password(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: always verify: `await security.verify_password(password, user.password_hash if user else None)`."""
    email = new_email()
    async with ledger() as http:
        await sign_up(http, email)
        with argon2_calls(monkeypatch) as wrong:
            await http.post(TOKEN_URL, data={"username": email, "password": "not the password"})
        with argon2_calls(monkeypatch) as unknown:
            await http.post(TOKEN_URL, data={"username": new_email(), "password": "not the password"})
    assert wrong.verifications == 1, (
        f"Lesson 09: logging in with a wrong password made {wrong.verifications} Argon2 verifications; expected one "
        "(step 4)"
    )
    assert unknown.verifications == wrong.verifications, (
        f"Lesson 09: logging in with an unknown email made {unknown.verifications} Argon2 verifications, a wrong "
        f"password {wrong.verifications}: the unknown email answers a tenth of a second sooner, and a stopwatch "
        "tells which emails have an account. Verify the password even when there is no user (step 4)"
    )


async def test_logging_in_replaces_an_outdated_hash(ledger: Ledger, db_connection: AsyncConnection) -> None:
    """Hint: verify_password's second answer is a new hash: store it on the user, the session commits it."""
    email = new_email()
    user_id = uuid.uuid4()
    old = WEAK.hash(PASSWORD)
    await db_connection.execute(
        text("INSERT INTO users (id, email, password_hash) VALUES (:id, :email, :hash)"),
        {"id": user_id, "email": email, "hash": old},
    )
    async with ledger() as http:
        await log_in(http, email)
    stored = await stored_hash(db_connection, user_id)
    assert stored != old and not Argon2Hasher().check_needs_rehash(stored), (
        "Lesson 09: a user whose hash was made with weaker Argon2 parameters logged in, and the weak hash is "
        "still stored: the one moment the password is at hand to hash it again went by. Store verify_password's "
        "new hash (step 4)"
    )


async def test_no_password_or_hash_reaches_a_log_line(
    ledger: Ledger, db_connection: AsyncConnection, caplog: pytest.LogCaptureFixture
) -> None:
    """Hint: log the user's id or email; a repr that shows password_hash puts it in every log line of the user."""
    caplog.set_level(logging.DEBUG)
    email = new_email()
    async with ledger() as http:
        user = await sign_up(http, email)
        await log_in(http, email)
        await http.post(TOKEN_URL, data={"username": email, "password": "a wrong password, logged?"})
    secrets = {"the password": PASSWORD, "a wrong password": "a wrong password, logged?"}
    secrets["the hash"] = await stored_hash(db_connection, user["id"])
    leaked = sorted(
        f"{what} in {record.name}: {record.getMessage()[:120]!r}"
        for record in caplog.records
        for what, secret in secrets.items()
        if secret in record.getMessage()
    )
    assert not leaked, (
        f"Lesson 09: a log line holds a secret: {leaked[0]}. Logs are read by many and kept for long; a password "
        "or a hash there is a password leaked. Log who (id, email), never what they typed, and keep password_hash "
        "out of User.__repr__ (step 4)"
    )


async def test_signing_up_and_logging_in_hash_off_the_event_loop(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: the service awaits security.hash_password and security.verify_password; it never calls pwdlib itself."""
    email = new_email()
    async with ledger() as http:
        with argon2_calls(monkeypatch) as calls:
            await sign_up(http, email)
            await log_in(http, email)
    assert calls.hashes and calls.verifications, (
        "Lesson 09: signing up and logging in made no Argon2 hash or verification through pwdlib (step 4)"
    )
    assert not calls.on_the_loop, (
        f"Lesson 09: signing up and logging in ran Argon2 on the event loop ({', '.join(calls.on_the_loop)}): "
        "while one user logs in, nobody else is answered. Await security.hash_password and "
        "security.verify_password, which run it in a worker thread (step 4)"
    )


# --- two sign-ups with one email at the same moment ------------------------------------------------------

WAITING_HERE = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def test_two_sign_ups_with_one_email_at_once_make_one_user(committed_database_url: str) -> None:
    """Hint: look first, insert after, and two sign-ups both find no user; INSERT … ON CONFLICT cannot race."""
    UserRepository = load("app.crud.users").UserRepository
    engine = create_async_engine(committed_database_url, pool_size=3)
    email = new_email()
    try:
        async with AsyncSession(engine, expire_on_commit=False) as first, AsyncSession(engine) as second:
            created = await UserRepository(first).add(email=email, password_hash="x")
            if created is None:
                raise lesson_error("UserRepository.add() of a new email returned None; expected the user (step 4)")
            racing = asyncio.ensure_future(UserRepository(second).add(email=email.upper(), password_hash="y"))
            async with AsyncSession(engine) as look:
                deadline = time.monotonic() + 3
                while not racing.done() and time.monotonic() < deadline:
                    await look.execute(text("SELECT pg_stat_clear_snapshot()"))
                    if (await look.execute(WAITING_HERE)).scalar_one():
                        break
                    await asyncio.sleep(0.02)
            await first.commit()
            try:
                outcome = await asyncio.wait_for(racing, 5)
            except IntegrityError as error:
                raise lesson_error(
                    "two sign-ups with one email at the same moment: the second failed with IntegrityError "
                    f"({str(error.orig).strip().splitlines()[0]}), a 500 for the client. Both looked the email up "
                    "before either inserted it. Insert with ON CONFLICT (lower(email)) DO NOTHING and answer None "
                    "(step 4)"
                ) from None
            # Read what it made before the rollback expires it (a repr afterwards would need the database).
            made = None if outcome is None else f"a second user, {getattr(outcome, 'email', outcome)!r}"
            await second.rollback()
    finally:
        await engine.dispose()
    assert made is None, (
        f"Lesson 09: a second sign-up with a taken email in another case ({email.upper()!r} after {email!r}), at the "
        f"same moment, made {made}; expected None: emails are unique whatever their case, so the unique index is "
        "on lower(email) (step 4)"
    )
