"""Shared by lesson 05's checks: accounts to play with, and sessions whose commits are real.

Most checks run on `db_session` (everything is rolled back after the check). The concurrency
checks need transactions that really commit and really wait for each other's locks: they run on
`committed_sessions`, a sessionmaker on a fresh database of the check's own, where every
session gets a connection of its own from the pool.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from workshop import grading
from workshop.grading import load

REQUESTS = 20  # requests that run at once in the concurrency checks
CONNECTIONS = REQUESTS + 1  # sessions that can run at once on `committed_sessions`: the requests and the check's own

# Sessions of this database (each check's committed database is its own) waiting for a lock.
WAITING_HERE = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
# pg_stat_activity is read once per transaction and kept: forget that copy before each look.
FRESH_ACTIVITY = text("SELECT pg_stat_clear_snapshot()")

# Account ids from add_accounts: each one smaller than every id made before it in this run, so
# that which of two accounts has the smaller id never depends on the clock (see add_accounts).
_NEXT = itertools.count(1)


@pytest_asyncio.fixture(loop_scope="session")
async def committed_sessions(committed_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A sessionmaker on a fresh migrated database of the check's own; commits are real, dropped after."""
    engine = create_async_engine(committed_database_url, pool_size=CONNECTIONS, max_overflow=0)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


def next_id() -> uuid.UUID:
    """An account id smaller than every id this run made before it."""
    return uuid.UUID(int=2**127 - next(_NEXT))


async def add_accounts(session: AsyncSession, *balances: int, currency: str = "EUR") -> list[Any]:
    """Accounts with these balances, added with the models of lesson 03 (not your service), flushed.

    Their ids are given, not drawn: each account has a smaller id than every account added before
    it, so `source, target = await add_accounts(...)` makes a transfer from the larger id to the
    smaller, every run. (Two UUIDv7s of one millisecond compare at random: a check whose verdict
    hung on their order would flicker.)
    """
    Account = load("app.models").Account
    accounts = [
        Account(id=next_id(), owner=f"Owner {number}", currency=currency, balance=balance)
        for number, balance in enumerate(balances)
    ]
    session.add_all(accounts)
    await session.flush()
    return accounts


async def committed_accounts(sessions: async_sessionmaker[AsyncSession], *balances: int) -> list[uuid.UUID]:
    """The ids of accounts with these balances, committed, so that every session sees them."""
    async with sessions() as session:
        accounts = await add_accounts(session, *balances)
        await session.commit()
        return [account.id for account in accounts]


def aborted_by_the_service(error: PendingRollbackError) -> AssertionError:
    """A lesson message for a session the service left unusable: a flush failed and the service went on."""
    text_of = str(error)
    cause = text_of.split("Original exception was:", 1)[-1].strip().splitlines()[0] if text_of else ""
    if "check constraint" in text_of and "balance" in text_of:
        return AssertionError(
            "Lesson 05: the service answered, but its transaction was already dead: the database's CHECK constraint "
            "had refused a negative balance when the service flushed, and the service turned that error into a "
            "domain error. The CHECK is the last line of defence, not the rule: compare the balance of the locked "
            "source with the amount and raise InsufficientFunds before you change a balance or write an entry (step 3)"
        )
    return AssertionError(
        f"Lesson 05: the service answered, but its transaction was already dead: a flush had failed ({cause}) and "
        "the service caught that database error and went on. A failed statement aborts the whole transaction; "
        "check the rules before you write, and let database errors reach get_session (steps 2-4)"
    )


async def read(session: AsyncSession, statement: Any) -> Any:
    """`session.execute(statement)`, or a lesson message if the service left the session unusable."""
    try:
        return await session.execute(statement)
    except PendingRollbackError as error:
        raise aborted_by_the_service(error) from None


async def balance_of(session: AsyncSession, account_id: uuid.UUID) -> int:
    """The balance as the database has it now (not as an object in the session remembers it)."""
    Account = load("app.models").Account
    return int((await read(session, select(Account.balance).where(Account.id == account_id))).scalar_one())


async def balances(sessions: async_sessionmaker[AsyncSession], ids: Sequence[uuid.UUID]) -> list[int]:
    async with sessions() as session:
        return [await balance_of(session, account_id) for account_id in ids]


async def entries_of(session: AsyncSession, *account_ids: uuid.UUID) -> list[Any]:
    Entry = load("app.models").Entry
    statement = select(Entry).where(Entry.account_id.in_(account_ids)).execution_options(populate_existing=True)
    return list((await read(session, statement)).scalars().all())


async def count_entries(session: AsyncSession) -> int:
    Entry = load("app.models").Entry
    return int((await read(session, select(func.count()).select_from(Entry))).scalar_one())


def is_http_exception(error: BaseException) -> bool:
    return any(
        kind.__name__ == "HTTPException" and kind.__module__.split(".")[0] in ("fastapi", "starlette")
        for kind in type(error).__mro__
    )


