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
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=settings.db_pool_pre_ping,
        echo=settings.db_echo,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The factory of sessions on `engine`; objects stay readable after a commit."""
    # expire_on_commit=False: after a commit, reading an attribute must not trigger a query,
    # which in async code would need an await where there is none (MissingGreenlet).
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit when the route returns, roll back when it raises."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:  # closing it returns the connection to the pool
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
        else:
            await session.commit()


# scope="function": the code after `yield` (the commit) runs before the response is sent, so a
# commit that fails becomes a 500 instead of a 2xx the client already believed.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def database_is_up(session: AsyncSession) -> bool:
    """True when the database answers `SELECT 1`; False when it cannot be reached."""
    try:
        await session.execute(text("SELECT 1"))
    except (OSError, DBAPIError) as error:  # refused, no such host or socket, timeout; or the server said no
        logger.warning("database unreachable: %s", error)
        return False
    return True
