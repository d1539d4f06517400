"""Lesson 06 checks: the layer rules. Routers talk to services; schemas know nothing of tables.

The import rules are read from your files without running them (`workshop.architecture`), so a
broken rule is reported with its file and line.
"""

import pytest
from fastapi.routing import APIRoute

from workshop import architecture, grading
from workshop.grading import load

from .conftest import create_app


def broken_rules(layer: str) -> list[str]:
    app_dir = grading.folder() / "app"
    found = [v for v in architecture.violations(app_dir) if v.path.relative_to(app_dir).parts[0] == layer]
    return [v.message(grading.lesson(), grading.folder()) for v in found]


@pytest.mark.step(1)
def test_the_schemas_import_no_models() -> None:
    """Hint: a DTO describes JSON; `from_attributes=True` reads any object's attributes without importing its class."""
    for module in ("app.schemas.common", "app.schemas.accounts", "app.schemas.transfers"):
        load(module)
    messages = broken_rules("schemas")
    assert not messages, "\n".join(messages) + " Build read models with from_attributes=True (step 1)"


@pytest.mark.step(3)
def test_the_routers_import_neither_crud_nor_models() -> None:
    """Hint: a route gets a service (`AccountServiceDep`) and returns a DTO; the service owns the repositories."""
    for module in (
        "app.dependencies.services",
        "app.routers.errors",
        "app.routers.v1.accounts",
        "app.routers.v1.transfers",
    ):
        load(module)
    messages = broken_rules("routers")
    assert not messages, "\n".join(messages) + " Call a service instead (step 3)"


@pytest.mark.step(3)
def test_v1_routes_get_services_not_the_session(app_env: str) -> None:
    """Hint: a route's parameters are DTOs, path and query values, and `…ServiceDep`s; SessionDep stays in
    app/dependencies/."""
    application = create_app()
    get_session = load("app.dependencies.session").get_session
    offenders = [
        f"{', '.join(sorted(route.methods))} {route.path}"
        for route in application.routes
        if isinstance(route, APIRoute)
        and route.path.startswith("/api/v1")
        and any(dependency.call is get_session for dependency in route.dependant.dependencies)
    ]
    assert not offenders, (
        f"Lesson 06: {'; '.join(offenders)} take the session directly; depend on a service from "
        "app/dependencies/services.py (AccountServiceDep, TransferServiceDep) instead (step 3)"
    )
