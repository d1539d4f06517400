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

from .conftest import watch_commits

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
    result = await repository(db_session).add_all(legs)
    assert result is None, f"Lesson 04: add_all() returned {result!r}; it returns None (step 5)"
    ids = [leg.id for leg in legs]
    assert None not in ids and await count_in_database(db_connection, ids) == 2, (
        "Lesson 04: after add_all() the two entries are not both in the database; add them all, then flush (step 5)"
    )


@pytest.mark.step(5)
async def test_the_entry_repository_flushes_but_never_commits(db_session: AsyncSession) -> None:
    """Hint: repositories flush, the request commits: look for commit() in app/crud/entries.py."""
    account = await stored_account(db_session)
    commits = watch_commits(db_session)
    entries = repository(db_session)
    await entries.add(new_entry(account, 100))
    assert not commits, (
        "Lesson 04: EntryRepository.add() committed the transaction; repositories flush, the request "
        "commits. Flush, and leave out commit() and `session.begin()` blocks (step 5)"
    )
    await entries.add_all([new_entry(account, 200), new_entry(account, 300)])
    assert not commits, (
        "Lesson 04: EntryRepository.add_all() committed the transaction; repositories flush, the request "
        "commits. Flush, and leave out commit() and `session.begin()` blocks (step 5)"
    )


@pytest.mark.step(6)
async def test_for_account_returns_only_that_accounts_entries(db_session: AsyncSession) -> None:
    """Hint: `.where(Entry.account_id == account_id)`."""
    ada, grace = await stored_account(db_session), await stored_account(db_session, "Grace")
    adas = [new_entry(ada, 100), new_entry(ada, -40)]
    db_session.add_all([*adas, new_entry(grace, 900), new_entry(grace, -900)])
    await db_session.flush()
    found = ids_of(await repository(db_session).for_account(ada.id))
    assert sorted(found) == sorted(entry.id for entry in adas), (
        f"Lesson 04: for_account(<Ada's account>) returned {len(found)} entries; Ada has 2 and Grace 2. "
        "Select only the entries whose account_id matches (step 6)"
    )


@pytest.mark.step(6)
async def test_for_account_lists_newest_first_with_id_breaking_ties(db_session: AsyncSession) -> None:
    """Hint: order by created_at descending, then by id descending: two entries can share a created_at."""
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
    if [entry_id for entry_id in found if entry_id not in tied] != [e for e in expected if e not in tied]:
        raise AssertionError(
            "Lesson 04: for_account() does not list entries newest first; order by Entry.created_at.desc() (step 6)"
        )
    assert found == expected, (
        "Lesson 04: for_account() lists entries with the same created_at in the wrong order; add "
        "Entry.id.desc() after Entry.created_at.desc(), so the order is total and pages are stable (step 6)"
    )


@pytest.mark.step(6)
async def test_for_account_pages_with_limit_and_offset(db_session: AsyncSession) -> None:
    """Hint: `.limit(limit).offset(offset)` after the order_by."""
    account = await stored_account(db_session)
    entries = [new_entry(account, amount, created_at=NOON + timedelta(minutes=amount)) for amount in range(1, 6)]
    db_session.add_all(entries)
    await db_session.flush()
    repo = repository(db_session)
    pages = [ids_of(await repo.for_account(account.id, limit=2, offset=offset)) for offset in (0, 2, 4)]
    newest_first = [entry.id for entry in reversed(entries)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]], (
        f"Lesson 04: 5 entries read 2 at a time gave pages of {[len(page) for page in pages]} entries, "
        "or not newest first; expected [2, 2, 1] in order: use .limit(limit).offset(offset) (step 6)"
    )
