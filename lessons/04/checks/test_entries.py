"""Lesson 04 checks, steps 5 and 6: EntryRepository adds entries and reads one account's, newest first.

Every check runs in `db_session`, a transaction rolled back after the check.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from workshop.grading import load
from workshop.statements import statements_sent

from .conftest import (
    paging_symptoms,
    reads_one_page,
    shared_between_tasks,
    short,
    watch_commits,
    watch_savepoints,
)

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def repository(session: AsyncSession) -> Any:
    return load("app.crud.entries").EntryRepository(session)


async def stored_account(session: AsyncSession, owner: str = "Ada") -> Any:
    """An account written by the check itself, flushed, so entries can point at it."""
    account = load("app.models").Account(owner=owner, currency="EUR")
    session.add(account)
    await session.flush()
    return account


def new_entry(account: Any, amount: int, **columns: Any) -> Any:
    return load("app.models").Entry(account_id=account.id, amount=amount, **columns)


def ids_of(page: Sequence[Any]) -> list[uuid.UUID]:
    entry_class = load("app.models").Entry
    for item in page:
        assert isinstance(item, entry_class), (
            f"Lesson 04: for_account() returned a {type(item).__name__}, not an Entry; "
            "`await session.scalars(select(Entry)...)` gives the objects, `execute` gives rows (step 6)"
        )
    return [item.id for item in page]


async def count_in_database(connection: AsyncConnection, ids: list[Any]) -> int:
    found = await connection.scalar(text("SELECT count(*) FROM entries WHERE id = ANY(:ids)"), {"ids": ids})
    return int(found or 0)


@pytest.mark.step(5)
async def test_add_returns_the_entry_with_its_id_and_created_at(
    db_session: AsyncSession, db_connection: AsyncConnection
) -> None:
    """Hint: the same two lines as AccountRepository.add: add, then flush."""
    entry = new_entry(await stored_account(db_session), 2_500)
    returned = await repository(db_session).add(entry)
    assert returned is entry, "Lesson 04: EntryRepository.add() must return the entry it was given (step 5)"
    assert entry.id is not None and await count_in_database(db_connection, [entry.id]) == 1, (
        "Lesson 04: after EntryRepository.add() the entry is not in the database; flush after adding (step 5)"
    )
    assert isinstance(entry.created_at, datetime), (
        f"Lesson 04: after EntryRepository.add() entry.created_at is {entry.created_at!r}; the flush "
        "loads the database's default (step 5)"
    )


@pytest.mark.step(5)
async def test_add_all_writes_both_legs_of_a_transfer(db_session: AsyncSession, db_connection: AsyncConnection) -> None:
    """Hint: `session.add_all(entries)`, then one flush for all of them."""
    source, target = await stored_account(db_session), await stored_account(db_session, "Grace")
    transfer_id = uuid.uuid4()
    legs = [new_entry(source, -700, transfer_id=transfer_id), new_entry(target, 700, transfer_id=transfer_id)]
    result = await shared_between_tasks("add_all()", 5, repository(db_session).add_all(legs))
    assert result is None, f"Lesson 04: add_all() returned {result!r}; it returns None (step 5)"
    ids = [leg.id for leg in legs]
    assert None not in ids and await count_in_database(db_connection, ids) == 2, (
        "Lesson 04: after add_all() the two entries are not both in the database; add them all, then flush (step 5)"
    )


@pytest.mark.step(5)
async def test_add_all_sends_both_legs_in_one_insert(db_session: AsyncSession, db_connection: AsyncConnection) -> None:
    """Hint: how many times does add_all() flush? Each flush is a round trip to the database."""
    source, target = await stored_account(db_session), await stored_account(db_session, "Grace")
    transfer_id = uuid.uuid4()
    legs = [new_entry(source, -700, transfer_id=transfer_id), new_entry(target, 700, transfer_id=transfer_id)]
    with statements_sent(db_connection.sync_connection) as sent:
        await shared_between_tasks("add_all()", 5, repository(db_session).add_all(legs))
    inserts = [statement for statement in sent if statement.upper().startswith("INSERT INTO ENTRIES")]
    assert inserts, "Lesson 04: add_all() sent no INSERT INTO entries; add them all, then flush (step 5)"
    assert len(inserts) == 1, (
        f"Lesson 04: add_all() of a transfer's 2 legs made {len(inserts)} round trips, one INSERT per "
        "entry: it flushed after each one. Add them all, then flush once: the ORM sends every pending "
        "entry in one batched INSERT (step 5)"
    )


@pytest.mark.step(5)
async def test_the_entry_repository_flushes_but_never_commits(db_session: AsyncSession) -> None:
    """Hint: repositories flush, the request commits: look for commit() in app/crud/entries.py."""
    account = await stored_account(db_session)
    commits, savepoints = watch_commits(db_session), watch_savepoints(db_session)
    entries = repository(db_session)
    await entries.add(new_entry(account, 100))
    assert not commits, (
        "Lesson 04: EntryRepository.add() committed the transaction; repositories flush, the request "
        "commits. Flush, and leave out commit() and `session.begin()` blocks (step 5)"
    )
    await shared_between_tasks("add_all()", 5, entries.add_all([new_entry(account, 200), new_entry(account, 300)]))
    assert not commits, (
        "Lesson 04: EntryRepository.add_all() committed the transaction; repositories flush, the request "
        "commits. Flush, and leave out commit() and `session.begin()` blocks (step 5)"
    )
    assert not savepoints, (
        f"Lesson 04: EntryRepository's add() and add_all() opened {len(savepoints)} SAVEPOINT(s) of their own "
        "(session.begin_nested()): a repository manages no transaction, not even a nested one, and each savepoint "
        "costs two more round trips. Repositories flush, the request commits (step 5)"
    )


@pytest.mark.step(6)
async def test_for_account_returns_only_that_accounts_entries(db_session: AsyncSession) -> None:
    """Hint: `.where(Entry.account_id == account_id)`."""
    ada, grace = await stored_account(db_session), await stored_account(db_session, "Grace")
    adas = [new_entry(ada, 100), new_entry(ada, -40)]
    db_session.add_all([*adas, new_entry(grace, 900), new_entry(grace, -900)])
    await db_session.flush()
    found = ids_of(await repository(db_session).for_account(ada.id))
    others = [entry_id for entry_id in found if entry_id not in {entry.id for entry in adas}]
    assert not others, (
        f"Lesson 04: for_account(<Ada's account>) returned {len(found)} entries, {len(others)} of them "
        "Grace's: Ada's statement shows another customer's money. Select only the entries whose "
        "account_id is the one asked for (step 6)"
    )
    assert sorted(found) == sorted(entry.id for entry in adas), (
        f"Lesson 04: for_account(<Ada's account>) returned {len(found)} of Ada's 2 entries (step 6)"
    )


@pytest.mark.step(6)
async def test_for_account_lists_newest_first_with_id_breaking_ties(db_session: AsyncSession) -> None:
    """Hint: newest first is a matter of created_at; two entries can share one, so a unique column must decide."""
    account = await stored_account(db_session)
    uuid7 = load("app.models").uuid7
    # Three entries at noon (same created_at, as both legs of one transfer have), one before, one after.
    # Written in ascending id order, so a query that forgets the tiebreaker shows them the wrong way round.
    tied = sorted(uuid7() for _ in range(3))
    entries = [
        new_entry(account, 10, id=uuid7(), created_at=NOON - timedelta(hours=1)),
        *(new_entry(account, 20 + n, id=entry_id, created_at=NOON) for n, entry_id in enumerate(tied)),
        new_entry(account, 30, id=uuid7(), created_at=NOON - timedelta(days=1)),  # an older entry written last
        new_entry(account, 40, id=uuid7(), created_at=NOON + timedelta(hours=1)),
    ]
    db_session.add_all(entries)
    await db_session.flush()
    expected = [entry.id for entry in sorted(entries, key=lambda e: (e.created_at, e.id), reverse=True)]
    found = ids_of(await repository(db_session).for_account(account.id))
    assert len(found) == len(entries), (
        f"Lesson 04: for_account() without limit or offset returned {len(found)} of the account's "
        f"{len(entries)} entries; the default limit is 50 and the default offset 0: pass the parameters "
        "to the query, never a number of your own (step 6)"
    )
    written_at = {entry.id: entry.created_at for entry in entries}
    times = [written_at[entry_id] for entry_id in found]
    if times != sorted(times, reverse=True):
        shown = ", ".join(time.strftime("%d %H:%M") for time in times)
        raise AssertionError(
            f"Lesson 04: for_account() does not list entries newest first: their created_at came as {shown}. "
            "A statement shows the latest activity on top; the id is not when the entry was written (step 6)"
        )
    assert found == expected, (
        "Lesson 04: for_account() lists entries with the same created_at (as the two legs of a transfer "
        "have) in the wrong order: oldest id first, or however PostgreSQL found them. Break the ties "
        "with the id, newest first too, so the order is total and pages are stable (step 6)"
    )


@pytest.mark.step(6)
async def test_for_account_pages_with_limit_and_offset(db_session: AsyncSession) -> None:
    """Hint: the page is cut after the order is set, and both parameters reach the query."""
    account = await stored_account(db_session)
    entries = [new_entry(account, amount, created_at=NOON + timedelta(minutes=amount)) for amount in range(1, 6)]
    db_session.add_all(entries)
    await db_session.flush()
    repo = repository(db_session)
    pages = [ids_of(await repo.for_account(account.id, limit=2, offset=offset)) for offset in (0, 2, 4)]
    sizes = [len(page) for page in pages]
    symptoms = paging_symptoms(pages, limit=2)
    assert sizes == [2, 2, 1], (
        f"Lesson 04: 5 entries read with limit=2 at offsets 0, 2 and 4 gave pages of {sizes} entries"
        f"{': ' + symptoms if symptoms else ''}; expected [2, 2, 1]. The query must use both the limit "
        "and the offset it is given (step 6)"
    )
    newest_first = [entry.id for entry in reversed(entries)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]], (
        "Lesson 04: 5 entries read 2 at a time came in pages of the right sizes but not newest first "
        "across the pages: order the query before cutting the page (step 6)"
    )


@pytest.mark.step(6)
async def test_for_account_asks_the_database_for_one_page_only(
    db_session: AsyncSession, db_connection: AsyncConnection
) -> None:
    """Hint: slicing a Python list pages after every row has crossed the network; PostgreSQL can cut the page itself."""
    account = await stored_account(db_session)
    db_session.add_all(
        [new_entry(account, amount, created_at=NOON + timedelta(minutes=amount)) for amount in range(1, 6)]
    )
    await db_session.flush()
    with statements_sent(db_connection.sync_connection) as sent:
        page = ids_of(await repository(db_session).for_account(account.id, limit=2, offset=2))
    selects = [statement for statement in sent if statement.upper().startswith("SELECT")]
    assert selects, "Lesson 04: for_account(limit=2, offset=2) sent no SELECT to the database (step 6)"
    whole = [statement for statement in selects if not reads_one_page(statement)]
    assert not whole, (
        f"Lesson 04: for_account(limit=2, offset=2) sent `{short(whole[0])}`, with no LIMIT and OFFSET: "
        f"it read every entry of the account to return {len(page)}. An old account has thousands; "
        "page in the SQL, not by slicing in Python (step 6)"
    )
