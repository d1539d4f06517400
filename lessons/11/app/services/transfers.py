"""Transfers: move money between two accounts of one currency, all or nothing, exactly once.

The rules: a positive amount, two different accounts, one currency, enough money in the
source. Both rows are locked with SELECT … FOR UPDATE in sorted id order, so two transfers in
opposite directions queue instead of deadlocking. The money moves as two entries that sum to
zero and share a transfer id. An idempotency key makes a retried request a replay, not a
second payment. Like every service, this one flushes and never commits.

Every TransferService acts for one user (lesson 09): money leaves only that user's accounts. It
may go to anyone's account, as a payment does: the client names the target by its id.
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


def request_fingerprint(user_id: uuid.UUID, source_id: uuid.UUID, target_id: uuid.UUID, amount: int) -> str:
    """A stable digest of who asks for what: the same key must come from the same user with the same request."""
    return hashlib.sha256(f"{user_id}:{source_id}:{target_id}:{amount}".encode()).hexdigest()


class TransferService:
    """The rules for moving money, for one user. One instance per request, on the request's session."""

    def __init__(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self.accounts = AccountRepository(session)
        self.entries = EntryRepository(session)
        self.keys = IdempotencyKeyRepository(session)
        self.user_id = user_id  # who is asking: the user of the request's access token

    async def transfer(
        self,
        *,
        source_id: uuid.UUID,
        target_id: uuid.UUID,
        amount: int,
        idempotency_key: str | None = None,
    ) -> TransferResult:
        """Move `amount` minor units from the source to the target account, or raise a DomainError."""
        if amount <= 0:
            raise InvalidAmount(amount)
        if source_id == target_id:
            raise SameAccount()
        transfer_id = uuid7()

        if idempotency_key is not None:
            # Claimed before any account is locked: a second request with this key waits here,
            # holding nothing, until the first one commits (then replays) or rolls back.
            fingerprint = request_fingerprint(self.user_id, source_id, target_id, amount)
            earlier = await self.keys.claim(idempotency_key, request_hash=fingerprint, transfer_id=transfer_id)
            if earlier is not None:
                if earlier.request_hash != fingerprint:
                    raise IdempotencyConflict(idempotency_key)
                source = await self.accounts.get(source_id)
                # Unreachable while accounts are never deleted (a stored key's source exists); kept for
                # the type checker and for the day they are. Coverage leaves it out of its count.
                if source is None:  # pragma: no cover
                    raise AccountNotFound(source_id)
                return TransferResult(
                    transfer_id=earlier.transfer_id,
                    source_id=source_id,
                    target_id=target_id,
                    amount=amount,
                    currency=source.currency,
                    replayed=True,
                )

        source, target = await self._lock_both(source_id, target_id)
        if source.user_id != self.user_id:
            raise AccountNotFound(source_id)
        if source.currency != target.currency:
            raise CurrencyMismatch(source.currency, target.currency)
        # Read under the lock: no other transaction can spend this balance before we commit.
        if source.balance < amount:
            raise InsufficientFunds(source.id, source.balance, amount)
        source.balance -= amount
        target.balance += amount
        await self.entries.add_all(
            [
                Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id),
                Entry(account_id=target.id, amount=amount, transfer_id=transfer_id),
            ]
        )
        return TransferResult(
            transfer_id=transfer_id,
            source_id=source.id,
            target_id=target.id,
            amount=amount,
            currency=source.currency,
            replayed=False,
        )

    async def _lock_both(self, source_id: uuid.UUID, target_id: uuid.UUID) -> tuple[Account, Account]:
        """Lock both accounts' rows, smaller id first whatever the direction; return (source, target)."""
        # Every transfer takes its locks in the same global order, so no two can each hold the
        # lock the other waits for: A→B and B→A both lock min(A, B) first, and one simply waits.
        locked: dict[uuid.UUID, Account] = {}
        for account_id in sorted((source_id, target_id)):
            account = await self.accounts.get_for_update(account_id)
            if account is None:
                raise AccountNotFound(account_id)
            locked[account_id] = account
        return locked[source_id], locked[target_id]
