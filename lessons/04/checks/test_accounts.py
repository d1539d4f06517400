"""Lesson 04 checks, steps 1 to 4: AccountRepository adds, gets, lists a page and locks a row.

Most checks use `db_session`: a session inside a transaction that is rolled back after the
check, so nothing a check writes outlives it. The locking checks need two connections that see
each other's commits, so they use a database of their own where commits are real.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import Row, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from workshop import database, grading
from workshop.grading import load
from workshop.statements import statements_sent

from .conftest import (
    crud_imports_above_their_layer,
    is_http_error,
    paging_symptoms,
    reads_one_page,
    short,
    watch_commits,
    watch_savepoints,
)

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# The paging check's 7 accounts, numbered by id from 0: the order they are written in, and their created_at.
WRITTEN_IN = [3, 6, 1, 5, 0, 4, 2]
CREATED_MINUTE = {0: 2, 1: 2, 2: 1, 3: 1, 4: 0, 5: 0, 6: 3}


def repository(session: AsyncSession) -> Any:
    return load("app.crud.accounts").AccountRepository(session)


def new_account(owner: str = "Ada", account_id: uuid.UUID | None = None, **columns: Any) -> Any:
    account = load("app.models").Account(owner=owner, currency="EUR", **columns)
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


def an_account_or_none(found: Any, method: str, step: int) -> None:
    """A repository returns model objects: a Row (what `execute()` gives) is not an Account."""
    if found is None or isinstance(found, load("app.models").Account):
        return
    kind = "a Row, what session.execute() gives" if isinstance(found, Row) else f"a {type(found).__name__}"
    raise AssertionError(
        f"Lesson 04: {method} returned {kind}, not an Account: the service would get a tuple where it "
        f"expects the object. Take the one object out of the result (step {step})"
    )


def owner_of(found: Any) -> str:
    return "nothing" if found is None else f"{getattr(found, 'owner', '?')}'s account"


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
        "Lesson 04: after add() the account has no id: the INSERT was never sent to the database, "
        "the session only remembered the object. Flush after adding (step 1)"
    )
    rows = await db_connection.scalar(text("SELECT count(*) FROM accounts WHERE id = :id"), {"id": account.id})
    assert rows == 1, (
        "Lesson 04: after add() the account is not in the database, even inside the same transaction: "
        "it has an id, but no INSERT was sent. Flush the session so the INSERT runs (step 1)"
    )
    assert isinstance(account.created_at, datetime), (
        f"Lesson 04: after add() account.created_at is {account.created_at!r}; the database sets it, "
        "and the flush must load it back (step 1)"
    )


@pytest.mark.step(1)
async def test_add_flushes_but_never_commits(db_session: AsyncSession) -> None:
    """Hint: who commits? Not the repository: the request's session dependency, once, for every write."""
    commits, savepoints = watch_commits(db_session), watch_savepoints(db_session)
    await repository(db_session).add(new_account())
    assert not commits, (
        "Lesson 04: AccountRepository.add() committed the transaction; repositories flush, the request "
        "commits. Flush, and leave out commit() and `session.begin()` blocks (step 1)"
    )
    assert not savepoints, (
        "Lesson 04: AccountRepository.add() opened a SAVEPOINT of its own (session.begin_nested()): a repository "
        "manages no transaction, not even a nested one, and the savepoint costs two more round trips per insert. "
        "Repositories flush, the request commits (step 1)"
    )


@pytest.mark.step(1)
async def test_add_loads_created_at_without_a_second_query(
    db_session: AsyncSession, db_connection: AsyncConnection
) -> None:
    """Hint: on PostgreSQL the flush's INSERT … RETURNING already brings created_at back."""
    await db_session.connection()  # the check's own SAVEPOINT, before listening
    with statements_sent(db_connection.sync_connection) as sent:
        account = await repository(db_session).add(new_account())
    inserts = [statement for statement in sent if statement.upper().startswith("INSERT INTO ACCOUNTS")]
    assert inserts, "Lesson 04: add() sent no INSERT INTO accounts; flush after adding (step 1)"
    others = [statement for statement in sent if statement not in inserts]
    assert not others, (
        f"Lesson 04: add() made {len(sent)} round trips to the database where one is enough: after the "
        f"INSERT it also sent `{short(others[0])}`, a second query for what the INSERT … RETURNING of the "
        "flush already loaded. No refresh, no re-read: flush and return (step 1)"
    )
    assert isinstance(account.created_at, datetime), (
        f"Lesson 04: after add() account.created_at is {account.created_at!r}; the flush loads it (step 1)"
    )


