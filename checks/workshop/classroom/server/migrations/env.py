"""Alembic's environment for the class server: run from `database.migrate` on a connection it passes."""

from alembic import context

from workshop.classroom.server.database import VERSION_TABLE
from workshop.classroom.server.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("The class server's migrations run from workshop.classroom.server.database.migrate().")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
