"""Lesson 05 checks, step 3: a transfer follows every rule, moves the money exactly, and is all or nothing.

Each check runs on `db_session`: what your service writes is rolled back after the check.
"""

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from workshop.grading import load
from workshop.statements import statements_sent, summary

from .conftest import (
    add_accounts,
    balance_of,
    count_entries,
    direct_session_calls,
    entries_of,
    refused,
)

pytestmark = pytest.mark.step(3)


def transfer_service(session: AsyncSession) -> Any:
    return load("app.services.transfers").TransferService(session)


def errors() -> Any:
    return load("app.services.errors")


SWAPPED = (
    "source and target changed places: `_lock_both` locks in id order but must return (source, target) in request order"
)


def before_any_query(sent: list[str], what: str, rule: str) -> None:
    """A cheap rule refuses a request before the service sends anything to the database."""
    assert not sent, (
        f"Lesson 05: {what} was refused with {rule}, but only after {len(sent)} SQL statement(s) (first: "
        f"{summary(sent[0]) if sent else ''}): that rule needs no database. The cheap rules come first, at the top of "
        "transfer(), before the key, the locks and every other query (step 3)"
    )


async def unchanged(
    session: AsyncSession,
    ids: Sequence[uuid.UUID],
    expected: Sequence[int],
    what: str,
    advice: str = "check every rule before you change a balance",
) -> None:
    now = [await balance_of(session, account_id) for account_id in ids]
    assert now == list(expected), (
        f"Lesson 05: after {what} the balances are {now}, not {list(expected)}: {advice} (step 3)"
    )


async def test_a_transfer_moves_the_amount_from_source_to_target(db_session: AsyncSession) -> None:
    """Hint: the money moves on the rows `_lock_both` gave back: it locks them in id order, but hands them back in
    the request's order."""
    target, source = await add_accounts(db_session, 50, 1_000)  # the target's id is the larger one
    DomainError = errors().DomainError
    service = transfer_service(db_session)
    # Both directions: from the smaller id to the larger, then back from the larger to the smaller.
    moves = [
        (source, target, 300, [700, 350], "from the smaller id to the larger"),
        (target, source, 100, [250, 800], "back, from the larger id to the smaller"),
    ]
    for number, (payer, payee, amount, expected, direction) in enumerate(moves):
        before = [await balance_of(db_session, payer.id), await balance_of(db_session, payee.id)]
        suspect = (
            ": the first transfer, from the smaller id to the larger, worked, so source and target changed places "
            "when the source's id is the larger one. `_lock_both` locks in id order but must return "
            "(source, target) in request order"
            if number
            else ""
        )
        try:
            result = await service.transfer(source_id=payer.id, target_id=payee.id, amount=amount)
        except DomainError as error:
            raise AssertionError(
                f"Lesson 05: a transfer of {amount} {direction}, between accounts holding {before}, raised "
                f"{type(error).__name__} ({error}){suspect} (step 3)"
            ) from None
        after = [await balance_of(db_session, payer.id), await balance_of(db_session, payee.id)]
        assert after == expected, (
            f"Lesson 05: a transfer of {amount} {direction} turned balances {before} into {after}; expected "
            f"{expected}{suspect} (step 3)"
        )
        TransferResult = load("app.services.transfers").TransferResult
        assert isinstance(result, TransferResult), (
            f"Lesson 05: transfer() returned {type(result).__name__}; return a TransferResult (step 3)"
        )
        described = (result.source_id, result.target_id, result.amount, result.currency, result.replayed)
        assert described == (payer.id, payee.id, amount, "EUR", False), (
            f"Lesson 05: the TransferResult of a transfer {direction} says (source, target, amount, currency, "
            f"replayed) = {described}; expected the request's accounts, {amount}, 'EUR', False{suspect} (step 3)"
        )


