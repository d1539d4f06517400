"""The application object: `uvicorn app.main:app` serves it.

Building the app connects to nothing. The lifespan opens the connection pool when a server
starts and closes it when the server stops.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.core.config import Settings, get_settings
from app.core.database import create_engine, create_sessionmaker
from app.routers import health


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the engine and the sessionmaker when the server starts; dispose of the engine when it stops."""
    raise NotImplementedError("Lesson 02: create the engine from app.state.settings and the sessionmaker; keep both on app.state (step 4)")
    try:
        yield  # the server handles requests while the lifespan waits here
    finally:
        raise NotImplementedError("Lesson 02: dispose of app.state.engine: close every pooled connection (step 4)")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; tests pass their own settings. Nothing connects here."""
    raise NotImplementedError("Lesson 02: pass lifespan=lifespan to FastAPI and keep the settings on app.state (step 4)")
    app.include_router(health.router)
    return app


app = create_app()
