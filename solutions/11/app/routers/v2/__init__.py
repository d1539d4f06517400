"""Version 2 of the HTTP API, mounted under /api/v2 by create_app() beside v1 (lesson 11).

What changed, and why it needed a new version (docs: "Moving from v1 to v2"):
* errors are problem details, `application/problem+json` (RFC 9457), not `{"error": {…}}`;
* lists are keyset pages, newest first, with an opaque `next_cursor`, not `limit` and `offset`;
* an account carries `updated_at`.
Signing up, logging in, transfers and quotes keep v1's shapes; their errors are problem details too.
"""

from fastapi import APIRouter

from app.routers.v2 import accounts, auth, quotes, transfers, users

router = APIRouter()
router.include_router(auth.router)
router.include_router(users.router)
router.include_router(accounts.router)
router.include_router(transfers.router)
router.include_router(quotes.router)