async def refused(action: Awaitable[object], expected: type[Exception], what: str, step: int) -> Exception:
    """Await `action`; return the `expected` domain error it raises, or fail with a lesson message.

    A stub's NotImplementedError and any other error that is neither a DomainError, an
    HTTPException nor a database error pass through untouched.
    """
    DomainError = load("app.services.errors").DomainError
    try:
        answer = await action
    except expected as error:
        return error
    except DomainError as other:
        raise AssertionError(
            f"Lesson 05: {what} raised {type(other).__name__} ({other}); expected {expected.__name__} (step {step})"
        ) from None
    except DBAPIError as error:
        said = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
        if "idempotency_keys" in str(error.statement or ""):
            raise AssertionError(
                f"Lesson 05: {what}: the database refused the statement on idempotency_keys "
                f"({type(error).__name__}: {said}). The table your migration 0002 made does not match the model in "
                "app/models/idempotency.py; compare the two (step 4)"
            ) from None
        raise AssertionError(
            f"Lesson 05: {what} reached the database, which refused it ({type(error).__name__}: {said}); the "
            f"service must refuse it first, with {expected.__name__}, before it writes anything (step {step})"
        ) from None
    except AttributeError as error:
        if "'NoneType'" not in str(error):
            raise
        raise AssertionError(
            f"Lesson 05: {what} crashed with AttributeError ({error}): a repository answered None for a row that "
            f"is not there, and the code went on with it. Test for None where the row is read, and raise "
            f"{expected.__name__} (step {step})"
        ) from None
    except Exception as error:
        if not is_http_exception(error):
            raise
        raise AssertionError(
            f"Lesson 05: {what} raised HTTPException({getattr(error, 'status_code', '?')}); a service raises "
            f"domain errors ({expected.__name__}), never HTTPException: it does not know it is called over HTTP, "
            f"and lesson 06 turns each error's code into a status in one place (step {step})"
        ) from None
    if getattr(answer, "replayed", None) is True:
        raise AssertionError(
            f"Lesson 05: {what} was answered as a replay of the earlier transfer (replayed=True): no money moved, "
            "and the client is told that what it asked for now was done. Compare the fingerprint stored with the "
            f"key with this request's: another request must raise {expected.__name__} (step {step})"
        )
    raise AssertionError(f"Lesson 05: {what} went through; it must raise {expected.__name__} (step {step})")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (40P01 deadlock, 55P03 lock not available, …); None for others."""
    if not isinstance(error, DBAPIError):
        return None
    causes = [error.orig, getattr(error.orig, "__cause__", None), error.__cause__]
    for cause in causes:
        code = getattr(cause, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def is_deadlock(error: BaseException) -> bool:
    """True for the error PostgreSQL raises when it breaks a deadlock (SQLSTATE 40P01)."""
    return sqlstate(error) == "40P01"


def is_lock_not_available(error: BaseException) -> bool:
    """True for the error of a lock asked with NOWAIT that another transaction holds (SQLSTATE 55P03)."""
    return sqlstate(error) == "55P03"


def leaves(group: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups."""
    found: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        current = pending.pop()
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        else:
            found.append(current)
    return found


async def wait_for_waiters(session: AsyncSession, count: int, *, until: float = 3.0, done: Any = None) -> int:
    """Wait until `count` sessions of this database wait for a lock (or `until` seconds, or `done()`)."""
    deadline = time.monotonic() + until
    while True:
        await session.execute(FRESH_ACTIVITY)
        waiting = int((await session.execute(WAITING_HERE)).scalar_one())
        if waiting >= count or time.monotonic() > deadline or (done is not None and done()):
            return waiting
        await asyncio.sleep(0.02)


@asynccontextmanager
async def rows_held(sessions: async_sessionmaker[AsyncSession], *ids: uuid.UUID) -> AsyncIterator[AsyncSession]:
    """Another transaction that holds these accounts' rows (FOR UPDATE) until it rolls back.

    The concurrency checks start their requests while the rows are held and release them once
    every request waits: then all requests truly run at the same moment, on every machine, and a
    request that reads a balance without its lock has read it before any other wrote.
    """
    async with sessions() as other:
        await other.execute(text("SELECT id FROM accounts WHERE id = ANY(:ids) FOR UPDATE"), {"ids": list(ids)})
        yield other
        await other.rollback()


# --- the layer rule: services reach the database only through repositories --------------------

SESSION_CALLS = (
    "execute",
    "scalars",
    "scalar",
    "get",
    "get_one",
    "add",
    "add_all",
    "delete",
    "merge",
    "refresh",
    "stream",
    "stream_scalars",
    "run_sync",
)


def direct_session_calls(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, every call of the session's query methods made from app/services/ (not via a repository)."""
    services = (grading.folder() / "app" / "services").resolve()
    calls: list[str] = []

    for name in SESSION_CALLS:
        original = getattr(session, name)

        def spy(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            caller = sys._getframe(1)
            path = Path(caller.f_code.co_filename).resolve()
            if path.is_relative_to(services):
                where = f"app/services/{path.relative_to(services).as_posix()}:{caller.f_lineno}"
                calls.append(f"{where} calls session.{_name}()")
            return _original(*args, **kwargs)

        monkeypatch.setattr(session, name, spy)
    return calls


# --- what a service sends to the database, and what it must never do to the request's transaction ---


def forbid_rollback_in_app(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, a session.rollback() called from the lesson's app/ fails the check with a lesson message.

    The check itself may still roll back (as get_session does when a route raises).
    """
    app_dir = (grading.folder() / "app").resolve()
    original = session.rollback

    def spy() -> Any:
        caller = sys._getframe(1)
        path = Path(caller.f_code.co_filename).resolve()
        if path.is_relative_to(app_dir):
            where = f"{path.relative_to(app_dir.parent).as_posix()}:{caller.f_lineno}"
            raise AssertionError(
                f"Lesson 05: {where} calls session.rollback(): that rolls back the whole request, the transfer "
                "and the keys it claimed with it, and the request goes on as if nothing happened. Only get_session "
                "ends a transaction; a known key is not an error to recover from: claim it with INSERT … ON CONFLICT "
                "DO NOTHING and read the row that is there (step 4)"
            )
        return original()

    monkeypatch.setattr(session, "rollback", spy)
