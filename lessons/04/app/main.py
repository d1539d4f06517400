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
    engine = create_engine(app.state.settings)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    try:
        yield  # the server handles requests while the lifespan waits here
    finally:
        await app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; tests pass their own settings. Nothing connects here."""
    app = FastAPI(
        title="Ledger",
        version=__version__,
        summary="Accounts, deposits and transfers in integer minor units.",
        lifespan=lifespan,
    )
    app.state.settings = settings if settings is not None else get_settings()
    app.include_router(health.router)
    return app


app = create_app()
