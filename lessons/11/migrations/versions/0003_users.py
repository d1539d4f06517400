"""Create users; every account belongs to one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00

Accounts opened before this revision have no user. They are kept, every one of them, and handed
to one placeholder user, `legacy-accounts@ledger.invalid`, whose password hash matches no
password: nobody can log in as it. An operator gives each account to its real user later
(`UPDATE accounts SET user_id = … WHERE id = …`). The downgrade keeps every account and entry
too; it forgets only who owned what, and the users with their password hashes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_EMAIL = "legacy-accounts@ledger.invalid"  # .invalid: a domain that can never receive mail (RFC 2606)
LOCKED = "!locked"  # not a hash any hasher recognises: no password verifies against it


def upgrade() -> None:
    """Create users, add accounts.user_id, give the existing accounts a user, then make it required."""
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True)

    # Nullable first: the accounts that exist have no user yet, and NOT NULL would refuse them.
    op.add_column("accounts", sa.Column("user_id", sa.Uuid(), nullable=True))
    op.execute(
        sa.text(
            "INSERT INTO users (id, email, password_hash) "
            "SELECT gen_random_uuid(), :email, :locked WHERE EXISTS (SELECT 1 FROM accounts)"
        ).bindparams(email=LEGACY_EMAIL, locked=LOCKED)
    )
    op.execute(
        sa.text("UPDATE accounts SET user_id = (SELECT id FROM users WHERE email = :email)").bindparams(
            email=LEGACY_EMAIL
        )
    )
    op.alter_column("accounts", "user_id", nullable=False)
    op.create_index(op.f("ix_accounts_user_id"), "accounts", ["user_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_accounts_user_id_users"), "accounts", "users", ["user_id"], ["id"], ondelete="RESTRICT"
    )


def downgrade() -> None:
    """Undo upgrade() in reverse order. Every account and entry stays; who owned them, and the users, go."""
    op.drop_constraint(op.f("fk_accounts_user_id_users"), "accounts", type_="foreignkey")
    op.drop_index(op.f("ix_accounts_user_id"), table_name="accounts")
    op.drop_column("accounts", "user_id")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")


