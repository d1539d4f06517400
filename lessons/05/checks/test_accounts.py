"""Lesson 05 checks, steps 1 and 2: AccountService opens, finds, lists, takes deposits and writes statements.

Each check runs on `db_session`: what your service writes is rolled back after the check.
"""

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workshop.grading import load
from workshop.statements import statements_sent, summary

from .conftest import (
    REQUESTS,
    add_accounts,
    balance_of,
    balances,
    committed_accounts,
    count_entries,
    direct_session_calls,
    entries_of,
    is_deadlock,
    is_lock_not_available,
    leaves,
    refused,
    rows_held,
    wait_for_waiters,
)


def account_service(session: AsyncSession) -> Any:
    return load("app.services.accounts").AccountService(session)


def errors() -> Any:
    return load("app.services.errors")


@pytest.mark.step(1)
async def test_open_creates_an_empty_account(db_session: AsyncSession) -> None:
    """Hint: a new account starts with a zero balance; the repository's `add` flushes it, which gives it its id."""
    account = await account_service(db_session).open(owner="Ada", currency="EUR")
    assert isinstance(account, load("app.models").Account), (
        f"Lesson 05: open() returned {type(account).__name__}; return the new Account (step 1)"
    )
    assert account.id is not None and account.created_at is not None, (
        "Lesson 05: the account from open() has no id or created_at yet; add it through "
        "AccountRepository.add, which flushes (step 1)"
    )
    assert (account.owner, account.currency, await balance_of(db_session, account.id)) == ("Ada", "EUR", 0), (
        f"Lesson 05: open(owner='Ada', currency='EUR') stored owner={account.owner!r}, "
        f"currency={account.currency!r}, balance={account.balance!r}; expected 'Ada', 'EUR', 0 (step 1)"
    )


@pytest.mark.step(1)
async def test_get_returns_the_account_with_that_id(db_session: AsyncSession) -> None:
    """Hint: the repository already finds it; the service decides what a missing one means."""
    accounts = await add_accounts(db_session, 500, 700)
    for account in accounts:
        found = await account_service(db_session).get(account.id)
        assert getattr(found, "id", None) == account.id, (
            f"Lesson 05: get({account.id}) returned {found!r}, not the account with that id (step 1)"
        )


@pytest.mark.step(1)
async def test_get_raises_account_not_found_for_an_unknown_id(db_session: AsyncSession) -> None:
    """Hint: a repository returns None; a service raises a domain error that says what is wrong."""
    unknown = uuid.uuid4()
    error = await refused(
        account_service(db_session).get(unknown), errors().AccountNotFound, "get() of an unknown id", step=1
    )
    assert error.code == "account_not_found"


@pytest.mark.step(1)
async def test_list_returns_pages_of_accounts_oldest_first(db_session: AsyncSession) -> None:
    """Hint: pass `limit` and `offset` through to `AccountRepository.list`."""
    ids = [account.id for account in await add_accounts(db_session, 1, 2, 3)]
    service = account_service(db_session)
    first = [account.id for account in await service.list(limit=2, offset=0)]
    second = [account.id for account in await service.list(limit=2, offset=2)]
    assert (first, second) == (sorted(ids)[:2], sorted(ids)[2:]), (
        f"Lesson 05: with 3 accounts, list(limit=2, offset=0) gave {len(first)} and list(limit=2, offset=2) "
        f"gave {len(second)}, not 2 then 1 in id order; pass limit and offset to the repository (step 1)"
    )


@pytest.mark.step(2)
async def test_a_deposit_adds_to_the_balance(db_session: AsyncSession) -> None:
    """Hint: change the balance of the row you locked; the next flush writes it."""
    (account,) = await add_accounts(db_session, 1_000)
    returned = await account_service(db_session).deposit(account.id, 250)
    stored = await balance_of(db_session, account.id)
    assert stored == 1_250, (
        f"Lesson 05: depositing 250 into an account holding 1000 left {stored} in the database; expected 1250 (step 2)"
    )
    assert getattr(returned, "balance", None) == 1_250, (
        f"Lesson 05: deposit() returned {returned!r}; return the account with its new balance (step 2)"
    )


