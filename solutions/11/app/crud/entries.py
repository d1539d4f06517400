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
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def add_all(self, entries: Sequence[Entry]) -> None:
        """Insert several entries (the two legs of a transfer) in one flush, no commit."""
        self.session.add_all(entries)
        # One flush: the ORM batches the INSERTs (insertmanyvalues), one round trip for all.
        await self.session.flush()

    async def for_account(self, account_id: uuid.UUID, *, limit: int = 50, offset: int = 0) -> Sequence[Entry]:
        """One page of an account's entries, newest first (created_at, then id, both descending)."""
        # created_at is now(), the start of the writing transaction: both legs of a transfer
        # share it. Ordering by id too makes the order total, so pages stay stable.
        statement = (
            select(Entry)
            .where(Entry.account_id == account_id)
            .order_by(Entry.created_at.desc(), Entry.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return (await self.session.scalars(statement)).all()

    async def page_for_account(
        self, account_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Entry]:
        """A keyset page of an account's entries, newest first by (time-ordered) id, before `after` (lesson 11)."""
        statement = select(Entry).where(Entry.account_id == account_id)
        if after is not None:
            statement = statement.where(Entry.id < after)
        return (await self.session.scalars(statement.order_by(Entry.id.desc()).limit(limit))).all()
