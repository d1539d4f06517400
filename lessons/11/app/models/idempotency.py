"""An idempotency key remembers which transfer a client's request made, so a retry cannot pay twice."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    # The primary key is the guard: two requests with one key cannot both insert it.
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    # A fingerprint of the request (source, target, amount): the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(Text)
    transfer_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def __repr__(self) -> str:
        return f"IdempotencyKey(key={self.key!r}, transfer_id={self.transfer_id})"
