### BEGIN SOLUTION write migration 0005, the contract: fill what is still NULL, then make updated_at NOT NULL with a default, without a long exclusive lock; downgrade() relaxes it and keeps every value (step 1)
"""Contract: accounts.updated_at NOT NULL, with a default.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:30:00

Run it once every running copy of the app writes updated_at (the release after 0004's). It first
fills the rows an older copy wrote in between, then makes the column required:

* ALTER COLUMN … SET NOT NULL alone scans the whole table under an ACCESS EXCLUSIVE lock: no read or
  write of accounts gets through until it ends. Instead a CHECK (updated_at IS NOT NULL) NOT VALID
  (a brief lock, no scan), VALIDATE CONSTRAINT (scans under SHARE UPDATE EXCLUSIVE: reads and writes
  go on), then SET NOT NULL, which PostgreSQL proves from the valid CHECK without scanning, and the
  CHECK goes.
* SET DEFAULT changes only the catalogue.

The downgrade makes the column nullable again and drops the default: every value stays.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_accounts_updated_at_not_null"


def upgrade() -> None:
    """Fill the last NULLs, prove NOT NULL with a validated CHECK, then set it and the default."""
    op.execute(
        "UPDATE accounts SET updated_at = coalesce((SELECT max(entries.created_at) FROM entries "
        "WHERE entries.account_id = accounts.id), accounts.created_at) WHERE updated_at IS NULL"
    )
    op.execute(f"ALTER TABLE accounts ADD CONSTRAINT {CHECK} CHECK (updated_at IS NOT NULL) NOT VALID")
    op.execute(f"ALTER TABLE accounts VALIDATE CONSTRAINT {CHECK}")
    op.alter_column("accounts", "updated_at", nullable=False, server_default=sa.text("now()"))
    op.execute(f"ALTER TABLE accounts DROP CONSTRAINT {CHECK}")


def downgrade() -> None:
    """Undo upgrade(): updated_at nullable again, without a default; every value stays."""
    op.alter_column("accounts", "updated_at", nullable=True, server_default=None)


### END SOLUTION
