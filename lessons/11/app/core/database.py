"""The database setup: one engine per process, and the factory of its sessions.

The engine owns the connection pool; the app's lifespan (app/main.py) creates it when a server
starts and disposes it when the server stops, so importing the app never connects. Nothing here
knows about HTTP: the per-request session is a dependency, in app/dependencies/session.py.
"""

import logging

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


async def database_is_up(session: AsyncSession) -> bool:
    """True when the database answers `SELECT 1`; False when it cannot be reached."""
    try:
        await session.execute(text("SELECT 1"))
    except (OSError, DBAPIError) as error:  # refused, no such host or socket, timeout; or the server said no
        logger.warning("database unreachable: %s", error)
        return False
    return True
