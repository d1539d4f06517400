"""Lesson 06 checks, step 2: the app mounts /api/v1, describes itself in OpenAPI 3.1, and answers CORS.

Every check here starts your app with its lifespan and talks to it over HTTP (`httpx.ASGITransport`).
"""

from typing import Any

import pytest

from workshop.grading import load

from .conftest import Ledger, expect_status

pytestmark = pytest.mark.step(2)

FRONTEND = "http://localhost:5173"
# A second origin of the settings, in no example: the middleware must read settings.cors_origins.
STAGING_FRONTEND = "https://web.staging.ledger.example"
STRANGER = "https://evil.example"
ORIGIN_HEADER = "access-control-allow-origin"
CREDENTIALS_HEADER = "access-control-allow-credentials"

# Every v1 operation: its success status and the error statuses it documents.
OPERATIONS = {
    ("post", "/api/v1/accounts"): ("201", {"422"}),
    ("get", "/api/v1/accounts"): ("200", {"422"}),
    ("get", "/api/v1/accounts/{account_id}"): ("200", {"404", "422"}),
    ("post", "/api/v1/accounts/{account_id}/deposits"): ("201", {"404", "422"}),
    ("get", "/api/v1/accounts/{account_id}/entries"): ("200", {"404", "422"}),
    ("post", "/api/v1/transfers"): ("201", {"404", "409", "422"}),
}


async def openapi(ledger: Ledger) -> dict[str, Any]:
    async with ledger() as http:
        response = await http.get("/openapi.json")
    expect_status(response, 200, "GET /openapi.json", 2, "with the OpenAPI document")
    document: dict[str, Any] = response.json()
    return document


async def test_the_openapi_document_is_version_3_1_and_describes_the_api(ledger: Ledger) -> None:
    """Hint: FastAPI writes OpenAPI 3.1; give `FastAPI(...)` a `description=` that tells a client how to use the API."""
    document = await openapi(ledger)
    version = str(document.get("openapi", ""))
    assert version.startswith("3.1."), f"Lesson 06: /openapi.json says openapi {version!r}; expected 3.1.x (step 2)"
    info = document.get("info", {})
    assert info.get("title") == "Ledger" and info.get("version") == load("app").__version__, (
        f"Lesson 06: the document's info has title {info.get('title')!r} and version {info.get('version')!r}; "
        f"expected 'Ledger' and app.__version__ ({load('app').__version__!r}): pass version=__version__ (step 2)"
    )
    assert len(str(info.get("description", "")).strip()) >= 40, (
        "Lesson 06: the API has no description (or a very short one); pass FastAPI(description=…): say that "
        "amounts are integer minor units and what an error looks like (step 2)"
    )


async def test_the_v1_routes_are_mounted_under_api_v1(ledger: Ledger) -> None:
    """Hint: `app.include_router(v1.router, prefix="/api/v1")`: the version lives in the path."""
    paths = (await openapi(ledger)).get("paths", {})
    missing = [(method, path) for method, path in OPERATIONS if method not in paths.get(path, {})]
    slashed = [f"{method.upper()} {path}/" for method, path in missing if method in paths.get(path + "/", {})]
    assert not slashed, (
        f"Lesson 06: /openapi.json has {', '.join(slashed)} with a trailing slash, so a request without it gets "
        'a 307 redirect; under the router\'s prefix declare the path as "", not "/" (step 3)'
    )
    elsewhere = sorted(
        f"{method.upper()} {other}"
        for method, path in missing
        for other, item in paths.items()
        if method in item and other != path and other.endswith(path.removeprefix("/api/v1"))
    )
    assert not missing, (
        f"Lesson 06: /openapi.json has no {', '.join(f'{m.upper()} {p}' for m, p in missing)}"
        + (f" (it has {', '.join(elsewhere)} instead)" if elsewhere else "")
        + '; include v1.router in create_app with prefix="/api/v1" (step 2)'
    )
    assert "get" in paths.get("/health", {}), "Lesson 06: GET /health is gone; keep including health.router (step 2)"


async def test_every_tag_is_described(ledger: Ledger) -> None:
    """Hint: `FastAPI(openapi_tags=[{"name": "accounts", "description": "…"}, …])`, one entry per router tag."""
    document = await openapi(ledger)
    described = {tag.get("name"): tag.get("description") for tag in document.get("tags", [])}
    used = {tag for item in document.get("paths", {}).values() for op in item.values() for tag in op.get("tags", [])}
    undescribed = sorted(tag for tag in used if not described.get(tag))
    assert not undescribed, (
        f"Lesson 06: the tag(s) {', '.join(undescribed)} have no description; list each in "
        "FastAPI(openapi_tags=[{'name': …, 'description': …}]) (step 2)"
    )


