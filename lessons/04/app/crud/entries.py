"""The entries repository: every query the service runs on `entries`.

Like every repository it adds, queries and flushes, and never commits.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Entry


class EntryRepository:
    """Reads and writes `Entry` rows through one request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: Entry) -> Entry:
        """Insert one entry (flush, no commit) and return it with its id and created_at set."""
        raise NotImplementedError("Lesson 04: add the entry and flush, never commit; return it (step 5)")

    async def add_all(self, entries: Sequence[Entry]) -> None:
        """Insert several entries (the two legs of a transfer) in one flush, no commit."""
        raise NotImplementedError("Lesson 04: add every entry and flush once, never commit (step 5)")

    async def for_account(self, account_id: uuid.UUID, *, limit: int = 50, offset: int = 0) -> Sequence[Entry]:
        """One page of an account's entries, newest first (created_at, then id, both descending)."""
        raise NotImplementedError("Lesson 04: return one page of this account's entries, newest first, with id as the tiebreaker (step 6)")
