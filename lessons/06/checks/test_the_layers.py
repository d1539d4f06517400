"""Lesson 06 checks: the layer rules. Routers talk to services; schemas know nothing of tables.

The import rules are read from your files without running them (`workshop.graders.architecture`), so a
broken rule is reported with its file and line.
"""

import inspect

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from workshop import grading
from workshop.graders import architecture
from workshop.grading import load
from workshop.serving import create_app

from .conftest import served_routes


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
    v1 = [served for served in served_routes(application) if served.path.startswith("/api/v1")]
    assert v1, "Lesson 06: the app serves no route under /api/v1; include v1.router in create_app (step 2)"
    offenders = [
        f"{', '.join(sorted(served.methods))} {served.path}"
        for served in v1
        if any(dependency.call is get_session for dependency in served.route.dependant.dependencies)
    ]
    assert not offenders, (
        f"Lesson 06: {'; '.join(offenders)} take the session directly; depend on a service from "
        "app/dependencies/services.py (AccountServiceDep, TransferServiceDep) instead (step 3)"
    )


@pytest.mark.step(3)
def test_every_v1_route_is_served_by_app_routers_v1(app_env: str) -> None:
    """Hint: create_app mounts v1.router and defines no route of its own; each route body lives in app/routers/v1/."""
    application = create_app()
    served = [route for route in served_routes(application) if route.path.startswith("/api/v1")]
    assert served, "Lesson 06: the app serves no route under /api/v1; include v1.router in create_app (step 2)"
    elsewhere = [
        f"{', '.join(sorted(route.methods))} {route.path} (served by {route.route.endpoint.__module__}."
        f"{route.route.endpoint.__name__})"
        for route in served
        if not route.route.endpoint.__module__.startswith("app.routers.v1.")
    ]
    assert not elsewhere, (
        f"Lesson 06: {'; '.join(elsewhere)}: a v1 route defined outside app/routers/v1/. A route added in "
        "create_app bypasses the router (and answers before it); write the body in the router function (step 3)"
    )


@pytest.mark.step(4)  # both providers: the transfer service's is step 4's
async def test_the_service_providers_are_async_functions(db_session: AsyncSession) -> None:
    """Hint: FastAPI runs a plain `def` dependency in a worker thread; a provider that only builds an object
    does not need that hop."""
    services = load("app.dependencies.services")
    plain: list[str] = []
    written_at = {"get_account_service": 3, "get_transfer_service": 4}  # the README's step for each provider
    for name, service in (("get_account_service", "AccountService"), ("get_transfer_service", "TransferService")):
        built = getattr(services, name)(db_session)
        if not inspect.isawaitable(built):
            plain.append(name)
            continue
        built = await built
        assert type(built).__name__ == service, (
            f"Lesson 06: {name}(session) returned {built!r}; expected a {service} on the request's session "
            f"(step {written_at[name]})"
        )
    assert not plain, (
        f"Lesson 06: {', '.join(plain)} in app/dependencies/services.py is a plain def: FastAPI runs it in a worker "
        "thread on every request, a hop that costs more than the constructor it calls. Declare it async def "
        f"(step {written_at[plain[0]]})"
    )
