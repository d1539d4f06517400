"""Lesson 11 checks, step 3: v2 answers errors as problem details (RFC 9457); v1 keeps its own body."""

import json
import uuid
from typing import Any

import httpx
import pytest

from workshop.grading import load

from .conftest import PROBLEM_JSON, Ledger, explain, json_of, lesson_error, signed_in

pytestmark = pytest.mark.step(3)

MEMBERS = ("type", "title", "status", "detail", "instance")


def expect_problem(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    """The body of a problem+json answer with `status`; a lesson error naming what is missing otherwise."""
    if response.status_code != status:
        raise lesson_error(f"{what} answered {explain(response)}; expected {status} (step 3)")
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media != PROBLEM_JSON:
        raise lesson_error(
            f"{what} answered with Content-Type {media or 'none'}; a problem detail is sent as {PROBLEM_JSON} "
            "(RFC 9457): that media type is how a client knows the body is a problem (step 3)"
        )
    body = json_of(response)
    missing = [member for member in MEMBERS if not isinstance(body, dict) or member not in body]
    if missing:
        raise lesson_error(
            f"{what} answered {response.text[:200]}; a problem detail needs {', '.join(missing)} (step 3)"
        )
    return dict(body)


async def test_a_v2_error_is_a_problem_detail_of_that_request(ledger: Ledger) -> None:
    """Hint: `problem()`: type from the code, title, status, detail, and instance = the request's path."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        path = f"/api/v2/accounts/{uuid.uuid4()}"
        response = await http.get(path, headers=ada.headers)
    body = expect_problem(response, 404, f"GET {path} (no such account)")
    assert body["status"] == 404, f"Lesson 11: a 404 problem says status {body['status']!r}; expected 404 (step 3)"
    assert body["instance"] == path, (
        f"Lesson 11: the problem's instance is {body['instance']!r}; expected the request's path, {path!r}: instance "
        "identifies this occurrence, type identifies the kind of problem (step 3)"
    )
    assert isinstance(body["type"], str) and "not-found" in body["type"], (
        f"Lesson 11: the problem's type is {body['type']!r}; expected a URI naming the kind of problem, built from "
        "the error's code (account_not_found → …/account-not-found) (step 3)"
    )


async def test_a_v2_validation_problem_lists_every_invalid_field(ledger: Ledger) -> None:
    """Hint: the 422 problem carries `errors`: one {location, message, type} per invalid field."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        response = await http.post("/api/v2/accounts", json={"owner": "", "currency": "euro"}, headers=ada.headers)
    body = expect_problem(response, 422, "POST /api/v2/accounts with an empty owner and currency 'euro'")
    errors = body.get("errors")
    locations = {str(error.get("location")) for error in errors or [] if isinstance(error, dict)}
    assert {"body.owner", "body.currency"} <= locations, (
        f"Lesson 11: a 422 problem for two invalid fields lists {sorted(locations) or 'none'} in errors; expected "
        "body.owner and body.currency: a client fixes every field in one round trip (step 3)"
    )


async def test_a_v2_validation_problem_never_repeats_the_input(ledger: Ledger) -> None:
    """Hint: each error is its location, message and type; what the client sent stays out of the answer."""
    password = "tiny-secret"  # too short (12 at least): invalid, and exactly what must not come back
    async with ledger() as http:
        response = await http.post("/api/v2/users", json={"email": "ada@example.com", "password": password})
    body = expect_problem(response, 422, "POST /api/v2/users with a password of 11 characters")
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    echoed = [error for error in errors if password in json.dumps(error)]
    place = f"in errors ({json.dumps(echoed[0])[:200]})" if echoed else f"in its body ({response.text[:200]})"
    assert password not in response.text, (
        f"Lesson 11: a v2 422 problem for a too-short password repeats the password {place}: error bodies end up "
        "in logs, proxies and browser consoles, and the input of an invalid request is often a password or a "
        "token. List each field's location, message and type, never the input (step 3)"
    )


async def test_a_v2_401_is_a_problem_with_its_challenge(ledger: Ledger) -> None:
    """Hint: the problem handler keeps the WWW-Authenticate header that v1's handler sets."""
    async with ledger() as http:
        response = await http.get("/api/v2/accounts")
    expect_problem(response, 401, "GET /api/v2/accounts without a token")
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), (
        f"Lesson 11: a v2 401 came without WWW-Authenticate (got {response.headers.get('www-authenticate')!r}): "
        "the challenge tells the client to send a bearer token (RFC 6750) in v2 as in v1 (step 3)"
    )


async def test_v1_errors_keep_v1s_body(ledger: Ledger) -> None:
    """Hint: the handlers answer a problem under /api/v2/ only; everything else goes to v1's handlers."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        response = await http.get(f"/api/v1/accounts/{uuid.uuid4()}", headers=ada.headers)
    body = json_of(response)
    error = body.get("error") if isinstance(body, dict) else None
    assert response.status_code == 404 and isinstance(error, dict) and error.get("code") == "account_not_found", (
        f"Lesson 11: GET /api/v1/accounts/<unknown id> answered {explain(response)}; v1 clients still expect "
        '404 {"error": {"code": "account_not_found", …}}: v1 is deprecated, not broken (step 3)'
    )


def test_v2_documents_its_errors_as_problem_json(app_env: str) -> None:
    """Hint: `problem_responses()` documents each status under the application/problem+json media type."""
    document = load("app.main").create_app().openapi()
    undocumented = []
    for path, item in document.get("paths", {}).items():
        if not path.startswith("/api/v2/"):
            continue
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("4") and PROBLEM_JSON not in response.get("content", {}):
                    undocumented.append(f"{method.upper()} {path} {status}")
    assert not undocumented, (
        f"Lesson 11: the OpenAPI document gives these v2 errors no {PROBLEM_JSON} body: {undocumented[:4]}: clients "
        "(and schemathesis) check answers against the document (step 3)"
    )
