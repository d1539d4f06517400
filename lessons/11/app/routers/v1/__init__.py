"""Version 1 of the HTTP API, mounted under /api/v1 by create_app().

A breaking change (a renamed field, a new required one) goes into /api/v2 beside it, so clients
of v1 keep working while they move.
"""

from fastapi import APIRouter

from app.routers.v1 import accounts, auth, quotes, transfers, users

router = APIRouter()
router.include_router(auth.router)
router.include_router(users.router)
router.include_router(accounts.router)
router.include_router(transfers.router)
router.include_router(quotes.router)
