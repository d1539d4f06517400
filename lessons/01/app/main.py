"""The application object: `uvicorn app.main:app` serves it."""

from fastapi import FastAPI

from app import __version__
from app.routers import health


def create_app() -> FastAPI:
    """Build the application. Each later lesson adds its part here: settings, lifespan, routers."""
    app = FastAPI(
        title="Ledger",
        version=__version__,
        summary="Accounts, deposits and transfers in integer minor units.",
    )
    app.include_router(health.router)
    return app


app = create_app()
