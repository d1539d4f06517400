"""DTOs every endpoint shares: a page of results and the error body.

Every error the API answers has the same shape, so a client parses one thing:

    {"error": {"code": "insufficient_funds", "message": "…"}}
"""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

# Page sizes a client may ask for; a larger limit is a 422, not a slow query.
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# PostgreSQL's OFFSET is a bigint: a larger offset is a 422 here, not a database error (a 500).
MAX_OFFSET = 2**63 - 1


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, and the limit and offset that produced it."""

    items: list[T]
    limit: int = Field(description="The most items this page could hold.")
    offset: int = Field(description="How many items come before this page.")


class FieldProblem(BaseModel):
    """One invalid part of a request: where it is, and what is wrong with it."""

    location: str = Field(examples=["body.amount"])
    message: str = Field(examples=["Input should be greater than 0"])
    type: str = Field(examples=["greater_than"])


class ErrorDetail(BaseModel):
    """What went wrong: a stable code for programs, a sentence for people."""

    code: str = Field(examples=["insufficient_funds"])
    message: str = Field(examples=["account 0190… holds 500, cannot send 800"])
    details: list[FieldProblem] | None = Field(default=None, description="Each invalid field, for a 422.")


class ErrorBody(BaseModel):
    """The body of every error response: `{"error": {"code": …, "message": …}}`."""

    error: ErrorDetail
