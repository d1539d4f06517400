"""Lesson 09 checks, step 5: `CurrentUser` turns a bearer token into a user, or the request into a 401.

Over HTTP, on your app (`ledger`). The protected route tried with bad tokens is GET /api/v1/accounts:
its service depends on `CurrentUser`, so the 401 comes before any of step 6's code runs.
"""

import json
import uuid
from typing import Any

import pytest

from .conftest import (
    FORGED_WHAT,
    TOKEN_URL,
    Ledger,
    error_code,
    expect_status,
    explain,
    forge,
    lesson_error,
    signed_for,
    signed_in,
)

pytestmark = pytest.mark.step(5)

BAD_TOKENS = ["no-token", "malformed", "tampered", "expired", "alg-none", "another-key", "unknown-user"]


def headers_for(how: str) -> dict[str, str]:
    match how:
        case "no-token":
            return {}
        case "unknown-user":  # signed with the right key, for a user who does not exist (deleted, say)
            return {"Authorization": f"Bearer {signed_for(uuid.uuid4())}"}
        case _:
            return {"Authorization": f"Bearer {forge(how)}"}


async def test_users_me_answers_the_user_of_the_token(ledger: Ledger) -> None:
    """Hint: `async def read_me(user: CurrentUser) -> UserRead: return UserRead.model_validate(user)`."""
    async with ledger() as http:
        ada = await signed_in(http, "ada")
        response = await http.get("/api/v1/users/me", headers=ada.headers)
    expect_status(response, 200, "GET /api/v1/users/me with a valid token", 5, "with the user of the token")
    body = response.json()
    assert (body.get("id"), body.get("email")) == (ada.id, ada.email), (
        f"Lesson 09: GET /api/v1/users/me answered {response.text[:200]}; expected the user the token was issued "
        f"to, {ada.email} (step 5)"
    )


@pytest.mark.parametrize("how", BAD_TOKENS)
async def test_a_request_without_a_valid_token_answers_401(ledger: Ledger, how: str) -> None:
    """Hint: UserService.current_user raises NotAuthenticated for no token, an InvalidToken, or a user not found."""
    async with ledger() as http:
        response = await http.get("/api/v1/accounts", headers=headers_for(how))
    what = {
        "no-token": "without a token",
        "unknown-user": "with a well-signed token for a user who does not exist",
    }.get(how, f"with {FORGED_WHAT.get(how, how)}")
    expect_status(response, 401, f"GET /api/v1/accounts {what}", 5, 'with {"error": {"code": "not_authenticated"}}')
    assert error_code(response) == "not_authenticated", (
        f"Lesson 09: GET /api/v1/accounts {what} answered {explain(response)}; expected the API's one error "
        'body, {"error": {"code": "not_authenticated", …}}: raise NotAuthenticated in the service, and keep the '
        "scheme's own 401 off (auto_error=False) (step 5)"
    )
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), (
        f"Lesson 09: the 401 {what} carries WWW-Authenticate {challenge or 'nothing'!r}; a 401 must say which "
        "credentials to send (RFC 9110, RFC 6750): WWW-Authenticate: Bearer. challenge_for() gives it (step 5)"
    )
    if how != "no-token":
        assert 'error="invalid_token"' in challenge, (
            f"Lesson 09: the 401 {what} carries WWW-Authenticate {challenge!r}: a token was sent and refused, so "
            "the challenge is 'Bearer error=\"invalid_token\"' (RFC 6750, 3.1), which tells the client to log in "
            "again. current_user raises NotAuthenticated(…, token_sent=True) for every token it refuses (step 5)"
        )


