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

    # TODO Lesson 03: declare the other columns of entries (a non-zero amount, the account, the transfer id) and the relationship back to Account (step 4)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