@pytest.mark.step(2)
async def test_a_deposit_writes_one_entry_without_a_transfer_id(db_session: AsyncSession) -> None:
    """Hint: a deposit is one line of the statement: an entry of the amount, with no transfer behind it."""
    (account,) = await add_accounts(db_session, 0)
    await account_service(db_session).deposit(account.id, 700)
    written = [(entry.amount, entry.transfer_id) for entry in await entries_of(db_session, account.id)]
    assert written == [(700, None)], (
        f"Lesson 05: a deposit of 700 wrote the entries (amount, transfer_id) {written}; "
        "expected exactly one: (700, None) (step 2)"
    )


@pytest.mark.step(2)
@pytest.mark.parametrize("amount", [0, -50])
async def test_a_deposit_of_zero_or_less_is_refused(db_session: AsyncSession, amount: int) -> None:
    """Hint: check the amount first, before you touch the database; raise InvalidAmount(amount)."""
    (account,) = await add_accounts(db_session, 100)
    with statements_sent(db_session, savepoints=True) as sent:
        await refused(
            account_service(db_session).deposit(account.id, amount), errors().InvalidAmount, f"a deposit of {amount}", 2
        )
    assert await balance_of(db_session, account.id) == 100, (
        f"Lesson 05: a refused deposit of {amount} changed the balance; refuse it before writing (step 2)"
    )
    assert not sent, (
        f"Lesson 05: a deposit of {amount} was refused with InvalidAmount, but only after {len(sent)} SQL "
        f"statement(s) (first: {summary(sent[0]) if sent else ''}): the amount needs no database. Check it first, "
        "before the lock and every other query (step 2)"
    )


@pytest.mark.step(2)
async def test_a_deposit_into_an_unknown_account_is_refused(db_session: AsyncSession) -> None:
    """Hint: `get_for_update` returns None for an id that is not there."""
    before = await count_entries(db_session)
    await refused(
        account_service(db_session).deposit(uuid.uuid4(), 100), errors().AccountNotFound, "a deposit to nowhere", 2
    )
    assert await count_entries(db_session) == before, (
        "Lesson 05: a deposit into an unknown account wrote an entry (step 2)"
    )


@pytest.mark.step(2)
async def test_concurrent_deposits_are_never_lost(committed_sessions: async_sessionmaker[AsyncSession]) -> None:
    """Hint: read-modify-write is safe only under the row lock: `get_for_update`, then add. See race.ipynb."""
    (account_id,) = await committed_accounts(committed_sessions, 0)

    async def deposit() -> None:
        async with committed_sessions() as session:
            await account_service(session).deposit(account_id, 5)
            await session.commit()

    try:
        # The row is held while the deposits start; released once they all wait, they run together.
        async with asyncio.timeout(8), rows_held(committed_sessions, account_id) as other, asyncio.TaskGroup() as group:
            for _ in range(REQUESTS):
                group.create_task(deposit())
            await wait_for_waiters(other, REQUESTS)
            await other.rollback()
    except TimeoutError:
        raise AssertionError(
            f"Lesson 05: {REQUESTS} concurrent deposits into one account did not finish within 8 s (step 2)"
        ) from None
    except BaseExceptionGroup as group:
        found = leaves(group)
        if any(isinstance(leaf, NotImplementedError) for leaf in found):
            raise
        if any(is_deadlock(leaf) for leaf in found):
            raise AssertionError(
                f"Lesson 05: {REQUESTS} concurrent deposits into ONE account deadlocked: each held a shared lock "
                "on the row (FOR SHARE) and waited for the others to let go of theirs before it could write. A lock "
                "taken to change the row must be exclusive: AccountRepository.get_for_update (FOR UPDATE) (step 2)"
            ) from None
        if any(is_lock_not_available(leaf) for leaf in found):
            raise AssertionError(
                f"Lesson 05: of {REQUESTS} concurrent deposits into one account, some failed at once with "
                "'could not obtain lock' (NOWAIT): a deposit must wait for the row lock, not give up. Lock it with "
                "AccountRepository.get_for_update (step 2)"
            ) from None
        raise
    (final,) = await balances(committed_sessions, [account_id])
    assert final == 5 * REQUESTS, (
        f"Lesson 05: {REQUESTS} concurrent deposits of 5 left a balance of {final}, not {5 * REQUESTS}: deposits "
        "were lost. Lock the row with AccountRepository.get_for_update before you change the balance (step 2)"
    )


