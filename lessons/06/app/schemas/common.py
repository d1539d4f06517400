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

    raise NotImplementedError("Lesson 06: declare Page's fields: items (a list of T), limit and offset (step 1)")


class FieldProblem(BaseModel):
    """One invalid part of a request: where it is, and what is wrong with it."""

    location: str = Field(examples=["body.amount"])
    message: str = Field(examples=["Input should be greater than 0"])
    type: str = Field(examples=["greater_than"])


class ErrorDetail(BaseModel):
    """What went wrong: a stable code for programs, a sentence for people."""

    raise NotImplementedError("Lesson 06: declare ErrorDetail's fields: code, message, and an optional list of FieldProblem (step 1)")


class ErrorBody(BaseModel):
    """The body of every error response: `{"error": {"code": …, "message": …}}`."""

    error: ErrorDetail
