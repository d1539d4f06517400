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

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    # Stored as the user typed it; unique whatever its case (the index below), and looked up by lower(email).
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    # A PHC string such as $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>: the algorithm and its parameters
    # travel with the hash, so a hash made with weaker parameters can be recognised and replaced.
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def __repr__(self) -> str:
        # Never the hash: a repr ends up in log lines and tracebacks.
        return f"User(id={self.id}, email={self.email!r})"


# Ada@Example.com and ada@example.com are one mailbox, so one user: the database refuses the second,
# even when two sign-ups race. A lookup by lower(email) uses this index too.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
