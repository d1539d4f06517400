"""TransferService on a real database: every rule of a transfer, its entries, and its idempotency key.

Each refusal is asserted with its own domain error. `pytest.raises(Exception)` would also pass
when the database refuses instead (a CHECK constraint, an IntegrityError): the rule would be gone
and the test still green.
"""

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, User
from app.services.accounts import AccountService
from app.services.errors import (
    AccountNotFound,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    SameAccount,
)
from app.services.transfers import TransferService


@pytest.fixture
def accounts(session: AsyncSession, user: User) -> AccountService:
    """The account service, acting for the test's user."""
    return AccountService(session, user.id)


@pytest.fixture
def transfers(session: AsyncSession, user: User) -> TransferService:
    """The transfer service, acting for the test's user."""
    return TransferService(session, user.id)


@pytest.fixture
def strangers(session: AsyncSession, stranger: User) -> AccountService:
    """The account service, acting for another user."""
    return AccountService(session, stranger.id)


async def funded(accounts: AccountService, balance: int, currency: str = "EUR") -> Account:
    account = await accounts.open(owner="Owner", currency=currency)
    if balance:
        await accounts.deposit(account.id, balance)
    return account


async def test_a_transfer_moves_the_amount_from_source_to_target(
    accounts: AccountService, transfers: TransferService
) -> None:
    source, target = await funded(accounts, 1000), await funded(accounts, 0)

    result = await transfers.transfer(source_id=source.id, target_id=target.id, amount=300)

    assert (source.balance, target.balance) == (700, 300)
    assert (result.source_id, result.target_id, result.amount, result.currency) == (source.id, target.id, 300, "EUR")
    assert not result.replayed


async def test_a_transfer_writes_two_entries_that_sum_to_zero(
    accounts: AccountService, transfers: TransferService
) -> None:
    source, target = await funded(accounts, 1000), await funded(accounts, 0)

    result = await transfers.transfer(source_id=source.id, target_id=target.id, amount=300)

    sent = [entry for entry in await accounts.statement(source.id) if entry.transfer_id is not None]
    received = list(await accounts.statement(target.id))
    assert [(entry.amount, entry.transfer_id) for entry in sent] == [(-300, result.transfer_id)]
    assert [(entry.amount, entry.transfer_id) for entry in received] == [(300, result.transfer_id)]


async def test_the_whole_balance_can_be_moved(accounts: AccountService, transfers: TransferService) -> None:
    source, target = await funded(accounts, 500), await funded(accounts, 0)

    await transfers.transfer(source_id=source.id, target_id=target.id, amount=500)

    assert (source.balance, target.balance) == (0, 500)


async def test_a_transfer_larger_than_the_balance_is_refused(
    accounts: AccountService, transfers: TransferService
) -> None:
    source, target = await funded(accounts, 500), await funded(accounts, 0)

    with pytest.raises(InsufficientFunds):
        await transfers.transfer(source_id=source.id, target_id=target.id, amount=501)

    assert (source.balance, target.balance) == (500, 0)


async def test_a_transfer_to_the_same_account_is_refused(accounts: AccountService, transfers: TransferService) -> None:
    account = await funded(accounts, 500)

    with pytest.raises(SameAccount):
        await transfers.transfer(source_id=account.id, target_id=account.id, amount=100)


async def test_a_transfer_between_two_currencies_is_refused(
    accounts: AccountService, transfers: TransferService
) -> None:
    source, target = await funded(accounts, 500, "EUR"), await funded(accounts, 0, "USD")

    with pytest.raises(CurrencyMismatch):
        await transfers.transfer(source_id=source.id, target_id=target.id, amount=100)

    assert (source.balance, target.balance) == (500, 0)


@pytest.mark.parametrize("amount", [0, -100])
async def test_a_transfer_of_nothing_or_less_is_refused(
    accounts: AccountService, transfers: TransferService, amount: int
) -> None:
    source, target = await funded(accounts, 500), await funded(accounts, 0)

    with pytest.raises(InvalidAmount):
        await transfers.transfer(source_id=source.id, target_id=target.id, amount=amount)


@pytest.mark.parametrize("missing", ["source", "target"])
async def test_a_transfer_with_an_unknown_account_is_not_found(
    accounts: AccountService, transfers: TransferService, missing: str
) -> None:
    known, unknown = (await funded(accounts, 500)).id, uuid.uuid4()
    source, target = (unknown, known) if missing == "source" else (known, unknown)

    with pytest.raises(AccountNotFound):
        await transfers.transfer(source_id=source, target_id=target, amount=100)


async def test_a_retry_with_the_same_key_replays_the_transfer(
    accounts: AccountService, transfers: TransferService
) -> None:
    source, target = await funded(accounts, 1000), await funded(accounts, 0)

    first = await transfers.transfer(source_id=source.id, target_id=target.id, amount=300, idempotency_key="k-1")
    retry = await transfers.transfer(source_id=source.id, target_id=target.id, amount=300, idempotency_key="k-1")

    assert (source.balance, target.balance) == (700, 300)
    assert retry.transfer_id == first.transfer_id
    assert (first.replayed, retry.replayed) == (False, True)


@pytest.mark.parametrize("change", ["amount", "target"])
async def test_a_key_reused_for_a_different_transfer_is_a_conflict(
    accounts: AccountService, transfers: TransferService, change: str
) -> None:
    source, target, other = await funded(accounts, 1000), await funded(accounts, 0), await funded(accounts, 0)
    await transfers.transfer(source_id=source.id, target_id=target.id, amount=300, idempotency_key="k-2")

    with pytest.raises(IdempotencyConflict):
        await transfers.transfer(
            source_id=source.id,
            target_id=other.id if change == "target" else target.id,
            amount=301 if change == "amount" else 300,
            idempotency_key="k-2",
        )

    assert (source.balance, target.balance, other.balance) == (700, 300, 0)


async def test_money_may_go_to_another_users_account(
    accounts: AccountService, strangers: AccountService, transfers: TransferService
) -> None:
    source, theirs = await funded(accounts, 1000), await funded(strangers, 0)

    await transfers.transfer(source_id=source.id, target_id=theirs.id, amount=300)

    assert (source.balance, theirs.balance) == (700, 300)


async def test_money_never_leaves_another_users_account(
    accounts: AccountService, strangers: AccountService, transfers: TransferService
) -> None:
    theirs, mine = await funded(strangers, 1000), await funded(accounts, 0)

    with pytest.raises(AccountNotFound):
        await transfers.transfer(source_id=theirs.id, target_id=mine.id, amount=300)

    assert (theirs.balance, mine.balance) == (1000, 0)


async def test_another_users_key_never_replays_a_transfer(
    accounts: AccountService, transfers: TransferService, session: AsyncSession, stranger: User
) -> None:
    source, target = await funded(accounts, 1000), await funded(accounts, 0)
    await transfers.transfer(source_id=source.id, target_id=target.id, amount=300, idempotency_key="k-1")

    with pytest.raises(IdempotencyConflict):
        await TransferService(session, stranger.id).transfer(
            source_id=source.id, target_id=target.id, amount=300, idempotency_key="k-1"
        )
