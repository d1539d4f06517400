"""Transfers: move money between two accounts of one currency, all or nothing, exactly once.

The rules: a positive amount, two different accounts, one currency, enough money in the
source. Both rows are locked with SELECT … FOR UPDATE in sorted id order, so two transfers in
opposite directions queue instead of deadlocking. The money moves as two entries that sum to
zero and share a transfer id. An idempotency key makes a retried request a replay, not a
second payment. Like every service, this one flushes and never commits.
"""

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import AccountRepository, EntryRepository
from app.crud.idempotency import IdempotencyKeyRepository
from app.models import Account, Entry, uuid7
from app.services.errors import (
    AccountNotFound,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    SameAccount,
)


@dataclass(frozen=True)
class TransferResult:
    """What a transfer did. `replayed` is True when an idempotency key returned an earlier transfer."""

    transfer_id: uuid.UUID
    source_id: uuid.UUID
    target_id: uuid.UUID
    amount: int
    currency: str
    replayed: bool


def request_fingerprint(source_id: uuid.UUID, target_id: uuid.UUID, amount: int) -> str:
    """A stable digest of what the request asks for: the same key must come with the same request."""
    return hashlib.sha256(f"{source_id}:{target_id}:{amount}".encode()).hexdigest()


class TransferService:
    """The rules for moving money. One instance per request, on the request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.accounts = AccountRepository(session)
        self.entries = EntryRepository(session)
        self.keys = IdempotencyKeyRepository(session)

    async def transfer(
        self,
        *,
        source_id: uuid.UUID,
        target_id: uuid.UUID,
        amount: int,
        idempotency_key: str | None = None,
    ) -> TransferResult:
        """Move `amount` minor units from the source to the target account, or raise a DomainError."""
        raise NotImplementedError("Lesson 05: refuse amount <= 0 (InvalidAmount) and source_id == target_id (SameAccount) (step 3)")
        transfer_id = uuid7()

        if idempotency_key is not None:
            raise NotImplementedError("Lesson 05: claim the key with self.keys.claim; an earlier row means: replay it, or IdempotencyConflict (step 4)")

        raise NotImplementedError("Lesson 05: lock both with _lock_both, check currency and funds, move the money, add two entries (step 3)")

    async def _lock_both(self, source_id: uuid.UUID, target_id: uuid.UUID) -> tuple[Account, Account]:
        """Lock both accounts' rows, smaller id first whatever the direction; return (source, target)."""
        raise NotImplementedError("Lesson 05: lock both accounts in sorted id order with get_for_update; AccountNotFound for a missing one (step 3)")
