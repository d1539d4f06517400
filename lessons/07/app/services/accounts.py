"""Accounts: open one, read one or a page, deposit into one, read its statement.

A service holds the business rules and speaks through repositories. It flushes, so ids and
constraint errors appear at once, but never commits: the request's session dependency does,
once, so every write of a request lands together or not at all.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import AccountRepository, EntryRepository
from app.models import Account, Entry
from app.services.errors import AccountNotFound, InvalidAmount


class AccountService:
    """The rules for single accounts. One instance per request, on the request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.accounts = AccountRepository(session)
        self.entries = EntryRepository(session)

    async def open(self, *, owner: str, currency: str) -> Account:
        """Open an empty account for `owner`, holding `currency` (an ISO 4217 code such as "EUR")."""
        return await self.accounts.add(Account(owner=owner, currency=currency, balance=0))

    async def get(self, account_id: uuid.UUID) -> Account:
        """The account with this id; AccountNotFound when there is none."""
        account = await self.accounts.get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account

    async def list(self, *, limit: int = 50, offset: int = 0) -> Sequence[Account]:
        """One page of accounts, oldest first."""
        return await self.accounts.list(limit=limit, offset=offset)

    async def deposit(self, account_id: uuid.UUID, amount: int) -> Account:
        """Add `amount` minor units to the account and write one entry; return the account."""
        if amount <= 0:
            raise InvalidAmount(amount)
        # The lock makes "read the balance, write balance + amount" safe against a concurrent
        # deposit or transfer: theirs waits until this transaction ends, then reads our result.
        account = await self.accounts.get_for_update(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        account.balance += amount
        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))
        return account

    async def statement(self, account_id: uuid.UUID, *, limit: int = 50, offset: int = 0) -> Sequence[Entry]:
        """One page of the account's entries, newest first; AccountNotFound when there is no such account."""
        # An unknown account and an account without entries are different answers (404 vs []).
        if await self.accounts.get(account_id) is None:
            raise AccountNotFound(account_id)
        return await self.entries.for_account(account_id, limit=limit, offset=offset)
