"""From domain errors to HTTP: one handler, one error body.

Services raise `DomainError`s and know nothing of HTTP. This module is the one place that
decides which status each of them gets, so a new error needs one line here and no route changes.
Request validation errors (a missing field, a bad UUID, a negative amount) keep FastAPI's 422
and get the same body shape, with one entry per invalid field.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.schemas.common import ErrorBody, ErrorDetail, FieldProblem
from app.services.errors import (
    AccountNotFound,
    CurrencyMismatch,
    DomainError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    SameAccount,
)

# What each status means in this API: the routes document their errors with these.
ERROR_DESCRIPTIONS = {
    status.HTTP_404_NOT_FOUND: "No account has this id.",
    status.HTTP_409_CONFLICT: "The request conflicts with the ledger's state: not enough money, "
    "or an Idempotency-Key reused for a different transfer.",
    status.HTTP_422_UNPROCESSABLE_CONTENT: "The request is not valid: a field is missing, unknown or malformed, "
    "or a business rule refuses it.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each error status it can answer, with the ErrorBody model."""
    return {code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


def status_for(error: DomainError) -> int:
    """The HTTP status of a domain error."""
    ### BEGIN SOLUTION map not found to 404, insufficient funds and idempotency conflicts to 409, the other rule errors to 422 (step 5)
    match error:
        case AccountNotFound():
            return status.HTTP_404_NOT_FOUND
        case InsufficientFunds() | IdempotencyConflict():
            return status.HTTP_409_CONFLICT
        case InvalidAmount() | SameAccount() | CurrencyMismatch():
            return status.HTTP_422_UNPROCESSABLE_CONTENT
        case _:  # a rule the service added later: refused, but not the client's syntax
            return status.HTTP_422_UNPROCESSABLE_CONTENT
    ### END SOLUTION


async def domain_error_handler(request: Request, error: DomainError) -> JSONResponse:
    """Answer a DomainError with its status and `{"error": {"code", "message"}}`."""
    ### BEGIN SOLUTION build an ErrorBody from error.code and error.message; answer it with status_for(error) (step 5)
    body = ErrorBody(error=ErrorDetail(code=error.code, message=error.message))
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status_for(error))
    ### END SOLUTION


async def validation_error_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    """Answer an invalid request with 422 and one FieldProblem per invalid field."""
    ### BEGIN SOLUTION turn each of error.errors() into a FieldProblem; answer 422 with code "validation_error" (step 5)
    # Only location, message and type: echoing the input could leak what a client sent by mistake.
    problems = [
        FieldProblem(
            location=".".join(str(part) for part in problem["loc"]),
            message=problem["msg"],
            type=problem["type"],
        )
        for problem in error.errors()
    ]
    summary = "; ".join(f"{problem.location}: {problem.message}" for problem in problems)
    body = ErrorBody(
        error=ErrorDetail(code="validation_error", message=f"The request is not valid. {summary}", details=problems)
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    ### END SOLUTION


def add_error_handlers(app: FastAPI) -> None:
    """Register the two handlers: one for every DomainError, one for invalid requests."""
    # The decorator form, called directly: it accepts handlers typed for their own exception class.
    app.exception_handler(DomainError)(domain_error_handler)
    app.exception_handler(RequestValidationError)(validation_error_handler)
