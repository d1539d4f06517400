"""The repositories on a real database: what they return, in which order, and that they never commit.

The services trust these answers, so these tests pin them down where the queries live: a page
of accounts in id order, an account's entries newest first, None for an unknown id, a flush and
never a commit (the request's session dependency commits, once).
"""

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import AccountRepository, EntryRepository
from app.models import Account, Entry, User


@pytest.fixture
def accounts(session: AsyncSession) -> AccountRepository:
    return AccountRepository(session)


@pytest.fixture
def new(user: User) -> Callable[..., Account]:
    """`new("Ada")`: an Account of the test's user, not added yet."""

    def make(owner: str, currency: str = "EUR") -> Account:
        return Account(owner=owner, currency=currency, user_id=user.id)

    return make


@pytest.fixture
def entries(session: AsyncSession) -> EntryRepository:
    return EntryRepository(session)


async def test_add_flushes_the_account_and_never_commits(
    new: Callable[..., Account], accounts: AccountRepository, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_commit() -> None:
        raise AssertionError("a repository committed")

    monkeypatch.setattr(session, "commit", no_commit)

    account = await accounts.add(new("Ada"))

    assert account.id is not None and account.created_at is not None
    assert await accounts.get(account.id) is account


async def test_get_returns_none_for_an_unknown_id(accounts: AccountRepository) -> None:
    assert await accounts.get(uuid.uuid4()) is None


async def test_accounts_come_in_pages_ordered_by_id(
    new: Callable[..., Account], accounts: AccountRepository, user: User
) -> None:
    added = [await accounts.add(new(f"Owner {number}")) for number in range(5)]
    in_order = sorted(account.id for account in added)

    pages = [await accounts.list(user_id=user.id, limit=2, offset=offset) for offset in (0, 2, 4)]

    assert [[account.id for account in page] for page in pages] == [in_order[0:2], in_order[2:4], in_order[4:]]


async def test_get_for_update_reads_the_row_as_it_is_now(
    new: Callable[..., Account], accounts: AccountRepository, session: AsyncSession
) -> None:
    account = await accounts.add(new("Ada"))
    await session.execute(text("UPDATE accounts SET balance = 700 WHERE id = :id"), {"id": account.id})

    locked = await accounts.get_for_update(account.id)

    assert locked is not None and locked.balance == 700


async def test_the_statement_lists_an_accounts_entries_newest_first(
    new: Callable[..., Account], accounts: AccountRepository, entries: EntryRepository
) -> None:
    account = await accounts.add(new("Ada"))
    other = await accounts.add(new("Grace"))
    # One transaction, so one created_at (now() is the transaction's start): the ids decide, largest
    # first. UUIDv7 orders by the millisecond only, so compare with the ids' order, not the writing's.
    written = [await entries.add(Entry(account_id=account.id, amount=amount)) for amount in (100, 200, 300)]
    await entries.add(Entry(account_id=other.id, amount=999))

    found = await entries.for_account(account.id)

    assert [entry.id for entry in found] == sorted((entry.id for entry in written), reverse=True)


async def test_the_statement_comes_in_pages(
    new: Callable[..., Account], accounts: AccountRepository, entries: EntryRepository
) -> None:
    account = await accounts.add(new("Ada"))
    written = [await entries.add(Entry(account_id=account.id, amount=amount)) for amount in (100, 200, 300)]
    newest_first = sorted((entry.id for entry in written), reverse=True)

    first = await entries.for_account(account.id, limit=2)
    second = await entries.for_account(account.id, limit=2, offset=2)

    assert [entry.id for entry in first] == newest_first[:2]
    assert [entry.id for entry in second] == newest_first[2:]


async def test_a_page_holds_only_the_accounts_of_its_user(
    new: Callable[..., Account], accounts: AccountRepository, user: User, stranger: User
) -> None:
    mine = await accounts.add(new("Ada"))
    await accounts.add(Account(owner="Grace", currency="EUR", user_id=stranger.id))

    assert [account.id for account in await accounts.list(user_id=user.id)] == [mine.id]