async def test_a_transfer_writes_two_entries_that_sum_to_zero_and_share_its_id(db_session: AsyncSession) -> None:
    """Hint: one leg per account, that sum to zero and carry the transfer's id; the repository writes a list at once."""
    source, target = await add_accounts(db_session, 500, 0)
    result = await transfer_service(db_session).transfer(source_id=source.id, target_id=target.id, amount=120)
    written = sorted(
        (entry.amount, entry.account_id == source.id, entry.transfer_id)
        for entry in await entries_of(db_session, source.id, target.id)
    )
    expected = [(-120, True, result.transfer_id), (120, False, result.transfer_id)]
    total = sum(amount for amount, _, _ in written)
    assert written == expected, (
        "Lesson 05: a transfer of 120 must write two entries that sum to zero: -120 on the source and +120 on the "
        f"target, both with the result's transfer_id. Found (amount, on source?, transfer_id): {written}, which "
        f"sum to {total} (step 3)"
    )


@pytest.mark.parametrize("amount", [0, -10])
async def test_a_transfer_of_zero_or_less_is_refused(db_session: AsyncSession, amount: int) -> None:
    """Hint: the cheapest rules first: check the amount before any query."""
    source, target = await add_accounts(db_session, 100, 100)
    action = transfer_service(db_session).transfer(source_id=source.id, target_id=target.id, amount=amount)
    with statements_sent(db_session, savepoints=True) as sent:
        await refused(action, errors().InvalidAmount, f"a transfer of {amount}", step=3)
    await unchanged(db_session, [source.id, target.id], [100, 100], f"a refused transfer of {amount}")
    before_any_query(sent, f"a transfer of {amount}", "InvalidAmount")


async def test_a_transfer_to_the_same_account_is_refused(db_session: AsyncSession) -> None:
    """Hint: compare the two ids before you lock anything: SameAccount()."""
    (account,) = await add_accounts(db_session, 100)
    action = transfer_service(db_session).transfer(source_id=account.id, target_id=account.id, amount=10)
    with statements_sent(db_session, savepoints=True) as sent:
        await refused(action, errors().SameAccount, "a transfer from an account to itself", step=3)
    before_any_query(sent, "a transfer from an account to itself", "SameAccount")


async def test_a_transfer_between_two_currencies_is_refused(db_session: AsyncSession) -> None:
    """Hint: compare `source.currency` with `target.currency` once both are locked."""
    (euros,) = await add_accounts(db_session, 100, currency="EUR")
    (dollars,) = await add_accounts(db_session, 100, currency="USD")  # the smaller id
    wrong: list[str] = []
    # Both directions: from the larger id to the smaller, then back.
    for source, target in ((euros, dollars), (dollars, euros)):
        what = f"a transfer from {source.currency} to {target.currency}"
        action = transfer_service(db_session).transfer(source_id=source.id, target_id=target.id, amount=10)
        error = await refused(action, errors().CurrencyMismatch, what, step=3)
        if (error.source_currency, error.target_currency) != (source.currency, target.currency):
            wrong.append(f"{what} raised CurrencyMismatch({error.source_currency!r}, {error.target_currency!r})")
    assert len(wrong) != 1, (
        f"Lesson 05: {wrong[0] if wrong else ''}, the other way round, while the transfer in the other direction "
        f"named its currencies in order: {SWAPPED} (step 3)"
    )
    assert not wrong, (
        f"Lesson 05: {'; '.join(wrong)}: CurrencyMismatch names the source's currency first, then the target's, "
        "in that order (step 3)"
    )
    await unchanged(db_session, [euros.id, dollars.id], [100, 100], "two refused transfers between EUR and USD")


