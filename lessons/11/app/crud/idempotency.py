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
        statement = (
            insert(IdempotencyKey)
            .values(key=key, request_hash=request_hash, transfer_id=transfer_id)
            .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])
            .returning(IdempotencyKey.key)
        )
        if (await self.session.execute(statement)).scalar_one_or_none() is not None:
            return None
        # A new statement sees what committed meanwhile (READ COMMITTED): the first request's row.
        return (await self.session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key))).one()
