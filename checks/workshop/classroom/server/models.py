"""The class server's tables. Their names start with `classroom_`, so that a database shared with
something else (`--database-url`) keeps them apart."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Classroom(Base):
    """A class: what its code and its instructor's token hash to (never the secrets themselves)."""

    __tablename__ = "classroom_classes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(120))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    instructor_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Learner(Base):
    """Someone who joined a class; their token hashes to `token_hash`."""

    __tablename__ = "classroom_learners"
    __table_args__ = (
        UniqueConstraint("classroom_id", "name_key", name="uq_classroom_learners_name"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 40", name="name_length"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    classroom_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classroom_classes.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    name_key: Mapped[str] = mapped_column(String(40))  # the name casefolded: "Ada" and "ada" are one learner
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Result(Base):
    """One posted run of a lesson's checks, as the learner's RunReport said it (history, append-only)."""

    __tablename__ = "classroom_results"
    __table_args__ = (
        # A report sent twice (a retry after a lost answer) is recorded once.
        UniqueConstraint("learner_id", "run_id", name="uq_classroom_results_run"),
        CheckConstraint("lesson ~ '^[0-9]{2}$'", name="lesson_number"),
        CheckConstraint("passed BETWEEN 0 AND graded", name="passed_within_graded"),
        Index("ix_classroom_results_learner_lesson", "learner_id", "lesson", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    learner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classroom_learners.id", ondelete="CASCADE"))
    run_id: Mapped[uuid.UUID]
    lesson: Mapped[str] = mapped_column(String(2))
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    passed: Mapped[int] = mapped_column(Integer)
    graded: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)


class Standing(Base):
    """Where a learner stands in a lesson: their latest run of it, and since when."""

    __tablename__ = "classroom_standings"
    __table_args__ = (CheckConstraint("passed BETWEEN 0 AND graded", name="passed_within_graded"),)

    learner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("classroom_learners.id", ondelete="CASCADE"), primary_key=True
    )
    lesson: Mapped[str] = mapped_column(String(2), primary_key=True)
    result_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("classroom_results.id", ondelete="CASCADE"))
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    passed: Mapped[int] = mapped_column(Integer)
    graded: Mapped[int] = mapped_column(Integer)
    best: Mapped[int] = mapped_column(Integer)  # the most checks that ever passed at once
    progressed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # first run, or a new best
    next_check: Mapped[str | None] = mapped_column(String(300))  # the first failing check, in step order
    next_step: Mapped[int | None] = mapped_column(Integer)
    next_message: Mapped[str | None] = mapped_column(String(1000))
    next_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first run with that next check
    failing: Mapped[list[list[Any]]] = mapped_column(JSONB)  # [[check, step], …] of the latest run