@pytest.mark.step(2)
async def test_get_finds_an_account_by_its_id(db_session: AsyncSession) -> None:
    """Hint: `await session.get(Model, primary_key)`, or `select(...).where(...)` and one scalar."""
    await stored_account(db_session)
    grace = await stored_account(db_session, owner="Grace")
    found = await repository(db_session).get(grace.id)
    an_account_or_none(found, "get()", step=2)
    assert found is not None and found.id == grace.id, (
        f"Lesson 04: get(<id of Grace's account>) returned {owner_of(found)}, with Ada's and Grace's "
        "accounts stored; select the account whose id is the one asked for (step 2)"
    )


@pytest.mark.step(2)
async def test_get_returns_none_for_an_unknown_id(db_session: AsyncSession) -> None:
    """Hint: a missing row is not an error for a repository: return None and let the service decide."""
    await stored_account(db_session)
    try:
        found = await repository(db_session).get(uuid.uuid4())
    except NotImplementedError:
        raise
    except Exception as error:
        http = " (an HTTP answer, from below the HTTP layer)" if is_http_error(error) else ""
        raise AssertionError(
            f"Lesson 04: get(<unknown id>) raised {type(error).__name__}{http} instead of returning None; "
            "an unknown id is an answer, not an error: the service decides whether it means a 404, a "
            "refused transfer, or nothing at all (step 2)"
        ) from None
    an_account_or_none(found, "get()", step=2)
    assert found is None, (
        f"Lesson 04: get(<unknown id>) returned {owner_of(found)}, with only Ada's account stored; "
        "expected None: select by the id asked for (step 2)"
    )


@pytest.mark.step(2)
async def test_the_repositories_know_nothing_of_http(db_session: AsyncSession) -> None:
    """Hint: a repository answers with objects or None; what "not found" means to a client is another layer's job."""
    try:
        await repository(db_session).get(uuid.uuid4())
    except NotImplementedError:
        raise
    except Exception as error:
        if is_http_error(error):
            raise AssertionError(
                f"Lesson 04: AccountRepository.get(<unknown id>) raised {type(error).__name__}: a repository "
                "knows nothing of HTTP; return None and let the service decide what a missing account means (step 2)"
            ) from None
        # Any other error is for the check of get() itself.
    broken = crud_imports_above_their_layer()
    assert not broken, (
        f"Lesson 04: {'; '.join(broken)}. The repositories speak SQL to the session and raise nothing "
        "HTTP; the layers above decide what a missing row means (step 2)"
    )


