"""The application object: `uvicorn app.main:app` serves it.

Building the app connects to nothing. The lifespan opens the connection pool, the rate service's
HTTP client and the Redis client when a server starts, and closes all three when it stops; it also
turns every log line into JSON (lesson 10). The HTTP API lives under /api/v1; its OpenAPI 3.1
document is at /openapi.json, browsable at /docs (Swagger UI) and /redoc.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.core.cache import create_redis
from app.core.config import Settings, get_settings
from app.core.database import create_engine, create_sessionmaker
from app.core.logs import REQUEST_ID_HEADER, RequestIdMiddleware, configure_logging
from app.core.rates import create_http_client
from app.routers import health, v1
from app.routers.errors import add_error_handlers

DESCRIPTION = """
Ledger keeps accounts and moves money between them.

* Amounts are **integers in minor units** (cents): `1050` is 10.50. Never a float, never a string.
* Every error answers `{"error": {"code": …, "message": …}}`; `code` is stable, branch on it.
* Send an `Idempotency-Key` header with each transfer, and retry with the same key: the money moves once.
* Sign up at `POST /api/v1/users`, log in at `POST /api/v1/auth/token`, and send the token as
  `Authorization: Bearer <token>` (here: **Authorize**). You see, and move money out of, your own accounts only.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start: JSON logs, the engine and sessionmaker, one HTTP client, one Redis client. Stop: close all three."""
    settings: Settings = app.state.settings
    raise NotImplementedError("Lesson 10: configure_logging(settings) first; then the process's two clients, app.state.http_client = create_http_client(settings) and app.state.redis = create_redis(settings) (step 1)")
    engine = create_engine(settings)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    try:
        yield  # the server handles requests while the lifespan waits here
    finally:
        # TODO Lesson 10: close what the start opened: await the aclose() of the HTTP client and of the Redis client (step 4)
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; tests pass their own settings. Nothing connects here."""
    settings = settings if settings is not None else get_settings()
    app = FastAPI(
        title="Ledger",
        version=__version__,
        summary="Accounts, deposits and transfers in integer minor units.",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "auth", "description": "Log in: trade an email and a password for an access token."},
            {"name": "users", "description": "Sign up, and read the user of a token."},
            {"name": "accounts", "description": "Open accounts, deposit money, read balances and statements."},
            {"name": "transfers", "description": "Move money between two accounts of one currency, exactly once."},
            {"name": "quotes", "description": "What an amount comes to in another currency, at today's rate."},
            {"name": "health", "description": "Probes for load balancers and orchestrators."},
        ],
        lifespan=lifespan,
    )
    # Browsers may call the API only from these origins. No credentials (cookies): the API uses
    # none, and Starlette answers a credentialed request to a "*" origin list with the caller's
    # own origin, which would let every site on the web act as the user.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", REQUEST_ID_HEADER],
        expose_headers=["Idempotent-Replayed", REQUEST_ID_HEADER],
    )
    # Added last, so it runs first: every request, CORS preflights and errors included, gets an id.
    app.add_middleware(RequestIdMiddleware)
    app.include_router(v1.router, prefix="/api/v1")
    app.state.settings = settings
    add_error_handlers(app)
    app.include_router(health.router)
    return app


app = create_app()
