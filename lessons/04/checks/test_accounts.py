"""Lesson 04 checks, steps 1 to 4: AccountRepository adds, gets, lists a page and locks a row.

Most checks use `db_session`: a session inside a transaction that is rolled back after the
check, so nothing a check writes outlives it. The locking checks need two connections that see
each other's commits, so they use a database of their own where commits are real.
"""

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from workshop import database, grading
from workshop.grading import load

from .conftest import watch_commits


def repository(session: AsyncSession) -> Any:
    return load("app.crud.accounts").AccountRepository(session)


def new_account(owner: str = "Ada", account_id: uuid.UUID | None = None) -> Any:
    account = load("app.models").Account(owner=owner, currency="EUR")
    if account_id is not None:
        account.id = account_id
    return account


async def stored_account(session: AsyncSession, owner: str = "Ada") -> Any:
    """An account written by the check itself (not by your repository), flushed."""
    account = new_account(owner)
    session.add(account)
    await session.flush()
    return account


def ids_of(page: Sequence[Any], method: str) -> list[uuid.UUID]:
    account_class = load("app.models").Account
    for item in page:
        assert isinstance(item, account_class), (
            f"Lesson 04: {method} returned a {type(item).__name__}, not an Account; "
            "`await session.scalars(select(Account)...)` gives the objects, `execute` gives rows (step 3)"
        )
    return [item.id for item in page]


@pytest.mark.step(1)
async def test_add_returns_the_account_with_its_id_and_created_at(
    db_session: AsyncSession, db_connection: AsyncConnection
) -> None:
    """Hint: `session.add()` only remembers the object; `await session.flush()` sends the INSERT."""
    account = new_account()
    returned = await repository(db_session).add(account)
    assert returned is account, (
        "Lesson 04: add() returned something else than the account it was given; return that same object (step 1)"
    )
    assert account.id is not None, (
        "Lesson 04: after add() the account has no id: the INSERT was never sent. "
        "Call `await self.session.flush()` after `self.session.add(account)` (step 1)"
    )
    rows = await db_connection.scalar(text("SELECT count(*) FROM accounts WHERE id = :id"), {"id": account.id})
    assert rows == 1, (
        "Lesson 04: after add() the account is not in the database, even inside the same transaction; "
        "flush the session so the INSERT runs (step 1)"
    )
    assert isinstance(account.created_at, datetime), (
        f"Lesson 04: after add() account.created_at is {account.created_at!r}; the database sets it, "
        "and the flush must load it back (step 1)"
    )


@pytest.mark.step(1)
async def test_add_flushes_but_never_commits(db_session: AsyncSession) -> None:
    """Hint: who commits? Not the repository: the request's session dependency, once, for every write."""
    commits = watch_commits(db_session)
    await repository(db_session).add(new_account())
    assert not commits, (
        "Lesson 04: AccountRepository.add() committed the transaction; repositories flush, the request "
        "commits. Flush, and leave out commit() and `session.begin()` blocks (step 1)"
    )


@pytest.mark.step(2)
async def test_get_finds_an_account_by_its_id(db_session: AsyncSession) -> None:
    """Hint: `await session.get(Model, primary_key)`, or `select(...).where(...)` and one scalar."""
    stored = await stored_account(db_session)
    await stored_account(db_session, owner="Grace")
    found = await repository(db_session).get(stored.id)
    assert found is not None and found.id == stored.id, (
        f"Lesson 04: get(<id of Ada's account>) returned {found!r}; expected that account (step 2)"
    )


@pytest.mark.step(2)
async def test_get_returns_none_for_an_unknown_id(db_session: AsyncSession) -> None:
    """Hint: a missing row is not an error for a repository: return None and let the service decide."""
    await stored_account(db_session)
    try:
        found = await repository(db_session).get(uuid.uuid4())
    except NoResultFound:
        raise AssertionError(
            "Lesson 04: get() raised NoResultFound for an unknown id; return None instead: "
            "`session.get(...)` or `.scalar_one_or_none()` (step 2)"
        ) from None
    assert found is None, f"Lesson 04: get(<unknown id>) returned {found!r}; expected None (step 2)"


@pytest.mark.step(3)
async def test_list_pages_are_stable_with_no_duplicates_and_no_gaps(db_session: AsyncSession) -> None:
    """Hint: without ORDER BY, PostgreSQL promises no order at all; order by a unique column, then page."""
    ids = sorted(load("app.models").uuid7() for _ in range(7))
    for number, account_id in enumerate(reversed(ids)):  # written newest first, so insertion order is not id order
        db_session.add(new_account(f"Owner {number}", account_id))
    await db_session.flush()
    accounts = repository(db_session)

    pages = [ids_of(await accounts.list(limit=3, offset=offset), "list()") for offset in (0, 3, 6)]
    assert [len(page) for page in pages] == [3, 3, 1], (
        f"Lesson 04: 7 accounts read 3 at a time gave pages of {[len(page) for page in pages]} rows; "
        "expected [3, 3, 1]: use .limit(limit).offset(offset) (step 3)"
    )
    seen = [account_id for page in pages for account_id in page]
    assert len(set(seen)) == 7, (
        f"Lesson 04: reading 7 accounts 3 at a time showed {len(set(seen))} different accounts "
        "(some twice, some never); order the query by a unique column before paging (step 3)"
    )
    assert seen == ids, (
        "Lesson 04: list() pages are not in id order; order by Account.id: it is unique, so every "
        "page comes in the same order each time (step 3)"
    )
    again = ids_of(await accounts.list(limit=3, offset=3), "list()")
    assert again == pages[1], "Lesson 04: the same page read twice came back in a different order (step 3)"


