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
        raise NotImplementedError("Lesson 05: build an Account with a zero balance and add it through the repository (step 1)")

    async def get(self, account_id: uuid.UUID) -> Account:
        """The account with this id; AccountNotFound when there is none."""
        raise NotImplementedError("Lesson 05: ask the repository; turn None into AccountNotFound(account_id) (step 1)")

    async def list(self, *, limit: int = 50, offset: int = 0) -> Sequence[Account]:
        """One page of accounts, oldest first."""
        raise NotImplementedError("Lesson 05: return the repository's page of accounts (step 1)")

    async def deposit(self, account_id: uuid.UUID, amount: int) -> Account:
        """Add `amount` minor units to the account and write one entry; return the account."""
        raise NotImplementedError("Lesson 05: refuse amount <= 0, lock the row with get_for_update, add to the balance, write one Entry (step 2)")

    async def statement(self, account_id: uuid.UUID, *, limit: int = 50, offset: int = 0) -> Sequence[Entry]:
        """One page of the account's entries, newest first; AccountNotFound when there is no such account."""
        raise NotImplementedError("Lesson 05: check that the account exists, then return the repository's page of its entries (step 2)")
