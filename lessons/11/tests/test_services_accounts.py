"""AccountService on a real database: opening, reading and paying into accounts, one's own only.

These tests call the service directly, on the test's `session`: the rules are tested where they
live, including the ones HTTP never lets through (a deposit of 0 is a 422 before the service runs).
"""

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User
from app.services.accounts import AccountService
from app.services.errors import AccountNotFound, InvalidAmount


@pytest.fixture
def accounts(session: AsyncSession, user: User) -> AccountService:
    """The account service, acting for the test's user."""
    return AccountService(session, user.id)


@pytest.fixture
def strangers(session: AsyncSession, stranger: User) -> AccountService:
    """The account service, acting for another user."""
    return AccountService(session, stranger.id)


async def test_a_new_account_holds_nothing(accounts: AccountService) -> None:
    account = await accounts.open(owner="Ada", currency="EUR")

    found = await accounts.get(account.id)

    assert (found.owner, found.currency, found.balance) == ("Ada", "EUR", 0)


async def test_an_unknown_account_is_not_found(accounts: AccountService) -> None:
    with pytest.raises(AccountNotFound):
        await accounts.get(uuid.uuid4())


async def test_accounts_are_listed_by_id_one_page_at_a_time(accounts: AccountService) -> None:
    opened = [await accounts.open(owner=f"Owner {number}", currency="EUR") for number in range(5)]
    in_order = sorted(account.id for account in opened)  # UUIDv7: id order is creation order, to the ms

    pages = [await accounts.list(limit=2, offset=offset) for offset in (0, 2, 4)]

    assert [[account.id for account in page] for page in pages] == [in_order[0:2], in_order[2:4], in_order[4:]]


async def test_a_deposit_raises_the_balance_and_writes_one_entry(accounts: AccountService) -> None:
    account = await accounts.open(owner="Ada", currency="EUR")

    await accounts.deposit(account.id, 250)
    await accounts.deposit(account.id, 50)

    assert (await accounts.get(account.id)).balance == 300
    entries = await accounts.statement(account.id)
    assert sorted((entry.amount, entry.transfer_id) for entry in entries) == [(50, None), (250, None)]


@pytest.mark.parametrize("amount", [0, -100])
async def test_a_deposit_of_nothing_or_less_is_refused(accounts: AccountService, amount: int) -> None:
    account = await accounts.open(owner="Ada", currency="EUR")

    with pytest.raises(InvalidAmount):
        await accounts.deposit(account.id, amount)

    assert account.balance == 0


async def test_a_deposit_into_an_unknown_account_is_not_found(accounts: AccountService) -> None:
    with pytest.raises(AccountNotFound):
        await accounts.deposit(uuid.uuid4(), 100)


async def test_the_statement_of_an_unknown_account_is_not_found(accounts: AccountService) -> None:
    with pytest.raises(AccountNotFound):
        await accounts.statement(uuid.uuid4())


async def test_the_statement_of_a_new_account_is_empty(accounts: AccountService) -> None:
    account = await accounts.open(owner="Ada", currency="EUR")

    assert list(await accounts.statement(account.id)) == []


async def test_a_new_account_belongs_to_the_user_who_opened_it(accounts: AccountService, user: User) -> None:
    account = await accounts.open(owner="Ada", currency="EUR")

    assert account.user_id == user.id


async def test_another_users_account_is_not_found(accounts: AccountService, strangers: AccountService) -> None:
    theirs = await strangers.open(owner="Grace", currency="EUR")

    with pytest.raises(AccountNotFound):
        await accounts.get(theirs.id)
    with pytest.raises(AccountNotFound):
        await accounts.statement(theirs.id)
    with pytest.raises(AccountNotFound):
        await accounts.deposit(theirs.id, 100)
    assert theirs.balance == 0


async def test_a_page_lists_only_the_users_own_accounts(accounts: AccountService, strangers: AccountService) -> None:
    mine = await accounts.open(owner="Ada", currency="EUR")
    await strangers.open(owner="Grace", currency="EUR")

    assert [account.id for account in await accounts.list()] == [mine.id]