@pytest.mark.step(3)
async def test_list_without_arguments_returns_the_first_page(db_session: AsyncSession) -> None:
    """Hint: keep the defaults of the signature: `limit: int = 50, offset: int = 0`."""
    ids = sorted(load("app.models").uuid7() for _ in range(3))
    for account_id in reversed(ids):
        db_session.add(new_account(account_id=account_id))
    await db_session.flush()
    page = ids_of(await repository(db_session).list(), "list()")
    assert page == ids, (
        f"Lesson 04: list() with 3 accounts stored returned {len(page)} of them"
        f"{'' if len(page) != 3 else ' in another order than by id'} (step 3)"
    )


@pytest.mark.step(4)
async def test_get_for_update_returns_the_account_or_none(db_session: AsyncSession) -> None:
    """Hint: a SELECT with `.where(Account.id == account_id)`, then `.scalar_one_or_none()`."""
    stored = await stored_account(db_session)
    await stored_account(db_session, owner="Grace")
    accounts = repository(db_session)
    try:
        found = await accounts.get_for_update(stored.id)
        missing = await accounts.get_for_update(uuid.uuid4())
    except (NoResultFound, MultipleResultsFound) as error:
        raise AssertionError(
            f"Lesson 04: get_for_update() raised {type(error).__name__}; select the one account by its id "
            "and return None when there is none: `.scalar_one_or_none()` (step 4)"
        ) from None
    assert found is not None and found.id == stored.id, (
        f"Lesson 04: get_for_update(<id of Ada's account>) returned {found!r}; expected that account (step 4)"
    )
    assert missing is None, f"Lesson 04: get_for_update(<unknown id>) returned {missing!r}; expected None (step 4)"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def committed_engine(
    database_server: database.Server, database_template: str | None
) -> AsyncIterator[AsyncEngine]:
    """An engine on a database of this module's own, where commits are real and visible to other connections.

    Like the engine's `committed_database_url`, but shared by the two locking checks (each
    commits an account of its own), so the run pays for one CREATE DATABASE instead of two.
    """
    name = database.run_database_name(f"{grading.lesson()}_locks")
    await database.create_database(database_server, name, template=database_template)
    engine = create_async_engine(database_server.database_url(name))
    try:
        yield engine
    finally:
        await engine.dispose()
        await database.drop_database(database_server, name)


async def committed_account(engine: AsyncEngine) -> uuid.UUID:
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        account = new_account()
        session.add(account)
        await session.commit()
        account_id: uuid.UUID = account.id
        return account_id


def lock_not_available(error: DBAPIError) -> bool:
    cause = error.orig.__cause__ if error.orig is not None else None
    return isinstance(cause, asyncpg.exceptions.LockNotAvailableError)


@pytest.mark.step(4)
async def test_get_for_update_locks_the_row_until_the_transaction_ends(committed_engine: AsyncEngine) -> None:
    """Hint: a plain SELECT takes no lock; `select(...).with_for_update()` asks for one."""
    account_id = await committed_account(committed_engine)
    async with async_sessionmaker(committed_engine)() as session, committed_engine.connect() as other:
        await repository(session).get_for_update(account_id)
        try:
            # A second transaction asks for the same row, and gives up at once if someone holds it.
            await other.execute(text("SELECT id FROM accounts WHERE id = :id FOR UPDATE NOWAIT"), {"id": account_id})
        except DBAPIError as error:
            if not lock_not_available(error):
                raise
        else:
            raise AssertionError(
                "Lesson 04: while get_for_update() held the account, another transaction could lock the "
                "same row; the SELECT takes no lock. Add .with_for_update() to the statement (step 4)"
            )
        finally:
            await other.rollback()
            await session.rollback()


@pytest.mark.step(4)
async def test_get_for_update_reads_the_row_as_it_is_now(committed_engine: AsyncEngine) -> None:
    """Hint: the session already holds this account with an old balance; `populate_existing` overwrites it."""
    account_id = await committed_account(committed_engine)
    async with async_sessionmaker(committed_engine)() as session:
        accounts = repository(session)
        before = await session.get(load("app.models").Account, account_id)  # the session now holds balance 0
        assert before is not None
        async with committed_engine.begin() as other:  # meanwhile another request deposits 500 and commits
            await other.execute(text("UPDATE accounts SET balance = 500 WHERE id = :id"), {"id": account_id})
        locked = await accounts.get_for_update(account_id)
        balance = None if locked is None else locked.balance
        await session.rollback()
    assert balance == 500, (
        f"Lesson 04: get_for_update() returned balance {balance} while the row, locked, holds 500: the "
        "session kept the values it had read before the lock. Add "
        ".execution_options(populate_existing=True) to the statement (step 4)"
    )