@pytest.mark.step(2)
async def test_the_statement_lists_the_entries_of_that_account_only(db_session: AsyncSession) -> None:
    """Hint: the entries repository already pages through one account's entries."""
    mine, other = await add_accounts(db_session, 0, 0)
    Entry = load("app.models").Entry
    db_session.add_all(
        [
            Entry(account_id=mine.id, amount=100),
            Entry(account_id=mine.id, amount=-30),
            Entry(account_id=other.id, amount=999),
        ]
    )
    await db_session.flush()
    page = await account_service(db_session).statement(mine.id, limit=10, offset=0)
    amounts = sorted(entry.amount for entry in page)
    assert amounts == [-30, 100], (
        f"Lesson 05: the statement of an account with entries 100 and -30 holds amounts {amounts} (step 2)"
    )
    one = await account_service(db_session).statement(mine.id, limit=1, offset=1)
    assert len(one) == 1, f"Lesson 05: statement(limit=1, offset=1) gave {len(one)} entries, not 1 (step 2)"


@pytest.mark.step(2)
async def test_the_statement_of_an_unknown_account_is_refused(db_session: AsyncSession) -> None:
    """Hint: "no such account" and "no entries yet" are different answers: check that the account exists."""
    await refused(
        account_service(db_session).statement(uuid.uuid4()), errors().AccountNotFound, "statement() of nobody", 2
    )


@pytest.mark.step(2)
async def test_reading_an_account_or_its_statement_takes_no_row_lock(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Hint: a lock is for a row you are about to change; `get` reads without one, `get_for_update` waits for one."""
    (account_id,) = await committed_accounts(committed_sessions, 100)
    reads = {
        "get()": lambda service: service.get(account_id),
        "statement()": lambda service: service.statement(account_id, limit=10, offset=0),
    }
    for name, read in reads.items():

        async def run(read: Any = read) -> None:
            async with committed_sessions() as session:
                await read(account_service(session))

        # Another transaction (a transfer, a deposit) holds the account's row while the read runs.
        async with rows_held(committed_sessions, account_id) as other:
            task = asyncio.create_task(run())
            waiting = await wait_for_waiters(other, 1, until=5, done=task.done)
            await other.rollback()
        async with asyncio.timeout(5):
            await task
        assert not waiting, (
            f"Lesson 05: {name} waited for a row lock while a transfer held the account: it locks the row it only "
            "reads (get_for_update, FOR UPDATE), so every read of a busy account queues behind its transfers and "
            "deposits. A read takes no lock; only a change does (step 2)"
        )


@pytest.mark.step(2)
async def test_the_account_service_never_commits(db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: repositories flush; the request's session dependency commits once, at the end."""
    commits: list[str] = []

    async def spy() -> None:
        commits.append("commit")

    monkeypatch.setattr(db_session, "commit", spy)
    service = account_service(db_session)
    account = await service.open(owner="Grace", currency="USD")
    await service.deposit(account.id, 10)
    assert commits == [], (
        f"Lesson 05: open() and deposit() called session.commit() {len(commits)} time(s); a service flushes "
        "and leaves the commit to get_session, so a request's writes land together (steps 1-2)"
    )


@pytest.mark.step(2)
async def test_the_account_service_reaches_the_database_only_through_repositories(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: every query the service needs already has a repository method: `self.accounts`, `self.entries`."""
    (account,) = await add_accounts(db_session, 0)
    calls = direct_session_calls(db_session, monkeypatch)
    service = account_service(db_session)
    await service.open(owner="Linus", currency="EUR")
    await service.get(account.id)
    await service.list(limit=10, offset=0)
    await service.deposit(account.id, 10)
    await service.statement(account.id, limit=10, offset=0)
    assert not calls, (
        f"Lesson 05: {'; '.join(sorted(set(calls)))}: a service reaches the database only through its "
        "repositories (AccountRepository, EntryRepository), which own every query, lock and flush; the service "
        "keeps the rules (steps 1-2)"
    )
