"""An entry moves money in or out of one account. A transfer writes two that sum to zero."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, uuid7

if TYPE_CHECKING:
    from app.models.account import Account


class Entry(Base):
    __tablename__ = "entries"

    ### BEGIN SOLUTION declare the other columns of entries (a non-zero amount, the account, the transfer id) and the relationship back to Account (step 4)
    ### STUB id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    # Both entries of a transfer share it; a deposit has none.
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    account: Mapped["Account"] = relationship(back_populates="entries", lazy="raise")
    ### END SOLUTION
