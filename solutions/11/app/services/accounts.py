"""Accounts: open one, read one or a page, deposit into one, read its statement.

A service holds the business rules and speaks through repositories. It flushes, so ids and
constraint errors appear at once, but never commits: the request's session dependency does,
once, so every write of a request lands together or not at all.

Every AccountService acts for one user (lesson 09), and that user sees only their own accounts:
another user's account is answered exactly as an account that does not exist, AccountNotFound.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import AccountRepository, EntryRepository
from app.models import Account, Entry
from app.services.errors import AccountNotFound, InvalidAmount


class AccountService:
    """The rules for single accounts, for one user. One instance per request, on the request's session."""

    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.accounts = AccountRepository(session)
        self.entries = EntryRepository(session)
        self.user_id = user_id  # who is asking: the user of the request's access token

    def _owned(self, account_id: uuid.UUID, account: Account | None) -> Account:
        """The account, when it exists and is this user's; AccountNotFound otherwise, the same answer for both."""
        if account is None or account.user_id != self.user_id:
            raise AccountNotFound(account_id)
        return account

    async def open(self, *, owner: str, currency: str) -> Account:
        """Open an empty account for `owner`, holding `currency` (an ISO 4217 code such as "EUR"), for this user."""
        return await self.accounts.add(Account(owner=owner, currency=currency, balance=0, user_id=self.user_id))

    async def get(self, account_id: uuid.UUID) -> Account:
        """The user's account with this id; AccountNotFound when there is none, or it is another user's."""
        return self._owned(account_id, await self.accounts.get(account_id))

    async def list(self, *, limit: int = 50, offset: int = 0) -> Sequence[Account]:
        """One page of the user's accounts, oldest first."""
        return await self.accounts.list(user_id=self.user_id, limit=limit, offset=offset)

    async def page(self, *, after: uuid.UUID | None, limit: int) -> Sequence[Account]:
        """A keyset page of the user's accounts, newest first, starting after the account `after` (lesson 11)."""
        return await self.accounts.page(user_id=self.user_id, after=after, limit=limit)

    async def statement_page(self, account_id: uuid.UUID, *, after: uuid.UUID | None, limit: int) -> Sequence[Entry]:
        """A keyset page of the account's entries, newest first; AccountNotFound unless it is the user's account."""
        self._owned(account_id, await self.accounts.get(account_id))
        return await self.entries.page_for_account(account_id, after=after, limit=limit)

    async def deposit(self, account_id: uuid.UUID, amount: int) -> Account:
        """Add `amount` minor units to the account and write one entry; return the account."""
        if amount <= 0:
            raise InvalidAmount(amount)
        # The lock makes "read the balance, write balance + amount" safe against a concurrent
        # deposit or transfer: theirs waits until this transaction ends, then reads our result.
        account = self._owned(account_id, await self.accounts.get_for_update(account_id))
        account.balance += amount
        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))
        return account

    async def statement(self, account_id: uuid.UUID, *, limit: int = 50, offset: int = 0) -> Sequence[Entry]:
        """One page of the account's entries, newest first; AccountNotFound unless it is the user's account."""
        # An unknown account and an account without entries are different answers (404 vs []).
        self._owned(account_id, await self.accounts.get(account_id))
        return await self.entries.for_account(account_id, limit=limit, offset=offset)
