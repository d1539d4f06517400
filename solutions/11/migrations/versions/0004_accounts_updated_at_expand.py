### BEGIN SOLUTION write migration 0004, the expand: add accounts.updated_at nullable, backfill it in batches that each commit, and build the index on (user_id, id) CONCURRENTLY, both in autocommit blocks; downgrade() undoes it (step 1)
"""Expand: accounts.updated_at, nullable, backfilled in batches; the index of v2's keyset pages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00

The expand half of an expand/contract change (0005 is the contract). Every step here is safe on a
table that is being written to while it runs:

* ADD COLUMN without a default changes only the catalogue: a brief ACCESS EXCLUSIVE lock, no rewrite.
* The backfill updates BATCH_SIZE rows per transaction, each committed at once (an autocommit block),
  so no transaction holds row locks on the whole table and a failure keeps the batches done so far.
  One `UPDATE accounts SET …` would lock every row until it ends: every deposit and transfer would wait.
* CREATE INDEX CONCURRENTLY takes a SHARE UPDATE EXCLUSIVE lock, which lets writes go on, where a plain
  CREATE INDEX blocks every INSERT, UPDATE and DELETE until it ends. PostgreSQL refuses to run it
  inside a transaction block, so it too runs in Alembic's autocommit block.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 500

# When the balance last changed: the newest entry's time; an account without entries, its opening time.
# Only rows still NULL, a batch at a time, in id order; SKIP LOCKED passes over rows a transfer holds.
BACKFILL_BATCH = sa.text(
    """
    UPDATE accounts SET updated_at = coalesce(
        (SELECT max(entries.created_at) FROM entries WHERE entries.account_id = accounts.id), accounts.created_at)
    WHERE id IN (
        SELECT id FROM accounts WHERE updated_at IS NULL ORDER BY id LIMIT :batch_size FOR UPDATE SKIP LOCKED
    )
    """
).bindparams(batch_size=BATCH_SIZE)


def backfill() -> None:
    """Fill updated_at where it is NULL, BATCH_SIZE rows per committed transaction, until none is left."""
    connection = op.get_bind()
    with op.get_context().autocommit_block():
        while connection.execute(BACKFILL_BATCH).rowcount:
            pass


def upgrade() -> None:
    """Add the column, fill it batch by batch, then build the index without blocking writes."""
    op.add_column("accounts", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    if not op.get_context().as_sql:  # `alembic upgrade --sql` prints the DDL; a loop has nothing to print
        backfill()
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_accounts_user_id_id", "accounts", ["user_id", "id"], unique=False, postgresql_concurrently=True
        )


def downgrade() -> None:
    """Undo upgrade(): the index (concurrently, too), then the column; updated_at can be computed again."""
    with op.get_context().autocommit_block():
        op.drop_index("ix_accounts_user_id_id", table_name="accounts", postgresql_concurrently=True)
    op.drop_column("accounts", "updated_at")


### END SOLUTION
