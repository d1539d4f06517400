"""DTOs of the transfers endpoint."""

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.accounts import Amount


class TransferCreate(BaseModel):
    """What a client sends to move money from one account to another of the same currency."""

    model_config = ConfigDict(extra="forbid")

    source_id: uuid.UUID
    target_id: uuid.UUID
    amount: Amount


class TransferRead(BaseModel):
    """A transfer as the API shows it; a replay with the same Idempotency-Key shows the same one."""

    model_config = ConfigDict(from_attributes=True)

    transfer_id: uuid.UUID
    source_id: uuid.UUID
    target_id: uuid.UUID
    amount: int = Field(description="Minor units (cents).")
    currency: str
