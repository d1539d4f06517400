"""The engine, the sessions, and the migrations of the class server's tables.

The engine is made in the app's lifespan (main.py) and disposed there; nothing connects at
import. The tables come from Alembic migrations (migrations/versions/), run by `migrate` before
the server starts: a class outlives a restart of the server and an update of the workshop, so its
tables are upgraded, never re-created.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from workshop.classroom.server.config import ClassSettings

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "classroom_alembic_version"  # beside the tables, not Alembic's default name: the database may be shared


def create_engine(settings: ClassSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=True,
        # An error's message never carries the statement's parameters (token hashes, names) into a log.
        hide_parameters=True,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made in code: the class server has no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """`alembic upgrade head` on the engine's database."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
