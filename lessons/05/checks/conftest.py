"""Shared by lesson 05's checks: accounts to play with, and sessions whose commits are real.

Most checks run on `db_session` (everything is rolled back after the check). The concurrency
checks need transactions that really commit and really wait for each other's locks: they run on
`committed_sessions`, a sessionmaker on a fresh database of the check's own, where every
session gets a connection of its own from the pool.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any

import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from workshop.grading import load

CONNECTIONS = 20  # sessions that can run at once on `committed_sessions`


@pytest_asyncio.fixture(loop_scope="session")
async def committed_sessions(committed_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A sessionmaker on a fresh migrated database of the check's own; commits are real, dropped after."""
    engine = create_async_engine(committed_database_url, pool_size=CONNECTIONS, max_overflow=0)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def add_accounts(session: AsyncSession, *balances: int, currency: str = "EUR") -> list[Any]:
    """Accounts with these balances, added with the models of lesson 03 (not your service), flushed."""
    Account = load("app.models").Account
    accounts = [
        Account(owner=f"Owner {number}", currency=currency, balance=balance) for number, balance in enumerate(balances)
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


async def balance_of(session: AsyncSession, account_id: uuid.UUID) -> int:
    """The balance as the database has it now (not as an object in the session remembers it)."""
    Account = load("app.models").Account
    return int((await session.execute(select(Account.balance).where(Account.id == account_id))).scalar_one())


async def balances(sessions: async_sessionmaker[AsyncSession], ids: Sequence[uuid.UUID]) -> list[int]:
    async with sessions() as session:
        return [await balance_of(session, account_id) for account_id in ids]


async def entries_of(session: AsyncSession, *account_ids: uuid.UUID) -> list[Any]:
    Entry = load("app.models").Entry
    statement = select(Entry).where(Entry.account_id.in_(account_ids)).execution_options(populate_existing=True)
    return list((await session.scalars(statement)).all())


async def count_entries(session: AsyncSession) -> int:
    Entry = load("app.models").Entry
    return int((await session.execute(select(func.count()).select_from(Entry))).scalar_one())


async def refused(action: Awaitable[object], expected: type[Exception], what: str, step: int) -> Exception:
    """Await `action`; return the `expected` domain error it raises, or fail with a lesson message.

    A stub's NotImplementedError and any error that is not a DomainError pass through untouched.
    """
    DomainError = load("app.services.errors").DomainError
    try:
        await action
    except expected as error:
        return error
    except DomainError as other:
        raise AssertionError(
            f"Lesson 05: {what} raised {type(other).__name__} ({other}); expected {expected.__name__} (step {step})"
        ) from None
    raise AssertionError(f"Lesson 05: {what} went through; it must raise {expected.__name__} (step {step})")


def is_deadlock(error: BaseException) -> bool:
    """True for the error PostgreSQL raises when it breaks a deadlock (SQLSTATE 40P01)."""
    import asyncpg

    if not isinstance(error, DBAPIError):
        return False
    causes = [error.orig, getattr(error.orig, "__cause__", None), error.__cause__]
    return any(isinstance(cause, asyncpg.exceptions.DeadlockDetectedError) for cause in causes) or (
        getattr(error.orig, "sqlstate", None) == "40P01"
    )
