"""DTOs of the accounts endpoints: what a client sends, and what it gets back.

Input models forbid unknown fields, so a typo (`"ammount"`) is a 422, not a silently ignored
value. Amounts are strict integers in minor units (cents): `10.5`, `"10"` and `true` are refused.
Read models are built from the service's objects by attribute (`from_attributes=True`); this
module never imports the database models.
"""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Far below PostgreSQL's bigint limit, so a huge number is a 422, never a database error.
MAX_AMOUNT = 10**12

# A positive amount in minor units. strict=True: JSON "10" (a string) and 10.5 are refused.
Amount = Annotated[int, Field(strict=True, gt=0, le=MAX_AMOUNT, description="Minor units (cents), > 0.")]


class AccountCreate(BaseModel):
    """What a client sends to open an account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # No control characters: PostgreSQL's text cannot hold NUL (\x00), and no name has a tab or a newline.
    owner: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$", examples=["Ada Lovelace"])
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.", examples=["EUR"])


class AccountRead(BaseModel):
    """An account as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner: str
    currency: str
    balance: int = Field(description="Minor units (cents); never negative.")
    created_at: datetime


class DepositCreate(BaseModel):
    """What a client sends to pay money into an account."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount


class EntryRead(BaseModel):
    """One line of an account's statement: money in (positive) or out (negative)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    amount: int = Field(description="Minor units; negative when money left the account.")
    transfer_id: uuid.UUID | None = Field(description="Shared by both entries of a transfer; null for a deposit.")
    created_at: datetime