@pytest.mark.step(3)
async def test_list_pages_are_stable_with_no_duplicates_and_no_gaps(db_session: AsyncSession) -> None:
    """Hint: without ORDER BY, PostgreSQL promises no order at all; order by a unique column, then page."""
    ids = sorted(load("app.models").uuid7() for _ in range(7))
    # Numbered by id from 0, written in a shuffled order, so the order they were written in is neither id
    # order nor its reverse. Their created_at disagrees with the id too, and ties two by two (two overlapping
    # transactions can write such rows): neither the insertion order nor created_at pages like the id does.
    for rank in WRITTEN_IN:
        created_at = NOON + timedelta(minutes=CREATED_MINUTE[rank])
        db_session.add(new_account(f"Owner {rank}", ids[rank], created_at=created_at))
    await db_session.flush()
    accounts = repository(db_session)

    pages = [ids_of(await accounts.list(limit=3, offset=offset), "list()") for offset in (0, 3, 6)]
    sizes = [len(page) for page in pages]
    symptoms = paging_symptoms(pages, limit=3)
    assert sizes == [3, 3, 1], (
        f"Lesson 04: 7 accounts read with limit=3 at offsets 0, 3 and 6 gave pages of {sizes} rows"
        f"{': ' + symptoms if symptoms else ''}; expected [3, 3, 1]. The query must use both the limit "
        "and the offset it is given (step 3)"
    )
    seen = [account_id for page in pages for account_id in page]
    assert len(set(seen)) == 7, (
        f"Lesson 04: reading 7 accounts 3 at a time showed {len(set(seen))} different accounts "
        "(some twice, some never): each query ordered them differently. ORDER BY a unique column "
        "before paging, so the order is total and every page the same each time (step 3)"
    )
    ranks = ", ".join(str(ids.index(account_id) + 1) for account_id in seen)
    assert seen != ids[::-1], (
        f"Lesson 04: list() pages come newest first: numbering the 7 ids from the smallest, the pages gave {ranks}, "
        "the largest id first. The accounts are listed oldest first, in ascending id order, as UUIDv7 ids grow "
        "with time (step 3)"
    )
    assert seen == ids, (
        f"Lesson 04: list() pages are not in id order: numbering the 7 ids from the smallest, the pages "
        f"gave {ranks}. Without an ORDER BY on a unique column PostgreSQL returns rows in any order, "
        "and created_at can tie and disagree with the id. Order by the id, oldest first (step 3)"
    )
    again = ids_of(await accounts.list(limit=3, offset=3), "list()")
    assert again == pages[1], "Lesson 04: the same page read twice came back in a different order (step 3)"


@pytest.mark.step(3)
async def test_list_without_arguments_returns_the_first_page(db_session: AsyncSession) -> None:
    """Hint: keep the defaults of the signature: `limit: int = 50, offset: int = 0`, and use them."""
    ids = sorted(load("app.models").uuid7() for _ in range(51))
    for account_id in reversed(ids):
        db_session.add(new_account(account_id=account_id))
    await db_session.flush()
    page = ids_of(await repository(db_session).list(), "list()")
    assert len(page) <= 50, (
        f"Lesson 04: list() without arguments, with 51 accounts stored, returned {len(page)}: a caller who "
        "forgets the limit reads the whole table, a million rows one day. The default page is 50 accounts: "
        "keep the signature's default limit=50 (step 3)"
    )
    assert len(page) == 50, (
        f"Lesson 04: list() without arguments, with 51 accounts stored, returned {len(page)} of them; "
        "the default limit is 50 and the default offset 0: pass the parameters to the query, "
        "never a number of your own (step 3)"
    )
    newest_first = " (newest first: the largest ids, in descending order)" * (page == ids[::-1][:50])
    assert page == ids[:50], (
        f"Lesson 04: list() without arguments returned other accounts, or in another order, than the 50 with the "
        f"smallest ids, oldest first{newest_first} (step 3)"
    )


@pytest.mark.step(3)
async def test_list_asks_the_database_for_one_page_only(
    db_session: AsyncSession, db_connection: AsyncConnection
) -> None:
    """Hint: slicing a Python list pages after every row has crossed the network; PostgreSQL can cut the page itself."""
    for number in range(7):
        db_session.add(new_account(f"Owner {number}"))
    await db_session.flush()
    with statements_sent(db_connection.sync_connection) as sent:
        page = ids_of(await repository(db_session).list(limit=2, offset=2), "list()")
    selects = [statement for statement in sent if statement.upper().startswith("SELECT")]
    assert selects, "Lesson 04: list(limit=2, offset=2) sent no SELECT to the database (step 3)"
    whole = [statement for statement in selects if not reads_one_page(statement)]
    assert not whole, (
        f"Lesson 04: list(limit=2, offset=2) sent `{short(whole[0])}`, with no LIMIT and OFFSET: it read "
        f"every account to return {len(page)}. With a million accounts that is a million rows per page; "
        "page in the SQL, not by slicing in Python (step 3)"
    )


