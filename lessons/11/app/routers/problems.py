"""Errors of API v2 as problem details (RFC 9457), beside v1's `{"error": {…}}` (lesson 11).

The exception handlers of an app are global. These ones look at the request's path: under /api/v2
they answer `application/problem+json`; everywhere else they hand over to v1's handlers
(app/routers/errors.py), so v1 answers exactly what it always answered.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.routers.errors import (
    CHALLENGE_HEADER,
    ERROR_DESCRIPTIONS,
    WWW_AUTHENTICATE,
    challenge_for,
    domain_error_handler,
    log_domain_error,
    status_for,
    validation_error_handler,
)
from app.schemas.problems import PROBLEM_JSON, Problem
from app.services.errors import DomainError

V2_PREFIX = "/api/v2/"
PROBLEM_TYPES = "https://ledger.example/problems/"


def problem_type(code: str) -> str:
    """The `type` URI of an error code: insufficient_funds → https://ledger.example/problems/insufficient-funds."""
    return PROBLEM_TYPES + code.replace("_", "-")


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a v2 route: each error status, documented as application/problem+json."""
    schema = Problem.model_json_schema()
    documented: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        documented[code] = {"description": ERROR_DESCRIPTIONS[code], "content": {PROBLEM_JSON: {"schema": schema}}}
        if code == status.HTTP_401_UNAUTHORIZED:
            documented[code]["headers"] = WWW_AUTHENTICATE
    return documented


def problem(request: Request, status_code: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response for this request."""
    raise NotImplementedError("Lesson 11: build a Problem (type from the code, title, status, detail, instance = the request's path) and answer it with its status and media type application/problem+json (step 3)")


def is_v2(request: Request) -> bool:
    return request.url.path.startswith(V2_PREFIX)


async def domain_problem_handler(request: Request, error: DomainError) -> Response:
    """v2: a DomainError as a problem with the status v1 gives it; v1: v1's own handler."""
    if not is_v2(request):
        return await domain_error_handler(request, error)
    log_domain_error(error, status_for(error))  # one line per domain error, as v1 logs it (lesson 10)
    raise NotImplementedError("Lesson 11: the status of status_for(error), the title from the error's code, the message as detail; a 401 keeps its WWW-Authenticate challenge (step 3)")


async def validation_problem_handler(request: Request, error: RequestValidationError) -> Response:
    """v2: a 422 problem listing every invalid field; v1: v1's own handler."""
    if not is_v2(request):
        return await validation_error_handler(request, error)
    raise NotImplementedError("Lesson 11: a 422 problem whose `errors` lists each invalid field: location, message, type (never the input) (step 3)")


async def http_problem_handler(request: Request, error: StarletteHTTPException) -> Response:
    """v2: a 404 of no route, a 405 of a wrong method, as problems; v1: Starlette's own answer, as before."""
    if not is_v2(request):
        return await http_exception_handler(request, error)
    response = problem(
        request,
        error.status_code,
        f"http_{error.status_code}",
        str(error.detail),
        f"{request.method} {request.url.path}: {error.detail}",
    )
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def add_problem_handlers(app: FastAPI) -> None:
    """Register the handlers above over v1's (call it after add_error_handlers)."""
    app.exception_handler(DomainError)(domain_problem_handler)
    app.exception_handler(RequestValidationError)(validation_problem_handler)
    app.exception_handler(StarletteHTTPException)(http_problem_handler)
