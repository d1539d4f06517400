"""One engine per process, one session per request.

The engine owns the connection pool; the app's lifespan creates it when a server starts and
disposes it when the server stops, so importing the app never connects. Each request gets its
own `AsyncSession` from `get_session`, which is the one place that commits or rolls back.
"""

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.config import Settings

logger = logging.getLogger(__name__)


def create_engine(settings: Settings) -> AsyncEngine:
    """The async engine with its connection pool, configured from the settings. It does not connect yet."""
    raise NotImplementedError("Lesson 02: create the async engine from settings.database_url and every db_* pool setting (step 1)")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The factory of sessions on `engine`; objects stay readable after a commit."""
    raise NotImplementedError("Lesson 02: return a factory of AsyncSessions on this engine that keeps objects readable after a commit (step 2)")


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit when the route returns, roll back when it raises."""
    raise NotImplementedError("Lesson 02: open a session from request.app.state.sessionmaker and yield it; commit on success, roll back and re-raise on error (step 3)")


# scope="function": the code after `yield` (the commit) runs before the response is sent, so a
# commit that fails becomes a 500 instead of a 2xx the client already believed.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def database_is_up(session: AsyncSession) -> bool:
    """True when the database answers `SELECT 1`; False when it cannot be reached."""
    raise NotImplementedError("Lesson 02: run SELECT 1 on the session; return False when the database cannot be reached (step 5)")