async def test_the_challenge_says_invalid_token_only_when_a_token_was_sent(ledger: Ledger) -> None:
    """Hint: NotAuthenticated(…, token_sent=True) → 'Bearer error="invalid_token"'; without a token, just "Bearer"."""
    async with ledger() as http:
        none = await http.get("/api/v1/accounts")
        bad = await http.get("/api/v1/accounts", headers={"Authorization": f"Bearer {forge('expired')}"})
    expect_status(none, 401, "GET /api/v1/accounts without a token", 5)
    expect_status(bad, 401, "GET /api/v1/accounts with an expired token", 5)
    assert none.headers.get("www-authenticate") == "Bearer", (
        f"Lesson 09: without a token the challenge is {none.headers.get('www-authenticate')!r}; RFC 6750 (3.1): a "
        'request with no credentials gets a plain "Bearer", no error code (step 5)'
    )
    assert 'error="invalid_token"' in bad.headers.get("www-authenticate", ""), (
        f"Lesson 09: with an expired token the challenge is {bad.headers.get('www-authenticate')!r}; expected "
        "'Bearer error=\"invalid_token\"', which tells the client to log in again (step 5)"
    )


async def openapi(ledger: Ledger) -> dict[str, Any]:
    async with ledger() as http:
        response = await http.get("/openapi.json")
    expect_status(response, 200, "GET /openapi.json", 5, "with the OpenAPI document")
    document: dict[str, Any] = response.json()
    return document


async def test_swagger_ui_logs_in_at_the_token_route(ledger: Ledger) -> None:
    """Hint: `OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")`: the path of the token route, from the root."""
    document = await openapi(ledger)
    schemes = document.get("components", {}).get("securitySchemes", {})
    flows = [
        scheme["flows"]["password"]
        for scheme in schemes.values()
        if scheme.get("type") == "oauth2" and "password" in scheme.get("flows", {})
    ]
    assert flows, (
        f"Lesson 09: /openapi.json declares the security schemes {json.dumps(schemes)[:200] or 'none'}; expected "
        "an OAuth2 password flow (OAuth2PasswordBearer), which gives Swagger UI its Authorize button (step 5)"
    )
    token_url = flows[0].get("tokenUrl")
    assert token_url == TOKEN_URL and TOKEN_URL in document.get("paths", {}), (
        f"Lesson 09: the OAuth2 scheme's tokenUrl is {token_url!r}; Swagger UI posts the log-in form there, and "
        f"the token route is at {TOKEN_URL}. A relative 'token' resolves against /docs: /token, a 404 (step 5)"
    )


PUBLIC = {("post", "/api/v1/users"), ("post", TOKEN_URL), ("get", "/health")}


async def test_only_signing_up_logging_in_and_health_need_no_token(ledger: Ledger) -> None:
    """Hint: the account and transfer services depend on CurrentUser, so every route that uses them does too."""
    document = await openapi(ledger)
    operations = {
        (method, path): operation.get("security")
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }
    open_ones = sorted(
        f"{m.upper()} {p}" for (m, p), security in operations.items() if not security and (m, p) not in PUBLIC
    )
    assert not open_ones, (
        f"Lesson 09: {', '.join(open_ones)} ask for no token in /openapi.json: anyone can call them, and Swagger "
        "UI sends no token there. Their dependencies must include CurrentUser (the OAuth2 scheme) (step 5)"
    )
    guarded = sorted(f"{m.upper()} {p}" for (m, p), security in operations.items() if security and (m, p) in PUBLIC)
    assert not guarded, (
        f"Lesson 09: {', '.join(guarded)} ask for a token: nobody could sign up or log in without one (step 5)"
    )


async def test_the_openapi_document_shows_no_password_hash(ledger: Ledger) -> None:
    """Hint: UserRead is the contract of what goes out: id, email, created_at."""
    document = await openapi(ledger)
    text = json.dumps(document)
    schemas = document.get("components", {}).get("schemas", {})
    user_read = schemas.get("UserRead", {}).get("properties", {})
    leaking = sorted(name for name in user_read if "password" in name or "hash" in name)
    assert not leaking and "$argon2" not in text, (
        f"Lesson 09: /openapi.json shows {leaking or 'an Argon2 hash'} in what the API answers: the contract then "
        "promises every client the hash. UserRead has id, email and created_at only (step 5)"
    )
    if not user_read:
        raise lesson_error("/openapi.json has no UserRead schema: POST /api/v1/users should answer one (step 4)")
