"""A user signs up with an email and a password, and owns accounts. The password itself is never stored."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, uuid7

# The longest address SMTP can deliver (RFC 5321: a 254-character path).
MAX_EMAIL_LENGTH = 254


class User(Base):
    __tablename__ = "users"

    raise NotImplementedError("Lesson 09: declare the columns of users: a UUIDv7 id, the email, the password hash, created_at (step 1)")

    def __repr__(self) -> str:
        # Never the hash: a repr ends up in log lines and tracebacks.
        return f"User(id={self.id}, email={self.email!r})"


raise NotImplementedError("Lesson 09: make emails unique whatever their case: a unique index on lower(email) (step 1)")
