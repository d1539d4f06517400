"""Alembic's environment: every `alembic` command runs this file to reach the database.

Built from Alembic's `async` template. Two changes matter: the URL comes from the app's
settings (LEDGER_DATABASE_URL), never from alembic.ini, and `target_metadata` is the models'
metadata, so `alembic revision --autogenerate` and `alembic check` can compare them with the
database.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import get_settings
from app.models import Base

config = context.config

# The [loggers] sections of alembic.ini. A program that runs Alembic itself (a test, say) can
# pass a Config without a file, or set attributes["configure_logger"] = False, to keep its own.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def target_metadata() -> MetaData:
    """The schema the migrations should produce: every table registered on Base."""
    return Base.metadata


def database_url() -> str:
    """The database to migrate: the same setting the app uses."""
    return get_settings().database_url


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: write the SQL to stdout instead of running it."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on a (synchronous-looking) connection, in one transaction."""
    context.configure(connection=connection, target_metadata=target_metadata(), compare_type=True)
    # PostgreSQL's DDL is transactional: a failing migration leaves the schema as it was.
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    """Open an async engine, and hand its connection to `do_run_migrations` via run_sync."""
    # NullPool: a migration is a one-off; keep no connection open after it.
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """`alembic upgrade head`: run the migrations against the database."""
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