async def test_every_v1_route_documents_its_response_and_its_errors(ledger: Ledger) -> None:
    """Hint: read the decorators in app/routers/v1/: `status_code`, the return type, `summary`, `responses=`."""
    paths = (await openapi(ledger)).get("paths", {})
    problems: list[str] = []
    for (method, path), (success, errors) in OPERATIONS.items():
        operation = paths.get(path, {}).get(method)
        name = f"{method.upper()} {path}"
        if operation is None:
            problems.append(f"{name} is missing")
            continue
        responses = operation.get("responses", {})
        if not operation.get("tags"):
            problems.append(f"{name} has no tag")
        if not operation.get("summary") or not operation.get("description"):
            problems.append(f"{name} has no summary or description (docstring)")
        schema = responses.get(success, {}).get("content", {}).get("application/json", {}).get("schema", {})
        if not schema.get("$ref"):
            problems.append(f"{name} has no {success} response with a response model")
        for status in sorted(errors):
            ref = responses.get(status, {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            if not str(ref).endswith("/ErrorBody"):
                problems.append(f"{name} does not document {status} with the ErrorBody model")
    assert not problems, f"Lesson 06: {'; '.join(problems)} (step 2)"


async def test_docs_and_redoc_serve_html(ledger: Ledger) -> None:
    """Hint: FastAPI serves both by default; do not pass docs_url=None or redoc_url=None."""
    async with ledger() as http:
        pages = {path: await http.get(path) for path in ("/docs", "/redoc")}
    for path, page in pages.items():
        assert page.status_code == 200 and page.headers.get("content-type", "").startswith("text/html"), (
            f"Lesson 06: GET {path} answered {page.status_code} {page.headers.get('content-type')}; "
            "expected an HTML page: FastAPI serves /docs and /redoc unless docs_url or redoc_url is None (step 2)"
        )


def preflight(origin: str) -> dict[str, str]:
    """What a browser sends before a cross-origin POST with a JSON body and an Idempotency-Key."""
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, idempotency-key",
    }


async def test_an_allowed_origin_may_post_a_transfer(ledger: Ledger) -> None:
    """Hint: `app.add_middleware(CORSMiddleware, allow_origins=…, allow_methods=…, allow_headers=…)`."""
    async with ledger(cors_origins=[FRONTEND, STAGING_FRONTEND]) as http:
        answers = {
            origin: await http.options("/api/v1/transfers", headers=preflight(origin))
            for origin in (FRONTEND, STAGING_FRONTEND)
        }
    for origin, response in answers.items():
        allowed = response.headers.get(ORIGIN_HEADER)
        assert allowed == origin, (
            f"Lesson 06: with cors_origins=[{FRONTEND!r}, {STAGING_FRONTEND!r}], a preflight from {origin} got "
            f"Access-Control-Allow-Origin {allowed!r} (status {response.status_code}: {response.text[:80]}); "
            f"expected {origin!r}: add CORSMiddleware with allow_origins=settings.cors_origins, the origins of the "
            "settings, not a list of your own (step 2)"
        )
        assert response.status_code == 200, (
            f"Lesson 06: the preflight of a POST with Content-Type and Idempotency-Key answered "
            f"{response.status_code} {response.text!r}; allow those methods and headers (step 2)"
        )


async def test_a_browser_may_read_the_replay_header(ledger: Ledger) -> None:
    """Hint: a browser hides every response header but a few safe ones from the page, unless the API exposes it."""
    async with ledger(cors_origins=[FRONTEND]) as http:
        response = await http.get("/openapi.json", headers={"Origin": FRONTEND})
    exposed = [name.strip().lower() for name in response.headers.get("access-control-expose-headers", "").split(",")]
    assert "idempotent-replayed" in exposed, (
        f"Lesson 06: an answer to {FRONTEND} exposes the headers {exposed if any(exposed) else 'none'}; the page "
        "that sent a transfer cannot read Idempotent-Replayed. Expose it with expose_headers (step 2)"
    )


async def test_another_origin_gets_no_cors_header(ledger: Ledger) -> None:
    """Hint: list origins exactly; a browser then blocks every other site from reading the answers."""
    async with ledger(cors_origins=[FRONTEND]) as http:
        answers = [
            await http.options("/api/v1/transfers", headers=preflight(STRANGER)),
            await http.get("/openapi.json", headers={"Origin": STRANGER}),
        ]
    allowed = [
        answer.headers[ORIGIN_HEADER]
        + (" with Access-Control-Allow-Credentials: true" if answer.headers.get(CREDENTIALS_HEADER) == "true" else "")
        for answer in answers
        if ORIGIN_HEADER in answer.headers
    ]
    assert not allowed, (
        f"Lesson 06: with cors_origins=[{FRONTEND!r}], a request from {STRANGER} got Access-Control-Allow-Origin: "
        f"{allowed[0]}; pass allow_origins=settings.cors_origins, not '*' (step 2)"
    )


async def test_a_wildcard_origin_never_comes_with_credentials(ledger: Ledger) -> None:
    """Hint: with `"*"` and allow_credentials=True, Starlette echoes any site back as allowed, cookies included."""
    async with ledger(cors_origins=["*"]) as http:
        response = await http.get("/openapi.json", headers={"Origin": STRANGER, "Cookie": "session=secret"})
    credentials = response.headers.get(CREDENTIALS_HEADER)
    assert credentials != "true", (
        f"Lesson 06: with cors_origins=['*'], a request from {STRANGER} got Access-Control-Allow-Credentials: true "
        f"with Access-Control-Allow-Origin: {response.headers.get('access-control-allow-origin')}: any site could act "
        "with the user's cookies. Never allow credentials with a wildcard (step 2)"
    )


async def test_health_still_answers(ledger: Ledger) -> None:
    """Hint: keep `app.include_router(health.router)`; load balancers still ask /health."""
    async with ledger() as http:
        response = await http.get("/health")
    expect_status(response, 200, "GET /health", 2, "from the health router: keep including health.router")
