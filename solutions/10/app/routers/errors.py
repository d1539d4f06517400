"""From domain errors to HTTP: one handler, one error body.

Services raise `DomainError`s and know nothing of HTTP. This module is the one place that
decides which status each of them gets, so a new error needs one line here and no route changes.
Request validation errors (a missing field, a bad UUID, a negative amount) keep FastAPI's 422
and get the same body shape, with one entry per invalid field.

Every domain error is logged (lesson 10): its code and status, with the request's id, never the
request's headers or body (they carry passwords and tokens).

A 401 carries `WWW-Authenticate: Bearer` (RFC 6750): it tells the client which credentials to send.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.schemas.common import ErrorBody, ErrorDetail, FieldProblem
from app.services.errors import (
    AccountNotFound,
    CurrencyMismatch,
    DomainError,
    EmailTaken,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidCredentials,
    NotAuthenticated,
    RateServiceUnavailable,
    SameAccount,
)

logger = logging.getLogger(__name__)

# What each status means in this API: the routes document their errors with these.
ERROR_DESCRIPTIONS = {
    status.HTTP_401_UNAUTHORIZED: "No valid access token (or, logging in, a wrong email or password). "
    "Log in at POST /api/v1/auth/token and send `Authorization: Bearer <token>`.",
    # Another user's account is answered as one that does not exist: a 403 would confirm that it does.
    status.HTTP_404_NOT_FOUND: "None of your accounts has this id.",
    status.HTTP_409_CONFLICT: "The request conflicts with the ledger's state: not enough money, "
    "an Idempotency-Key reused for a different transfer, or an email that has a user already.",
    status.HTTP_422_UNPROCESSABLE_CONTENT: "The request is not valid: a field is missing, unknown or malformed, "
    "or a business rule refuses it.",
    status.HTTP_503_SERVICE_UNAVAILABLE: "A service Ledger depends on (the exchange-rate service) cannot answer now; "
    "try again later.",
}


# The challenge a 401 answers with (RFC 6750, section 3).
CHALLENGE_HEADER = "WWW-Authenticate"
WWW_AUTHENTICATE = {CHALLENGE_HEADER: {"description": "`Bearer`: send an access token.", "schema": {"type": "string"}}}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each error status it can answer, with the ErrorBody model."""
    documented: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        documented[code] = {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]}
        if code == status.HTTP_401_UNAUTHORIZED:
            documented[code]["headers"] = WWW_AUTHENTICATE
    return documented


def status_for(error: DomainError) -> int:
    """The HTTP status of a domain error."""
    match error:
        case InvalidCredentials() | NotAuthenticated():
            return status.HTTP_401_UNAUTHORIZED
        case AccountNotFound():
            return status.HTTP_404_NOT_FOUND
        case InsufficientFunds() | IdempotencyConflict() | EmailTaken():
            return status.HTTP_409_CONFLICT
        case InvalidAmount() | SameAccount() | CurrencyMismatch():
            return status.HTTP_422_UNPROCESSABLE_CONTENT
        case RateServiceUnavailable():
            return status.HTTP_503_SERVICE_UNAVAILABLE
        case _:  # a rule the service added later: refused, but not the client's syntax
            return status.HTTP_422_UNPROCESSABLE_CONTENT


def challenge_for(error: DomainError) -> str | None:
    """The WWW-Authenticate value of a 401 (RFC 6750, section 3); None for every other error."""
    match error:
        case NotAuthenticated(token_sent=True):
            return 'Bearer error="invalid_token"'
        case NotAuthenticated() | InvalidCredentials():
            return "Bearer"
        case _:
            return None


def log_domain_error(error: DomainError, status_code: int) -> None:
    """One line per domain error, with the request's id (the log filter adds it); never headers or body."""
    ### BEGIN SOLUTION log the error: a message, with its code and the status in `extra` (warning for 5xx, info otherwise); never the request's headers or body (step 2)
    ### STUB
    level = logging.WARNING if status_code >= 500 else logging.INFO
    logger.log(level, "domain error", extra={"code": error.code, "status": status_code})
    ### END SOLUTION


async def domain_error_handler(request: Request, error: DomainError) -> JSONResponse:
    """Answer a DomainError with its status and `{"error": {"code", "message"}}`; a 401 with its challenge."""
    status_code = status_for(error)
    log_domain_error(error, status_code)
    body = ErrorBody(error=ErrorDetail(code=error.code, message=error.message))
    challenge = challenge_for(error)
    headers = {CHALLENGE_HEADER: challenge} if challenge is not None else None
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status_code, headers=headers)


async def validation_error_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    """Answer an invalid request with 422 and one FieldProblem per invalid field."""
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


def add_error_handlers(app: FastAPI) -> None:
    """Register the two handlers: one for every DomainError, one for invalid requests."""
    # The decorator form, called directly: it accepts handlers typed for their own exception class.
    app.exception_handler(DomainError)(domain_error_handler)
    app.exception_handler(RequestValidationError)(validation_error_handler)
