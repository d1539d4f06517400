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

    # TODO Lesson 03: declare the other columns of accounts and its CHECK constraints (step 3)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)

    # TODO Lesson 03: link Account to its entries: a relationship with back_populates and lazy="raise" (step 4)

    def __repr__(self) -> str:
        return f"Account(id={self.id}, owner={self.owner!r}, balance={self.balance} {self.currency})"
