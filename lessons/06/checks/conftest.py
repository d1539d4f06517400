"""Shared by lesson 06's checks: your app, served over real HTTP, on a database rolled back after each check.

`ledger()` builds the app with your `create_app()`, runs its lifespan (as a server would, with
asgi_lifespan's LifespanManager) and gives an `httpx.AsyncClient` that talks to it in-process.
Each request's session is a SAVEPOINT inside this check's own transaction, which is rolled back
when the check ends: checks never see each other's accounts, and nothing is left behind.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop import grading
from workshop.serving import ESCAPED, SERVED_BY, Ledger, ledger_in, where


@pytest.fixture
def ledger(app_env: str, db_connection: AsyncConnection) -> Ledger:
    """`async with ledger(**settings) as http:` — your app, its sessions joined to this check's transaction."""
    return ledger_in(db_connection)


# --- why a response is not what a check expected ------------------------------------------------


@dataclass(frozen=True)
class Served:
    """A FastAPI route as the app serves it: its full path (router prefixes included) and the route itself."""

    path: str
    methods: set[str]
    path_regex: re.Pattern[str]
    route: APIRoute


def served_routes(application: FastAPI) -> list[Served]:
    """Every APIRoute the app serves, through included routers.

    Since FastAPI 0.165 `app.routes` holds an included router as one entry, not its routes.
    """
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # older FastAPI: included routes are copied into app.routes
        found = [(route.path, route.methods, route.path_regex, route) for route in application.routes]
    else:
        found = [(c.path, c.methods, c.path_regex, c.original_route) for c in contexts(application.routes)]
    return [
        Served(path, set(methods or ()), regex, route)
        for path, methods, regex, route in found
        if isinstance(route, APIRoute)
    ]


def _routes(response: httpx.Response) -> list[Served]:
    application = response.extensions.get(SERVED_BY)
    return served_routes(application) if isinstance(application, FastAPI) else []


def _route_with_other_slash(response: httpx.Response) -> str | None:
    """The route that would answer this request's method if its path had (or lacked) a trailing slash."""
    method, path = response.request.method, response.request.url.path
    twin = path.rstrip("/") if path.endswith("/") else path + "/"
    for route in _routes(response):
        if method in route.methods and route.path_regex.match(twin):
            return f"{method} {route.path}"
    return None


def _same_route_elsewhere(response: httpx.Response) -> str | None:
    """A route for this method under another prefix: /accounts or /api/accounts for /api/v1/accounts."""
    method, parts = response.request.method, response.request.url.path.strip("/").split("/")
    tails = ["/" + "/".join(parts[index:]) for index in range(1, len(parts))]
    candidates = [*tails, *("/api" + tail for tail in tails)]
    for route in _routes(response):
        if method in route.methods and any(route.path_regex.match(candidate) for candidate in candidates):
            return f"{method} {route.path}"
    return None


def _body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def explain(response: httpx.Response) -> tuple[str, int | None]:
    """What a response is, in words, and the README step that decides it (None: the check's own).

    The one place that tells a redirect from a missing route, a 404 of the router from a 404 of the
    domain, an HTTPException from the error handler, and a 500 from the exception behind it.
    """
    request, status = response.request, response.status_code
    body = _body(response)
    detail = body.get("detail") if isinstance(body, dict) and set(body) == {"detail"} else None
    error = body.get("error") if isinstance(body, dict) else None
    slashed = _route_with_other_slash(response) if status in (307, 308, 404, 405) else None
    if slashed is not None:
        return (
            f"{status}{' ' + response.text[:60] if response.text else ''}: a trailing slash. The app has {slashed}, "
            f"not {request.method} {request.url.path}: the two paths differ by a '/'. Under the router's prefix "
            'declare the path as "", not "/"',
            3,
        )
    if status in (301, 302, 307, 308):
        return (
            f"{status}, a redirect to {response.headers.get('location')}: a trailing slash. The route is declared "
            f"with a path that ends in '/' (or the request's does and the route's does not), so Starlette redirects "
            f'instead of answering; under a router prefix declare the path as "", not "/"',
            3,
        )
    if status == 404 and detail == "Not Found":
        elsewhere = _same_route_elsewhere(response)
        return (
            f'404 {{"detail": "Not Found"}}: no route matches {request.method} {request.url.path} at all'
            + (f" (the app has {elsewhere})" if elsewhere else "")
            + ". That is the router's 404, not your handler's: "
            + (
                'is v1.router included with prefix="/api/v1"?'
                if request.url.path.startswith("/api/")
                else "is its router included in create_app?"
            ),
            2,
        )
    if status == 405:
        return (
            f"405 Method Not Allowed: {request.url.path} has a route for {response.headers.get('allow', '?')}, "
            f"none for {request.method}. Check the method of the route's decorator (@router.{request.method.lower()})",
            3,
        )
    if status == 422 and isinstance(detail, list):
        first = detail[0] if detail and isinstance(detail[0], dict) else {}
        return (
            f"422 with FastAPI's default body {response.text[:120]} (refused as invalid: {first.get('loc')}: "
            f"{first.get('msg')}): your validation handler did not answer it",
            5,
        )
    if detail is not None:
        return (
            f'{status} {{"detail": {detail!r}}}: that body is an HTTPException\'s, so a route or a dependency '
            f"raised HTTPException({status}). Routes raise nothing: the service's DomainError reaches the one "
            'handler of step 5, which answers {"error": {"code", "message"}}',
            5,
        )
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        code, said = error["code"], str(error.get("message", ""))[:160]
        if status == 404 and code == "account_not_found":
            return f"404 account_not_found ({said}): the domain's 404, the service found no such account", None
        return f"{status} with the error {code!r}: {said}", None
    escaped = response.extensions.get(ESCAPED)
    if status == 500 and isinstance(escaped, BaseException):
        said = grading.unexpected_outcome(escaped) or f"your code raised {type(escaped).__name__}: {escaped}"
        return f"500 because {said[:300]}{where(escaped)}", None
    return f"{status} {response.text[:160]}", None