async def test_a_transfer_larger_than_the_balance_is_refused(db_session: AsyncSession) -> None:
    """Hint: compare the balance you read under the lock with the amount, before anything changes."""
    source, target = await add_accounts(db_session, 100, 0)
    action = transfer_service(db_session).transfer(source_id=source.id, target_id=target.id, amount=101)
    error = await refused(action, errors().InsufficientFunds, "a transfer of 101 from an account holding 100", 3)
    said = (error.account_id, error.balance, error.amount)
    assert error.account_id != target.id, (
        f"Lesson 05: a transfer of 101 from an account holding 100 to one holding 0 was refused in the name of "
        f"the target: InsufficientFunds says account_id={said[0]} (the target), balance={said[1]}; {SWAPPED} (step 3)"
    )
    assert said == (source.id, 100, 101), (
        f"Lesson 05: the InsufficientFunds error says account_id={said[0]}, balance={said[1]}, amount={said[2]}; "
        f"expected account_id={source.id}, balance=100, amount=101: the error names the source, the balance it "
        "holds and the amount asked, in the order InsufficientFunds takes them (app/services/errors.py) (step 3)"
    )
    await unchanged(db_session, [source.id, target.id], [100, 0], "a refused overdraft")


async def test_a_transfer_of_the_whole_balance_is_allowed(db_session: AsyncSession) -> None:
    """Hint: a balance may reach zero; only below zero is refused (`balance < amount`, not `<=`)."""
    source, target = await add_accounts(db_session, 100, 0)
    InsufficientFunds = errors().InsufficientFunds
    try:
        await transfer_service(db_session).transfer(source_id=source.id, target_id=target.id, amount=100)
    except InsufficientFunds as error:
        if error.account_id == target.id:
            raise AssertionError(
                f"Lesson 05: a transfer of 100 from an account holding 100 to one holding 0 was refused in the name "
                f"of the target ({error}); {SWAPPED} (step 3)"
            ) from None
        raise AssertionError(
            f"Lesson 05: a transfer of 100 from an account holding 100 was refused ({error}); a balance may "
            "reach zero, only below zero is refused (step 3)"
        ) from None
    await unchanged(db_session, [source.id, target.id], [0, 100], "a transfer of the whole balance")


@pytest.mark.parametrize("missing", ["source", "target"])
async def test_a_transfer_with_an_unknown_account_is_refused(db_session: AsyncSession, missing: str) -> None:
    """Hint: `get_for_update` returns None for an unknown id: raise AccountNotFound(that id)."""
    (known,) = await add_accounts(db_session, 100)
    unknown = uuid.uuid4()
    source_id, target_id = (unknown, known.id) if missing == "source" else (known.id, unknown)
    action = transfer_service(db_session).transfer(source_id=source_id, target_id=target_id, amount=10)
    error = await refused(action, errors().AccountNotFound, f"a transfer with an unknown {missing}", step=3)
    assert error.account_id == unknown, (
        f"Lesson 05: AccountNotFound names {error.account_id}, not the unknown {missing} {unknown} (step 3)"
    )
    await unchanged(db_session, [known.id], [100], f"a transfer with an unknown {missing}")


