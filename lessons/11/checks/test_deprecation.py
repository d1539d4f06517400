"""Lesson 11 checks, step 2: v1 is deprecated, in its OpenAPI document and on every response it sends.

The checks set the dates and the guide through the settings (LEDGER_API_V1_*), so the headers must
come from there: `Deprecation: @<Unix seconds>` (RFC 9745), `Sunset: <HTTP-date>` (RFC 8594) and a
`Link` to the migration guide with rel="deprecation".
"""

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from workshop.grading import load

from .conftest import Ledger, explain, lesson_error, signed_in

pytestmark = pytest.mark.step(2)

DEPRECATED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SUNSET_AT = datetime(2027, 7, 4, 12, 0, tzinfo=UTC)
GUIDE = "https://docs.example.test/ledger/moving-to-v2"
SETTINGS = {"api_v1_deprecated_at": DEPRECATED_AT, "api_v1_sunset_at": SUNSET_AT, "api_v1_migration_guide": GUIDE}
EXPECTED = {
    "deprecation": f"@{int(DEPRECATED_AT.timestamp())}",
    "sunset": "Sun, 04 Jul 2027 12:00:00 GMT",
}


def problems_with(response: httpx.Response) -> list[str]:
    """What is missing or wrong in a v1 response's deprecation headers."""
    found = []
    for name, value in EXPECTED.items():
        if response.headers.get(name) != value:
            found.append(f"{name.capitalize()}: {response.headers.get(name)!r} (expected {value!r})")
    link = response.headers.get("link", "")
    if GUIDE not in link or 'rel="deprecation"' not in link:
        found.append(f'Link: {link!r} (expected <{GUIDE}>; rel="deprecation")')
    return found


def test_the_headers_are_written_as_the_rfcs_say(app_env: str) -> None:
    """Hint: Deprecation is `@` and integer Unix seconds (RFC 9745); Sunset an HTTP-date (`email.utils`)."""
    headers = load("app.core.deprecation").deprecation_headers(DEPRECATED_AT, SUNSET_AT, GUIDE)
    wrong = [
        f"{name}: {headers.get(name)!r} (expected {value!r})"
        for name, value in {"Deprecation": EXPECTED["deprecation"], "Sunset": EXPECTED["sunset"]}.items()
        if headers.get(name) != value
    ]
    link = headers.get("Link", "")
    if not link.startswith(f"<{GUIDE}>") or 'rel="deprecation"' not in link:
        wrong.append(f'Link: {link!r} (expected <{GUIDE}>; rel="deprecation"; …)')
    assert not wrong, (
        f"Lesson 11: deprecation_headers({DEPRECATED_AT.isoformat()}, {SUNSET_AT.isoformat()}, …) gave "
        f"{'; '.join(wrong)}. "
        "Clients parse these: Deprecation is a structured-field date, Sunset an HTTP-date in GMT (step 2)"
    )


def test_dates_set_with_an_offset_are_written_as_the_same_instant(app_env: str) -> None:
    """Hint: the settings keep the offset they were given (+02:00): an HTTP-date is in GMT, so convert first."""
    paris = timezone(timedelta(hours=2))
    deprecated_at, sunset_at = DEPRECATED_AT.astimezone(paris), SUNSET_AT.astimezone(paris)
    headers = load("app.core.deprecation").deprecation_headers(deprecated_at, sunset_at, GUIDE)
    wrong = [
        f"{name}: {headers.get(name)!r} (expected {value!r})"
        for name, value in {"Deprecation": EXPECTED["deprecation"], "Sunset": EXPECTED["sunset"]}.items()
        if headers.get(name) != value
    ]
    assert not wrong, (
        f"Lesson 11: deprecation_headers({deprecated_at.isoformat()}, {sunset_at.isoformat()}, …), the same instants "
        f"as {DEPRECATED_AT.isoformat()} and {SUNSET_AT.isoformat()} given with an offset, gave {'; '.join(wrong)}: "
        "an HTTP-date is always GMT, so a time set with +02:00 written as it is says GMT and is two hours off. "
        "Convert the moment to UTC before writing it (step 2)"
    )


def test_every_v1_operation_and_no_v2_one_is_deprecated_in_openapi(app_env: str) -> None:
    """Hint: `include_router(v1.router, prefix="/api/v1", deprecated=True)`: one place marks them all."""
    document = load("app.main").create_app().openapi()
    wrong = [
        f"{method.upper()} {path}"
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if path.startswith(("/api/v1/", "/api/v2/"))
        and bool(operation.get("deprecated")) != path.startswith("/api/v1/")
    ]
    assert not wrong, (
        f"Lesson 11: in the OpenAPI document {wrong[:3]} {'are' if len(wrong) > 1 else 'is'} marked wrongly: every v1 "
        "operation is deprecated (Swagger UI strikes it through, generated clients warn), no v2 one (step 2)"
    )


async def test_v1_success_carries_deprecation_sunset_and_link(ledger: Ledger) -> None:
    """Hint: the headers come from the settings, on every response under /api/v1/."""
    async with ledger(**SETTINGS) as http:
        ada = await signed_in(http, "ada")
        response = await http.get("/api/v1/users/me", headers=ada.headers)
    if response.status_code != 200:
        raise lesson_error(f"GET /api/v1/users/me answered {explain(response)} (step 2)")
    wrong = problems_with(response)
    assert not wrong, (
        f"Lesson 11: a v1 response (GET /api/v1/users/me, 200) carries {'; '.join(wrong)}: every v1 response tells "
        "its client when v1 was deprecated, when it goes, and where to read how to move (step 2)"
    )


@pytest.mark.parametrize("case", ["401", "422", "404-no-route"])
async def test_v1_errors_carry_the_deprecation_headers_too(ledger: Ledger, case: str) -> None:
    """Hint: a route dependency sets headers only on what its route returns; a middleware sees every response."""
    async with ledger(**SETTINGS) as http:
        if case == "401":
            what, response = "GET /api/v1/accounts without a token", await http.get("/api/v1/accounts")
        elif case == "422":
            what, response = "POST /api/v1/users with no body", await http.post("/api/v1/users", json={})
        else:
            what, response = "GET /api/v1/no-such-route", await http.get("/api/v1/no-such-route")
    wrong = problems_with(response)
    assert not wrong, (
        f"Lesson 11: {what} answered {response.status_code} with {'; '.join(wrong)}: the client whose requests fail "
        "is the one most in need of the news. Every v1 response carries the headers, errors included (step 2)"
    )


async def test_v2_responses_carry_no_deprecation(ledger: Ledger) -> None:
    """Hint: the middleware looks at the path: /api/v1/ only."""
    async with ledger(**SETTINGS) as http:
        ada = await signed_in(http, "ada")
        # Routes v2 had before this lesson's steps 3 and 4: this step is checked on its own.
        me = await http.get("/api/v2/users/me", headers=ada.headers)
        opened = await http.post("/api/v2/accounts", json={"owner": ada.email, "currency": "EUR"}, headers=ada.headers)
    marked = [r.request.url.path for r in (me, opened) if "deprecation" in r.headers or "sunset" in r.headers]
    assert not marked, (
        f"Lesson 11: {marked[0]} answered with a Deprecation or Sunset header: v2 is the version clients move to; "
        "only v1's responses are marked (step 2)"
    )