def expect_status(response: httpx.Response, status: int, what: str, step: int, wanted: str = "") -> None:
    """A teaching assertion: `what` answered `status`; otherwise say what it answered instead, and why."""
    if response.status_code == status:
        return
    said, decided_at = explain(response)
    raise AssertionError(
        f"Lesson 06: {what} answered {said}; expected {status}{' ' + wanted if wanted else ''} "
        f"(step {decided_at or step})"
    )


def error_code(response: httpx.Response) -> object:
    """The `code` in a `{"error": {"code": …, "message": …}}` body, or what stands there instead."""
    body = _body(response)
    if body is None:
        return f"a body that is not JSON: {response.text[:80]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return f"a body without error.code and error.message: {response.text[:120]}"
    return error.get("code")


def expect_error(response: httpx.Response, status: int, code: str, what: str, hint: str = "") -> None:
    """A teaching assertion: `what` answered `status` with the error body carrying `code`; `hint` says where to look."""
    # The hint says where the error comes from; when it came, with only its status wrong, it would mislead.
    came = error_code(response) == code
    wanted = f'with {{"error": {{"code": "{code}", …}}}}' + (f": {hint}" if hint and not came else "")
    expect_status(response, status, what, 5, wanted)
    found = error_code(response)
    if found != code:
        said, decided_at = explain(response)
        raise AssertionError(f"Lesson 06: {what} answered {said}; expected {status} {wanted} (step {decided_at or 5})")
    error = response.json()["error"]
    if code != "validation_error" and set(error) != {"code", "message"}:
        extra = {key: error[key] for key in sorted(set(error) - {"code", "message"})}
        raise AssertionError(
            f"Lesson 06: {what} answered {status} with the error {code!r}, but its body carries {json.dumps(extra)} "
            'besides code and message; a domain error\'s body is exactly {"error": {"code": …, "message": …}}, '
            "as the README documents it: leave out of the dump what is None (step 5)"
        )


async def open_account(http: httpx.AsyncClient, owner: str = "Ada", currency: str = "EUR") -> dict[str, Any]:
    response = await http.post("/api/v1/accounts", json={"owner": owner, "currency": currency})
    expect_status(response, 201, "POST /api/v1/accounts", 3, "with the new account")
    account: dict[str, Any] = response.json()
    return account


async def deposit(http: httpx.AsyncClient, account_id: str, amount: int) -> dict[str, Any]:
    response = await http.post(f"/api/v1/accounts/{account_id}/deposits", json={"amount": amount})
    what = f"a deposit of {amount} (POST /api/v1/accounts/{{id}}/deposits)"
    expect_status(response, 201, what, 3, "with the account")
    account: dict[str, Any] = response.json()
    return account


async def balance(http: httpx.AsyncClient, account_id: str) -> object:
    response = await http.get(f"/api/v1/accounts/{account_id}")
    expect_status(response, 200, "GET /api/v1/accounts/{id} of an account just opened", 3, "with the account")
    return response.json().get("balance")
