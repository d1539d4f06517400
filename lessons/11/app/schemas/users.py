"""DTOs of the users and auth endpoints: sign up, the user as the API shows it, an access token.

What goes out never carries the password or its hash: `UserRead` has no field for either, so
neither can leak into a response, whatever object a route hands it.
"""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# One @, something on each side, no spaces or control characters (PostgreSQL's text cannot hold NUL).
# Whether the mailbox exists is for a confirmation email to find out, not for a regular expression.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"
# OWASP ASVS 2.1.1 and 2.1.2: at least 12 characters; at most 128 keeps one hash from costing too much.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


class UserCreate(BaseModel):
    """What a client sends to sign up."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254, pattern=EMAIL_PATTERN, examples=["ada@example.com"])
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description=f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters. Stored only as an Argon2id hash.",
        examples=["correct horse battery staple"],
    )


class UserRead(BaseModel):
    """A user as the API shows it: never the password, never its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    created_at: datetime


class Token(BaseModel):
    """An OAuth2 access token response (RFC 6749, section 5.1): send `Authorization: Bearer <access_token>`."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires; then log in again.")
