"""The classroom: classes, learners, their results (history) and standings (latest per lesson).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "classroom_classes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("instructor_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classroom_classes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_classroom_classes_code_hash")),
        sa.UniqueConstraint("instructor_hash", name=op.f("uq_classroom_classes_instructor_hash")),
    )
    op.create_table(
        "classroom_learners",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("classroom_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("name_key", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 40", name=op.f("ck_classroom_learners_name_length")),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classroom_classes.id"],
            name=op.f("fk_classroom_learners_classroom_id_classroom_classes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classroom_learners")),
        sa.UniqueConstraint("classroom_id", "name_key", name="uq_classroom_learners_name"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_classroom_learners_token_hash")),
    )
    op.create_table(
        "classroom_results",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("lesson", sa.String(length=2), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("graded", sa.Integer(), nullable=False),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint("lesson ~ '^[0-9]{2}$'", name=op.f("ck_classroom_results_lesson_number")),
        sa.CheckConstraint("passed BETWEEN 0 AND graded", name=op.f("ck_classroom_results_passed_within_graded")),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["classroom_learners.id"],
            name=op.f("fk_classroom_results_learner_id_classroom_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classroom_results")),
        sa.UniqueConstraint("learner_id", "run_id", name="uq_classroom_results_run"),
    )
    op.create_index(
        "ix_classroom_results_learner_lesson", "classroom_results", ["learner_id", "lesson", "id"], unique=False
    )
    op.create_table(
        "classroom_standings",
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("lesson", sa.String(length=2), nullable=False),
        sa.Column("result_id", sa.BigInteger(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("graded", sa.Integer(), nullable=False),
        sa.Column("best", sa.Integer(), nullable=False),
        sa.Column("progressed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check", sa.String(length=300), nullable=True),
        sa.Column("next_step", sa.Integer(), nullable=True),
        sa.Column("next_message", sa.String(length=1000), nullable=True),
        sa.Column("next_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint("passed BETWEEN 0 AND graded", name=op.f("ck_classroom_standings_passed_within_graded")),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["classroom_learners.id"],
            name=op.f("fk_classroom_standings_learner_id_classroom_learners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["classroom_results.id"],
            name=op.f("fk_classroom_standings_result_id_classroom_results"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", "lesson", name=op.f("pk_classroom_standings")),
    )


def downgrade() -> None:
    op.drop_table("classroom_standings")
    op.drop_index("ix_classroom_results_learner_lesson", table_name="classroom_results")
    op.drop_table("classroom_results")
    op.drop_table("classroom_learners")
    op.drop_table("classroom_classes")
