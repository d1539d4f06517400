"""Create accounts and entries.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic. Short, stable ids keep `alembic history` readable.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create both tables, their constraints (named as the naming convention would) and indexes."""
    raise NotImplementedError("Lesson 03: create accounts, then entries, then the two indexes, naming every constraint with op.f() (step 6)")


def downgrade() -> None:
    """Undo upgrade() in reverse order: entries point at accounts, so they go first."""
    raise NotImplementedError("Lesson 03: drop the indexes and tables in reverse order (step 6)")
