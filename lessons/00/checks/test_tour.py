"""Lesson 00 checks: the layer packages, the application object and its health route."""

import ast
import importlib.util
import inspect
import re
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.exceptions import ResponseValidationError

from workshop.grading import load

LAYERS = ["core", "crud", "models", "schemas", "services", "dependencies"]

# Words that say nothing about what a layer holds: a docstring made only of these (and of the
# layer's own name) is a placeholder.
FILLER = {
    "a", "an", "the", "this", "that", "here", "is", "are", "for", "of", "and", "in", "our", "my",
    "app", "apps", "ledger", "layer", "layers", "package", "packages", "module", "modules", "folder",
    "code", "stuff", "things", "files", "goes", "go", "lives", "live", "will", "be", "later",
    "todo", "fixme", "xxx", "tbd", "placeholder", "docstring", "write", "me",
}  # fmt: skip
LAYER_WORDS = {
    "core": {"core"},
    "crud": {"crud", "cruds"},
    "models": {"models", "model"},
    "schemas": {"schemas", "schema"},
    "services": {"services", "service"},
    "dependencies": {"dependencies", "dependency"},
}
# Words that mark a description of one layer in particular (README's table): a docstring with another
# layer's mark and none of its own layer's words describes the wrong layer.
MARKS = {
    "core": {"settings", "configuration", "config"},
    "crud": {"repository", "repositories", "flush", "flushes"},
    "models": {"sqlalchemy", "orm", "table", "tables", "column", "columns"},
    "schemas": {"pydantic", "dto", "dtos"},
    "services": {"business"},
    "dependencies": {"depends"},
}
OWN_WORDS = {
    "core": MARKS["core"] | {"logging", "security", "database", "engine", "cross", "cutting", "shared",
                             "infrastructure", "helpers", "utilities", "common", "setup"},
    "crud": MARKS["crud"] | {"query", "queries", "add", "adds", "persistence", "access", "rows", "row", "commit",
                             "store", "stores", "read", "write", "save"},
    "models": MARKS["models"] | {"rows", "mapped", "mapping", "database", "entities", "persisted"},
    "schemas": MARKS["schemas"] | {"request", "requests", "response", "responses", "accepts", "accept", "returns",
                                   "return", "payload", "payloads", "validation", "validate", "validated",
                                   "serialization", "serialize", "serialise", "json", "input", "output", "body",
                                   "bodies", "contract", "shapes", "objects", "transfer"},
    "services": MARKS["services"] | {"rules", "rule", "domain", "logic", "use", "cases", "transfer", "transfers",
                                     "deposit", "workflows", "operations"},
    "dependencies": MARKS["dependencies"] | {"session", "sessions", "request", "requests", "inject", "injection",
                                             "provide", "provides", "current", "user", "ask", "routes", "routers"},
}  # fmt: skip


def _layer_source(layer: str) -> str | None:
    """The text of app/<layer>/__init__.py, or None when there is no such file."""
    spec = importlib.util.find_spec(f"app.{layer}")
    if spec is None or spec.origin in (None, "namespace"):
        return None
    return Path(spec.origin).read_text(encoding="utf-8")


def _docstring(source: str) -> str | None:
    try:
        return ast.get_docstring(ast.parse(source))
    except SyntaxError:
        return None


