"""DTOs of the transfers endpoint."""

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.accounts import Amount


class TransferCreate(BaseModel):
    """What a client sends to move money from one account to another of the same currency."""

    raise NotImplementedError("Lesson 06: forbid unknown fields; source_id and target_id are UUIDs, amount is an Amount (step 1)")


class TransferRead(BaseModel):
    """A transfer as the API shows it; a replay with the same Idempotency-Key shows the same one."""

    raise NotImplementedError("Lesson 06: read from attributes: transfer_id, source_id, target_id, amount and currency (step 1)")
