"""The accounts repository: every query the service runs on `accounts`.

A repository adds, queries and flushes; it never commits (the request's session dependency
does, once, for all the request's writes) and raises nothing HTTP (a missing account is
`None`, and the service decides what that means).
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account


class AccountRepository:
    """Reads and writes `Account` rows through one request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: uuid.UUID) -> Account | None:
        """The account with this id, or None when there is none."""
        raise NotImplementedError("Lesson 04: return the account with this id, or None when there is none (step 2)")

    async def get_for_update(self, account_id: uuid.UUID) -> Account | None:
        """The account with this id, its row locked (SELECT … FOR UPDATE) until the transaction ends."""
        raise NotImplementedError("Lesson 04: SELECT the account FOR UPDATE, with its values as they are now, or None (step 4)")

    async def list(self, *, limit: int = 50, offset: int = 0) -> Sequence[Account]:
        """One page of accounts, oldest first: ordered by id, which UUIDv7 makes time-ordered."""
        raise NotImplementedError("Lesson 04: return one page of accounts, ordered by id so that pages never overlap or skip (step 3)")

    async def add(self, account: Account) -> Account:
        """Insert the account (flush, no commit) and return it with its id and created_at set."""
        raise NotImplementedError("Lesson 04: add the account to the session and flush, never commit; return it (step 1)")