async def test_a_transfer_never_commits(db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: repositories flush; the request's session dependency commits once, at the end."""
    commits: list[str] = []

    async def spy() -> None:
        commits.append("commit")

    monkeypatch.setattr(db_session, "commit", spy)
    source, target = await add_accounts(db_session, 100, 0)
    await transfer_service(db_session).transfer(source_id=source.id, target_id=target.id, amount=10)
    assert commits == [], (
        "Lesson 05: transfer() called session.commit(); a transfer that commits half-way cannot be undone "
        "when a later step fails. Flush, and leave the commit to get_session (step 3)"
    )


async def test_a_transfer_reaches_the_database_only_through_repositories(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: the locks and the entries already have repository methods: `get_for_update`, `add_all`."""
    source, target = await add_accounts(db_session, 100, 0)
    calls = direct_session_calls(db_session, monkeypatch)
    await transfer_service(db_session).transfer(source_id=source.id, target_id=target.id, amount=10)
    assert not calls, (
        f"Lesson 05: {'; '.join(sorted(set(calls)))}: a service reaches the database only through its "
        "repositories (AccountRepository, EntryRepository), which own every query, lock and flush; the service "
        "keeps the rules (step 3)"
    )


class ForcedFailure(Exception):
    """What the check makes writing the entries raise."""


async def test_a_transfer_that_fails_half_way_leaves_nothing_behind(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: all or nothing comes from one transaction: never commit inside the service."""
    source, target = await add_accounts(db_session, 1_000, 0)
    ids = [source.id, target.id]  # a rollback expires the objects: keep the ids
    await db_session.commit()  # the starting point a rollback returns to
    entries_before = await count_entries(db_session)

    async def fail(*args: object, **kwargs: object) -> None:
        raise ForcedFailure("the check broke EntryRepository on purpose")

    EntryRepository = load("app.crud").EntryRepository
    monkeypatch.setattr(EntryRepository, "add_all", fail)
    monkeypatch.setattr(EntryRepository, "add", fail)
    try:
        await transfer_service(db_session).transfer(source_id=ids[0], target_id=ids[1], amount=400)
    except ForcedFailure:
        pass
    else:
        raise AssertionError(
            "Lesson 05: the check made EntryRepository.add_all and .add raise, but the transfer succeeded; "
            "write the two entries through EntryRepository (step 3)"
        )
    await db_session.rollback()  # what get_session does when the route raises
    await unchanged(
        db_session,
        ids,
        [1_000, 0],
        "a transfer that failed half-way and a rollback",
        advice="the balances were committed without their entries; never commit inside the service",
    )
    assert await count_entries(db_session) == entries_before, (
        "Lesson 05: a transfer that failed half-way left entries behind after the rollback (step 3)"
    )


class InjectedDeadlock(Exception):
    """The driver error inside the check's fake database error: what PostgreSQL says when it breaks a deadlock."""

    sqlstate = pgcode = "40P01"


async def test_a_database_error_during_a_transfer_is_raised_not_retried(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: after a database error the transaction is aborted: nothing inside it can succeed any more. Who ends
    the transaction, and who could start a new one?"""
    source, target = await add_accounts(db_session, 500, 0)
    injected = OperationalError(
        "SELECT accounts … FOR UPDATE", None, InjectedDeadlock("deadlock detected (injected by the check)")
    )
    AccountRepository = load("app.crud").AccountRepository
    original = AccountRepository.get_for_update
    calls: list[uuid.UUID] = []

    async def fails_once(self: Any, account_id: uuid.UUID, *args: Any, **kwargs: Any) -> Any:
        calls.append(account_id)
        if len(calls) == 1:
            raise injected
        return await original(self, account_id, *args, **kwargs)

    monkeypatch.setattr(AccountRepository, "get_for_update", fails_once)
    what = (
        "the check made the first locking read of a transfer (AccountRepository.get_for_update) fail once with a "
        "database error (a deadlock, SQLSTATE 40P01)"
    )
    try:
        await transfer_service(db_session).transfer(source_id=source.id, target_id=target.id, amount=100)
    except DBAPIError:
        reached = True
    except errors().DomainError as error:
        raise AssertionError(
            f"Lesson 05: {what}, and transfer() raised {type(error).__name__} ({error}) instead: a database error "
            "is not a business rule. Let it reach the caller: get_session rolls the transaction back (step 3)"
        ) from None
    else:
        reached = False
    assert calls, "Lesson 05: a transfer never called AccountRepository.get_for_update: lock both rows with it (step 3)"
    assert reached and len(calls) == 1, (
        f"Lesson 05: {what}, and transfer() retried it inside the same transaction: get_for_update ran {len(calls)} "
        f"times{'' if reached else ', and the transfer went through (only because the error was a fake one)'}. After "
        "a database error PostgreSQL aborts the whole transaction: every later statement fails with 'current "
        "transaction is aborted', so no retry inside it can succeed. Let the error reach the caller, where "
        "get_session rolls back; a retry, if one is ever needed (deadlocks, serialization failures), wraps the whole "
        "transaction, outside the service (step 3)"
    )
