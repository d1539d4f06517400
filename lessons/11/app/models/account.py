"""An account holds money of one currency, in integer minor units (cents), never below zero.

It belongs to one user (lesson 09): only that user sees it and moves money out of it.
"""

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, uuid7

if TYPE_CHECKING:
    from app.models.entry import Entry


def utc_now() -> datetime:
    """The time of the app's clock, in UTC: what updated_at is set to on every write."""
    return datetime.now(UTC)


class Account(Base):
    __tablename__ = "accounts"

    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("char_length(currency) = 3", name="currency_is_iso_code"),
        # Lesson 11: v2's keyset pages walk a user's accounts by id (migration 0004 builds it CONCURRENTLY).
        Index("ix_accounts_user_id_id", "user_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    owner: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Lesson 11: when the balance last changed (API v2). Set by the app on every insert and update, so
    # the value is in the object without a second query; the database default covers raw INSERTs.
    # Added nullable and backfilled in batches (migration 0004), then made NOT NULL (0005).
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, onupdate=utc_now, server_default=func.now()
    )
    # RESTRICT: a user who still owns accounts cannot be deleted by accident. The index serves
    # "this user's accounts", the query behind every page of GET /api/v1/accounts.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)

    # lazy="raise": touching account.entries without selectinload() is an error, not a hidden query.
    entries: Mapped[list["Entry"]] = relationship(back_populates="account", lazy="raise")

    def __repr__(self) -> str:
        return f"Account(id={self.id}, owner={self.owner!r}, balance={self.balance} {self.currency})"