@pytest.mark.step(4)
async def test_get_for_update_returns_the_account_or_none(db_session: AsyncSession) -> None:
    """Hint: a SELECT with `.where(Account.id == account_id)`, then `.scalar_one_or_none()`."""
    await stored_account(db_session)
    grace = await stored_account(db_session, owner="Grace")
    accounts = repository(db_session)
    try:
        found = await accounts.get_for_update(grace.id)
        missing = await accounts.get_for_update(uuid.uuid4())
    except NotImplementedError:
        raise
    except Exception as error:
        if isinstance(error, DBAPIError):
            raise
        raise AssertionError(
            f"Lesson 04: get_for_update() raised {type(error).__name__} for an unknown id; select the one "
            "account by its id and return None when there is none: an unknown id is an answer (step 4)"
        ) from None
    an_account_or_none(found, "get_for_update()", step=4)
    assert found is not None and found.id == grace.id, (
        f"Lesson 04: get_for_update(<id of Grace's account>) returned {owner_of(found)}; expected that account (step 4)"
    )
    an_account_or_none(missing, "get_for_update()", step=4)
    assert missing is None, (
        f"Lesson 04: get_for_update(<unknown id>) returned {owner_of(missing)}; expected None (step 4)"
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def committed_engine(
    database_server: database.Server, database_template: str | None
) -> AsyncIterator[AsyncEngine]:
    """An engine on a database of this module's own, where commits are real and visible to other connections.

    Like the engine's `committed_database_url`, but shared by the locking checks (each commits an
    account of its own), so the run pays for one CREATE DATABASE instead of one per check.
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


def lock_not_available(error: BaseException) -> bool:
    if not isinstance(error, DBAPIError):
        return False
    cause = error.orig.__cause__ if error.orig is not None else None
    return isinstance(cause, asyncpg.exceptions.LockNotAvailableError)


async def other_transaction_can_lock(engine: AsyncEngine, account_id: uuid.UUID, mode: str) -> bool:
    """Can a second transaction take `mode` (FOR UPDATE, FOR SHARE) on the row right now? NOWAIT: no waiting."""
    async with engine.connect() as other:
        try:
            await other.execute(text(f"SELECT id FROM accounts WHERE id = :id {mode} NOWAIT"), {"id": account_id})
        except DBAPIError as error:
            if not lock_not_available(error):
                raise
            return False
        finally:
            await other.rollback()
    return True


@pytest.mark.step(2)
async def test_get_takes_no_row_lock(committed_engine: AsyncEngine) -> None:
    """Hint: a plain read in PostgreSQL locks nothing; locking is get_for_update()'s job (step 4)."""
    account_id = await committed_account(committed_engine)
    async with async_sessionmaker(committed_engine)() as session:
        try:
            found = await repository(session).get(account_id)
            an_account_or_none(found, "get()", step=2)
            lockable = await other_transaction_can_lock(committed_engine, account_id, "FOR UPDATE")
        finally:
            await session.rollback()
    assert lockable, (
        "Lesson 04: after get() read an account, another transaction could not lock its row: get() took a row "
        "lock (FOR UPDATE or FOR SHARE) that it holds until the request ends, so every balance shown blocks the "
        "transfers on that account. A plain get() locks nothing; locking is get_for_update()'s job (step 2)"
    )


@pytest.mark.step(4)
async def test_get_for_update_locks_the_row_until_the_transaction_ends(committed_engine: AsyncEngine) -> None:
    """Hint: a plain SELECT takes no lock; `select(...).with_for_update()` asks for one."""
    account_id = await committed_account(committed_engine)
    async with async_sessionmaker(committed_engine)() as session:
        try:
            await repository(session).get_for_update(account_id)
            unlocked = await other_transaction_can_lock(committed_engine, account_id, "FOR UPDATE")
        finally:
            await session.rollback()
    assert not unlocked, (
        "Lesson 04: while get_for_update() held the account, another transaction could lock the same "
        "row: the SELECT takes no lock, so two transfers can both spend the same balance. The statement "
        "must end in FOR UPDATE (step 4)"
    )


@pytest.mark.step(4)
async def test_get_for_update_takes_a_lock_no_other_transaction_can_share(committed_engine: AsyncEngine) -> None:
    """Hint: PostgreSQL has four row-lock modes; only one keeps every other locker out."""
    account_id = await committed_account(committed_engine)
    async with async_sessionmaker(committed_engine)() as session:
        try:
            await repository(session).get_for_update(account_id)
            shared = await other_transaction_can_lock(committed_engine, account_id, "FOR SHARE")
        finally:
            await session.rollback()
    assert not shared, (
        "Lesson 04: while get_for_update() held the account, another transaction could still take a FOR "
        "SHARE lock on the row: the lock is shared (FOR SHARE or FOR KEY SHARE, `read=True`) or missing. "
        "Two transfers can then both hold it and read the same balance; take the exclusive row lock, "
        "plain FOR UPDATE (step 4)"
    )


async def waiting_for_a_lock(engine: AsyncEngine) -> bool:
    """Is a backend of this database waiting for a lock? (A new transaction each time: its view is fresh.)"""
    async with engine.connect() as watcher:
        waiting = await watcher.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
        )
        await watcher.rollback()
    return bool(waiting)


