"""Lesson 00 checks: the layer packages, the application object and its health route."""

import importlib.util

import httpx
import pytest
from fastapi import FastAPI

from workshop.grading import load

LAYERS = ["core", "crud", "models", "schemas", "services", "dependencies"]


@pytest.mark.step(2)
@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_is_a_package_with_a_docstring(layer: str) -> None:
    """Hint: a package is a folder with an `__init__.py`; its first line can be a docstring."""
    spec = importlib.util.find_spec(f"app.{layer}")
    assert spec is not None and spec.origin not in (None, "namespace"), (
        f"Lesson 00: there is no package app/{layer}/ yet: create the folder "
        f"lessons/00/app/{layer}/ with an __init__.py in it (step 2)"
    )
    module = load(f"app.{layer}")
    assert (module.__doc__ or "").strip(), (
        f"Lesson 00: app/{layer}/__init__.py has no docstring: say in one line what the {layer} layer holds (step 2)"
    )


@pytest.mark.step(4)
def test_create_app_returns_a_fastapi_app_titled_ledger() -> None:
    """Hint: `FastAPI(title="Ledger", version=__version__)`; `__version__` lives in app/__init__.py."""
    main = load("app.main")
    application = main.create_app()
    assert isinstance(application, FastAPI), (
        f"Lesson 00: create_app() returned {type(application).__name__}, not a FastAPI app (step 4)"
    )
    assert application.title == "Ledger", (
        f"Lesson 00: the app is titled {application.title!r}; call it 'Ledger' (step 4)"
    )
    assert application.version == load("app").__version__, (
        "Lesson 00: give the app the package's version: FastAPI(..., version=__version__) (step 4)"
    )


@pytest.mark.step(4)
def test_the_module_exposes_app_for_uvicorn() -> None:
    """Hint: `app = create_app()` at the bottom of app/main.py is what `uvicorn app.main:app` finds."""
    main = load("app.main")
    assert isinstance(getattr(main, "app", None), FastAPI), (
        "Lesson 00: app/main.py has no module-level `app`; end it with `app = create_app()` (step 4)"
    )


async def _get(path: str) -> httpx.Response:
    application = load("app.main").create_app()
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as client:
        return await client.get(path)


@pytest.mark.step(3)
async def test_health_answers_200_with_status_ok() -> None:
    """Hint: the route returns a dict; FastAPI turns it into JSON."""
    response = await _get("/health")
    assert response.status_code == 200, (
        f"Lesson 00: GET /health answered {response.status_code}; include health.router in create_app() (step 4)"
    )
    assert response.json() == {"status": "ok"}, (
        f'Lesson 00: GET /health returned {response.text}; expected {{"status": "ok"}} (step 3)'
    )


@pytest.mark.step(4)
async def test_health_is_documented_in_openapi_under_a_tag() -> None:
    """Hint: open http://127.0.0.1:8000/docs after `uv run workshop serve 00` and look for it."""
    response = await _get("/openapi.json")
    operation = response.json().get("paths", {}).get("/health", {}).get("get")
    assert operation is not None, "Lesson 00: /health is missing from /openapi.json; include health.router (step 4)"
    assert operation.get("tags") == ["health"], (
        f"Lesson 00: /health has tags {operation.get('tags')}; keep the router's tags=['health']"
    )
