"""DTOs of API v2 that differ from v1's (lesson 11); everything else v2 shares with v1.

v1's AccountRead and Page stay exactly as they are: v1's contract is frozen. v2's account adds
`updated_at`, and v2's pages are keyset pages: the items and an opaque `next_cursor`, no offset.
"""

from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, Field

from app.schemas.accounts import AccountRead as AccountReadV1

T = TypeVar("T")


class AccountReadV2(AccountReadV1):
    """An account as API v2 shows it: v1's fields, and when its balance last changed."""

    # Its own class name, not a second "AccountRead": two models of one name make FastAPI rename both
    # in the OpenAPI document (app__schemas__accounts__AccountRead), and v1's clients see a changed contract.

    updated_at: AwareDatetime = Field(description="When the balance last changed (or the account was opened).")


class CursorPage(BaseModel, Generic[T]):
    """One keyset page: the items, newest first, and the cursor of the next page (null on the last one)."""

    items: list[T]
    next_cursor: str | None = Field(description="Send it back as `cursor` for the next page; opaque and signed.")
