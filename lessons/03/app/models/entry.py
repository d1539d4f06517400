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

    raise NotImplementedError("Lesson 03: declare the columns of entries: a non-zero amount, the account, the transfer id (step 4)")
