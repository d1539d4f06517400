"""Lesson 00's mutants: wrong solutions a reviewer would reject, each caught by the checks it names.

`uv run workshop verify 00` plants each one in a copy of the solution and proves that the named
checks fail with a `Lesson 00:` message containing `says`.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

CRUD_DOC = '"""Repositories: add, query and flush rows through an AsyncSession. They never commit."""'
SERVICES_DOC = '''"""Business rules: open an account, deposit, transfer.

Services raise domain errors, never HTTP errors."""'''

MUTANTS = [
    # --- step 2: the layer packages ---------------------------------------------------------
    Mutant(
        "core-package-without-docstring",
        path="app/core/__init__.py",
        find='"""Cross-cutting parts every layer may use: settings, logging, security helpers."""\n',
        replace="",
        killed_by=["test_each_layer_is_a_package_with_a_docstring[core]"],
        says="no docstring",
        why="an empty __init__.py says nothing of what the layer may hold",
    ),
    Mutant(
        "crud-docstring-written-as-a-comment",
        find=CRUD_DOC,
        replace="# Repositories: add, query and flush rows through an AsyncSession. They never commit.",
        killed_by=["test_each_layer_is_a_package_with_a_docstring[crud]"],
        says="a comment but no docstring",
        why="a comment is invisible to help(), IDEs and the docs: the layer stays undocumented",
    ),
    Mutant(
        "models-docstring-is-a-todo",
        find='"""SQLAlchemy models: the tables. Models import no other layer of the app."""',
        replace='"""TODO."""',
        killed_by=["test_each_layer_is_a_package_with_a_docstring[models]"],
        says="does not say what the models layer holds",
        why="a placeholder docstring games the check and tells a new colleague nothing",
    ),
    Mutant(
        "schemas-docstring-only-names-the-layer",
        find='"""Pydantic DTOs: what the API accepts and returns. Schemas never import models."""',
        replace='"""The schemas layer."""',
        killed_by=["test_each_layer_is_a_package_with_a_docstring[schemas]"],
        says="does not say what the schemas layer holds",
        why="repeating the folder's name is not documentation: what belongs in schemas/ stays unsaid",
    ),
    Mutant(
        "services-docstring-copied-from-crud",
        path="app/services/__init__.py",
        find=SERVICES_DOC,
        replace=CRUD_DOC,
        killed_by=["test_each_layer_is_a_package_with_a_docstring[services]"],
        says="the same docstring as app/crud/",
        why="a copy-pasted docstring is false for one of the two layers: services are not repositories",
    ),
    Mutant(
        "dependencies-docstring-after-an-import",
        find='"""Dependencies the routers ask for: the request\'s session, the services, later the current user."""',
        replace=(
            "from typing import Annotated\n\n"
            '"""Dependencies the routers ask for: the request\'s session, the services, later the current user."""'
        ),
        killed_by=["test_each_layer_is_a_package_with_a_docstring[dependencies]"],
        says="not as its first statement",
        why="a string after an import is not a docstring: __doc__ stays None and the docs show nothing",
    ),
    Mutant(
        "schemas-docstring-describes-models",
        find='"""Pydantic DTOs: what the API accepts and returns. Schemas never import models."""',
        replace='"""SQLAlchemy models for the API."""',
        killed_by=["test_each_layer_is_a_package_with_a_docstring[schemas]"],
        says="describes the models layer",
        why="a false docstring: schemas are Pydantic DTOs and must never import models, yet it says they hold models",
    ),
    # --- step 3: the health route -----------------------------------------------------------
    Mutant(
        "health-answers-a-string",
        find='    return {"status": "ok"}\n',
        replace='    return "ok"  # type: ignore[return-value]\n',
        killed_by=["test_health_answers_200_with_status_ok"],
        says='{"status": "ok"}',
        why="a bare string is not the JSON object load balancers and colleagues expect",
    ),
    Mutant(
        "health-shouts-ok",
        find='    return {"status": "ok"}\n',
        replace='    return {"status": "OK"}\n',
        killed_by=["test_health_answers_200_with_status_ok"],
        says='expected {"status": "ok"}, exactly',
        why="probes compare the body exactly: 'OK' is not the agreed 'ok'",
    ),
    Mutant(
        "health-says-healthy",
        find='    return {"status": "ok"}\n',
        replace='    return {"status": "healthy", "service": "ledger"}\n',
        killed_by=["test_health_answers_200_with_status_ok"],
        says='expected {"status": "ok"}, exactly',
        why="an invented body breaks the contract every probe and colleague relies on",
    ),
    Mutant(
        "health-made-a-plain-def",
        find="async def health() -> dict[str, str]:",
        replace="def health() -> dict[str, str]:",
        killed_by=["test_health_answers_200_with_status_ok"],
        says="no longer `async def`",
        why="changes the given signature: asyncio.run(health()) breaks and FastAPI sends the call to a thread pool",
    ),
    # --- step 4: the application ------------------------------------------------------------
    Mutant(
        "app-titled-in-lower-case",
        find='        title="Ledger",\n',
        replace='        title="ledger",\n',
        killed_by=["test_create_app_returns_a_fastapi_app_titled_ledger"],
        says="titled 'ledger'",
        why="the title is what /docs, clients generated from OpenAPI and colleagues see",
    ),
    Mutant(
        "create-app-forgets-to-return",
        find="    app.include_router(health.router)\n    return app\n",
        replace="    app.include_router(health.router)\n",
        killed_by=["test_create_app_returns_a_fastapi_app_titled_ledger", "test_the_module_exposes_app_for_uvicorn"],
        says="NoneType, not a FastAPI app",
        why="create_app() builds the app and drops it: uvicorn and every test get None",
    ),
    Mutant(
        "version-hard-coded",
        find="        version=__version__,\n",
        replace='        version="0.1.0",\n',
        killed_by=["test_the_app_version_comes_from_the_package"],
        says="must follow __version__",
        why="a copied version number goes stale at the next release: one number, kept in one place",
    ),
    Mutant(
        "version-forgotten",
        find="        version=__version__,\n",
        replace="",
        killed_by=["test_the_app_version_comes_from_the_package"],
        says="must follow __version__",
        why="FastAPI's default version '0.1.0' only matches by chance and lies from the next release on",
    ),
    Mutant(
        "app-renamed-application",
        find="\napp = create_app()\n",
        replace="\napplication = create_app()\n",
        killed_by=["test_the_module_exposes_app_for_uvicorn"],
        says="no module-level `app`",
        why="`uvicorn app.main:app` (and the Dockerfile of lesson 08) find nothing to serve",
    ),
    Mutant(
        "router-not-included",
        find="    app.include_router(health.router)\n",
        replace="",
        killed_by=[
            "test_health_answers_200_with_status_ok",
            "test_health_is_served_by_the_health_router",
            "test_health_is_documented_in_openapi_under_a_tag",
        ],
        says="include health.router",
        why="a router that is never included serves nothing: /health answers 404",
    ),
    Mutant(
        "health-under-a-prefix",
        find="    app.include_router(health.router)\n",
        replace='    app.include_router(health.router, prefix="/api/v1")\n',
        killed_by=["test_health_answers_200_with_status_ok"],
        says="without a prefix",
        why="probes call /health: a versioned prefix moves the liveness probe where nobody looks",
    ),
    Mutant(
        "inline-health-route",
        find="    app.include_router(health.router)\n",
        replace=(
            '    @app.get("/health", tags=["health"])\n'
            "    async def health_inline() -> dict[str, str]:\n"
            '        return {"status": "ok"}\n'
        ),
        killed_by=["test_health_is_served_by_the_health_router"],
        says="not by health() in app/routers/health.py",
        why="a second health route in main.py bypasses the router: two definitions, one of them dead",
        also=[Edit(find="from app.routers import health\n", replace="", path="app/main.py")],
    ),
    Mutant(
        "health-hidden-from-the-docs",
        find="    app.include_router(health.router)\n",
        replace="    app.include_router(health.router, include_in_schema=False)\n",
        killed_by=["test_health_is_documented_in_openapi_under_a_tag"],
        says="missing from /openapi.json",
        why="a route missing from OpenAPI is invisible in /docs and to every generated client",
    ),
    Mutant(
        "health-tagged-twice",
        find="    app.include_router(health.router)\n",
        replace='    app.include_router(health.router, tags=["ops"])\n',
        killed_by=["test_health_is_documented_in_openapi_under_a_tag"],
        says="expected ['health']",
        why="an extra tag lists the route twice in /docs, under two headings",
    ),
    Mutant(
        "openapi-switched-off",
        find='        title="Ledger",\n',
        replace='        title="Ledger",\n        openapi_url=None,\n',
        killed_by=["test_health_is_documented_in_openapi_under_a_tag"],
        says="openapi.json answered 404",
        why="no OpenAPI description means no /docs, no /redoc and no generated clients",
    ),
    Mutant(
        "router-included-twice",
        find="    app.include_router(health.router)\n",
        replace="    app.include_router(health.router)\n    app.include_router(health.router)\n",
        killed_by=["test_health_is_documented_in_openapi_under_a_tag"],
        says="registered twice",
        why="every route registered twice: duplicate operation ids in OpenAPI, and the second copy is dead code",
    ),
    Mutant(
        "docs-pages-switched-off",
        find='        title="Ledger",\n',
        replace='        title="Ledger",\n        docs_url=None,\n        redoc_url=None,\n',
        killed_by=["test_health_is_documented_in_openapi_under_a_tag"],
        says="docs page step 5 opens is switched off",
        why="a pasted hardening snippet removes /docs and /redoc, the pages step 5 and every colleague use",
    ),
    Mutant(
        "debug-switched-on",
        find='        title="Ledger",\n',
        replace='        title="Ledger",\n        debug=True,\n',
        killed_by=["test_the_app_keeps_debug_off"],
        says="debug mode",
        why="debug=True sends the traceback of every unhandled error to the client",
    ),
    Mutant(
        "app-built-once-at-import",
        find=(
            "    app = FastAPI(\n"
            '        title="Ledger",\n'
            "        version=__version__,\n"
            '        summary="Accounts, deposits and transfers in integer minor units.",\n'
            "    )\n"
            "    app.include_router(health.router)\n"
            "    return app\n"
        ),
        replace="    return _app\n",
        also=[
            Edit(
                find="def create_app() -> FastAPI:",
                replace=(
                    '_app = FastAPI(title="Ledger", version=__version__)\n'
                    "_app.include_router(health.router)\n\n\n"
                    "def create_app() -> FastAPI:"
                ),
                path="app/main.py",
            )
        ],
        killed_by=["test_create_app_builds_a_new_app_on_each_call", "test_the_app_version_comes_from_the_package"],
        says="the same app object again",
        why="create_app() hands back one shared app built at import: no test or configuration gets a fresh one",
    ),
]
