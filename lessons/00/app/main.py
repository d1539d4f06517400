"""The application object: `uvicorn app.main:app` serves it."""

from fastapi import FastAPI

from app import __version__
from app.routers import health


def create_app() -> FastAPI:
    """Build the application. Each later lesson adds its part here: settings, lifespan, routers."""
    raise NotImplementedError("Lesson 00: create FastAPI(title=\"Ledger\", version=__version__) and include health.router (step 4)")


app = create_app()
