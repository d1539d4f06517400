"""An account holds money of one currency, in integer minor units (cents), never below zero."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, uuid7

if TYPE_CHECKING:
    from app.models.entry import Entry


class Account(Base):
    __tablename__ = "accounts"

    ### BEGIN SOLUTION declare the other columns of accounts and its CHECK constraints (step 3)
    ### STUB id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("char_length(currency) = 3", name="currency_is_iso_code"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    owner: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ### END SOLUTION

    ### BEGIN SOLUTION link Account to its entries: a relationship with back_populates and lazy="raise" (step 4)
    ### STUB
    # lazy="raise": touching account.entries without selectinload() is an error, not a hidden query.
    entries: Mapped[list["Entry"]] = relationship(back_populates="account", lazy="raise")
    ### END SOLUTION

    def __repr__(self) -> str:
        return f"Account(id={self.id}, owner={self.owner!r}, balance={self.balance} {self.currency})"