@pytest.mark.step(2)
@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_is_a_package_with_a_docstring(layer: str) -> None:
    """Hint: a package is a folder with an `__init__.py`; its first statement can be a docstring."""
    spec = importlib.util.find_spec(f"app.{layer}")
    assert spec is not None and spec.origin not in (None, "namespace"), (
        f"Lesson 00: there is no package app/{layer}/ yet: create the folder "
        f"lessons/00/app/{layer}/ with an __init__.py in it (step 2)"
    )
    module = load(f"app.{layer}")
    source = Path(str(spec.origin)).read_text(encoding="utf-8")
    doc = (module.__doc__ or "").strip()
    if not doc:
        later_strings = [
            node.value.value
            for node in ast.parse(source).body
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        ]
        if any(text.strip() for text in later_strings):
            pytest.fail(
                f"Lesson 00: app/{layer}/__init__.py has a string, but not as its first statement, so Python "
                "sees no docstring: a docstring comes before any import or code (step 2)"
            )
        if re.search(r"^\s*#", source, flags=re.MULTILINE):
            pytest.fail(
                f"Lesson 00: app/{layer}/__init__.py has a comment but no docstring: a comment is invisible "
                f"to help(), tools and the docs; write the line as a string (step 2)"
            )
        pytest.fail(
            f"Lesson 00: app/{layer}/__init__.py has no docstring: say in one line what the {layer} layer "
            "holds (step 2)"
        )
    words = set(re.findall(r"[a-z]+", doc.lower())) - FILLER - LAYER_WORDS[layer]
    assert words, (
        f"Lesson 00: the docstring of app/{layer}/__init__.py ({doc!r}) does not say what the {layer} "
        "layer holds; the table in the README has the words (step 2)"
    )
    for other in LAYERS:
        other_source = _layer_source(other) if other != layer else None
        other_doc = _docstring(other_source) if other_source is not None else None
        assert other_doc is None or other_doc.strip() != doc, (
            f"Lesson 00: app/{layer}/__init__.py has the same docstring as app/{other}/: each layer "
            f"holds something different; say what {layer} holds (step 2)"
        )
    if not words & OWN_WORDS[layer]:
        for other in LAYERS:
            marked = sorted(words & MARKS[other]) if other != layer else []
            assert not marked, (
                f"Lesson 00: the docstring of app/{layer}/__init__.py ({doc!r}) describes the {other} layer "
                f"({', '.join(marked)}), not what the {layer} layer holds; the table in the README says what "
                f"belongs in each (step 2)"
            )


@pytest.mark.step(4)
def test_create_app_returns_a_fastapi_app_titled_ledger() -> None:
    """Hint: `FastAPI(title="Ledger", …)`, and create_app() must return it."""
    main = load("app.main")
    application = main.create_app()
    assert isinstance(application, FastAPI), (
        f"Lesson 00: create_app() returned {type(application).__name__}, not a FastAPI app (step 4)"
    )
    assert application.title == "Ledger", (
        f"Lesson 00: the app is titled {application.title!r}; it should be titled 'Ledger' (step 4)"
    )


@pytest.mark.step(4)
def test_create_app_builds_a_new_app_on_each_call() -> None:
    """Hint: the app is built inside create_app(), each time it is called; the module's `app` is one call."""
    main = load("app.main")
    first, second = main.create_app(), main.create_app()
    assert first is not second and first is not getattr(main, "app", None), (
        "Lesson 00: create_app() returned the same app object again, the one built at import: a factory builds "
        "a new app on every call, so each test (and later each configuration) gets a fresh one; build the "
        "FastAPI app inside create_app() (step 4)"
    )


@pytest.mark.step(4)
def test_the_app_keeps_debug_off() -> None:
    """Hint: FastAPI's debug mode is for a developer's own machine; keep FastAPI's default."""
    application = load("app.main").create_app()
    assert getattr(application, "debug", False) is False, (
        "Lesson 00: create_app() builds the app in debug mode: every unhandled error then sends its "
        "traceback (code, file paths, values) to whoever made the request; leave debug off (step 4)"
    )


