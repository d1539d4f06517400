"""The idempotency keys repository: claim a key for this transaction, or find who claimed it first."""

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import IdempotencyKey


class IdempotencyKeyRepository:
    """Reads and writes `IdempotencyKey` rows through one request's session. Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, key: str, *, request_hash: str, transfer_id: uuid.UUID) -> IdempotencyKey | None:
        """Insert the key for this transaction: None when it is ours now, else the row stored first.

        While another transaction holds an uncommitted row with the same key, PostgreSQL makes
        this INSERT wait for it: if that transaction commits, the key is taken (we get its row);
        if it rolls back, the key is ours.
        """
        raise NotImplementedError("Lesson 05: INSERT … ON CONFLICT (key) DO NOTHING RETURNING key; when nothing came back, SELECT the row (step 4)")