@pytest.mark.step(4)
async def test_get_for_update_waits_for_a_lock_another_transaction_holds(committed_engine: AsyncEngine) -> None:
    """Hint: a transfer must wait its turn behind another, neither fail at once nor skip the account."""
    account_id = await committed_account(committed_engine)
    async with committed_engine.connect() as holder, async_sessionmaker(committed_engine)() as session:
        # Another request locks the account and deposits 500; it has not committed yet.
        await holder.execute(text("SELECT id FROM accounts WHERE id = :id FOR UPDATE"), {"id": account_id})
        await holder.execute(text("UPDATE accounts SET balance = 500 WHERE id = :id"), {"id": account_id})
        call = asyncio.ensure_future(repository(session).get_for_update(account_id))
        try:
            deadline = asyncio.get_running_loop().time() + 5
            while not call.done() and not await waiting_for_a_lock(committed_engine):
                assert asyncio.get_running_loop().time() < deadline, (
                    "Lesson 04: get_for_update() neither returned nor waited for the row lock within 5 s (step 4)"
                )
                await asyncio.sleep(0.02)
            if call.done():
                error = call.exception()
                if error is not None and lock_not_available(error):
                    raise AssertionError(
                        "Lesson 04: get_for_update() failed at once with LockNotAvailable while another "
                        "transaction held the row: NOWAIT turns every busy account into an error. Without "
                        "it, the SELECT … FOR UPDATE waits until the other transaction ends (step 4)"
                    )
                found = call.result()  # re-raises any other error, a stub's NotImplementedError too
                if found is None:
                    raise AssertionError(
                        "Lesson 04: get_for_update() returned None for an existing account while another "
                        "transaction held its row: SKIP LOCKED skips busy rows, as if the account did not "
                        "exist. Without it, the SELECT … FOR UPDATE waits its turn (step 4)"
                    )
                raise AssertionError(
                    f"Lesson 04: get_for_update() returned balance {found.balance} at once while another "
                    "transaction held the row and was changing it: it did not wait, the SELECT takes no lock, "
                    "and it read a balance about to change. The SELECT must end in FOR UPDATE (step 4)"
                )
            await holder.commit()  # the other request ends; the waiting SELECT gets the row
            locked = await asyncio.wait_for(call, timeout=5)
            balance = None if locked is None else locked.balance
        finally:
            if not call.done():
                call.cancel()
            await holder.rollback()
            await session.rollback()
    assert balance == 500, (
        f"Lesson 04: after waiting for the other transaction, get_for_update() returned balance {balance}; "
        "the row, now committed, holds 500 (step 4)"
    )


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
        "session kept the values it had read before the lock, and a transfer would check the old balance. "
        "Make the locked SELECT overwrite what the session holds (step 4)"
    )