@pytest.mark.step(4)
def test_the_app_version_comes_from_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: `__version__` is already imported in app/main.py; one release number, kept in one place."""
    main = load("app.main")
    moved = "9.8.7-check"
    monkeypatch.setattr(load("app"), "__version__", moved)
    monkeypatch.setattr(main, "__version__", moved, raising=False)
    application = main.create_app()
    if application is getattr(main, "app", None):
        pytest.fail(
            "Lesson 00: create_app() returned the same app object again, the one built at import, so its "
            "version cannot follow a changed __version__: build the FastAPI app inside create_app(), on each "
            "call (step 4)"
        )
    version = getattr(application, "version", None)
    assert version == moved, (
        f"Lesson 00: app.__version__ was {moved!r} but create_app() gave the app version {version!r}: "
        "the app's version must follow __version__ from app/__init__.py, not a copy of it (step 4)"
    )


@pytest.mark.step(4)
def test_the_module_exposes_app_for_uvicorn() -> None:
    """Hint: `app = create_app()` at the bottom of app/main.py is what `uvicorn app.main:app` finds."""
    main = load("app.main")
    assert hasattr(main, "app"), (
        "Lesson 00: app/main.py has no module-level `app`, so `uvicorn app.main:app` finds nothing: "
        "keep `app = create_app()` at its end (step 4)"
    )
    assert isinstance(main.app, FastAPI), (
        f"Lesson 00: app/main.py's module-level `app` is {type(main.app).__name__}, not a FastAPI app: "
        "does create_app() return what it builds? (step 4)"
    )


def _paths(application: Any) -> list[str]:
    """The paths the app documents (a route hidden from the schema is not listed)."""
    return sorted(application.openapi().get("paths", {}))


async def _get(application: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:
        return await client.get(path)


async def _endpoint_of(application: Any, path: str) -> tuple[httpx.Response, Any]:
    """The response to GET `path` and the function that answered it (None when no route matched)."""
    seen: dict[str, Any] = {}

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        try:
            await application(scope, receive, send)
        finally:
            seen.update(scope)  # the router writes the matched route's endpoint into the scope

    return await _get(spy, path), seen.get("endpoint")


@pytest.mark.step(4)  # through the app that step 4 builds; the route's own mistakes still name step 3
async def test_health_answers_200_with_status_ok() -> None:
    """Hint: the route returns a dict; FastAPI turns it into JSON."""
    health = load("app.routers.health").health
    assert inspect.iscoroutinefunction(health), (
        "Lesson 00: health() in app/routers/health.py is no longer `async def`: the given signature is async, "
        "and step 3's own check, asyncio.run(health()), needs a coroutine; a plain def also runs in a "
        "thread pool for nothing; keep the signature as given (step 3)"
    )
    application = load("app.main").create_app()
    try:
        response = await _get(application, "/health")
    except ResponseValidationError as error:
        got = next(iter(error.errors()), {}).get("input", "?")
        pytest.fail(
            f"Lesson 00: GET /health returned {got!r}, which FastAPI refused: the route promises a "
            f'dict[str, str], and the answer should be the JSON object {{"status": "ok"}} (step 3)'
        )
    if response.status_code == 404:
        elsewhere = [path for path in _paths(application) if path.endswith("/health")]
        assert not elsewhere, (
            f"Lesson 00: GET /health answered 404: the health route is served at {elsewhere[0]} instead; "
            "include health.router without a prefix (step 4)"
        )
        pytest.fail(
            "Lesson 00: GET /health answered 404: the app has no /health route; include health.router in "
            "create_app() (step 4)"
        )
    assert response.status_code == 200, f"Lesson 00: GET /health answered {response.status_code}, not 200 (step 3)"
    assert response.json() == {"status": "ok"}, (
        f'Lesson 00: GET /health returned {response.text}; expected {{"status": "ok"}}, exactly (step 3)'
    )


@pytest.mark.step(4)
async def test_health_is_served_by_the_health_router() -> None:
    """Hint: the route is written once, in app/routers/health.py; create_app() only includes its router."""
    application = load("app.main").create_app()
    health = load("app.routers.health")
    response, endpoint = await _endpoint_of(application, "/health")
    assert endpoint is not None and response.status_code != 404, (
        "Lesson 00: GET /health reached no route: include health.router in create_app() (step 4)"
    )
    assert endpoint is health.health, (
        f"Lesson 00: GET /health is answered by {endpoint.__module__}.{endpoint.__qualname__}, not by health() "
        "in app/routers/health.py: the route lives in its router, and create_app() includes that router (step 4)"
    )


@pytest.mark.step(4)
async def test_health_is_documented_in_openapi_under_a_tag() -> None:
    """Hint: open http://127.0.0.1:8000/docs after `uv run workshop serve 00` and look for it."""
    application = load("app.main").create_app()
    response = await _get(application, "/openapi.json")
    assert response.status_code == 200, (
        f"Lesson 00: GET /openapi.json answered {response.status_code}: the app's OpenAPI description "
        "(and with it /docs and /redoc) is switched off; keep FastAPI's defaults (step 4)"
    )
    for page in ("/docs", "/redoc"):
        shown = await _get(application, page)
        assert shown.status_code == 200, (
            f"Lesson 00: GET {page} answered {shown.status_code}: the docs page step 5 opens is switched off; "
            "keep FastAPI's default docs and redoc pages (step 4)"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load("app.main").create_app().openapi()
    duplicates = [str(warning.message) for warning in caught if "Duplicate Operation ID" in str(warning.message)]
    assert not duplicates, (
        f"Lesson 00: building /openapi.json warned {duplicates[0]!r}: GET /health is registered twice, so "
        "health.router was included more than once; include each router once (step 4)"
    )
    operation = response.json().get("paths", {}).get("/health", {}).get("get")
    assert operation is not None, (
        "Lesson 00: /health is missing from /openapi.json, so /docs does not show it: include health.router, "
        "and keep it in the schema (step 4)"
    )
    assert operation.get("tags") == ["health"], (
        f"Lesson 00: /health has tags {operation.get('tags')} in /openapi.json; expected ['health'], "
        "the router's own tag, alone (step 4)"
    )
