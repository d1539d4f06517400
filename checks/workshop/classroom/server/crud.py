"""The class server's queries. They add, read and lock; they flush, and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from workshop.classroom.server.models import Classroom, Learner, Result, Standing


async def add_classroom(session: AsyncSession, title: str, code_hash: bytes, instructor_hash: bytes) -> Classroom:
    classroom = Classroom(title=title, code_hash=code_hash, instructor_hash=instructor_hash)
    session.add(classroom)
    await session.flush()
    return classroom


async def get_classroom(session: AsyncSession, classroom_id: uuid.UUID) -> Classroom | None:
    return await session.get(Classroom, classroom_id)


async def count_learners(session: AsyncSession, classroom_id: uuid.UUID) -> int:
    count = await session.scalar(select(func.count()).select_from(Learner).where(Learner.classroom_id == classroom_id))
    return int(count or 0)


async def learner_by_name(session: AsyncSession, classroom_id: uuid.UUID, name_key: str) -> Learner | None:
    query = select(Learner).where(Learner.classroom_id == classroom_id, Learner.name_key == name_key)
    return await session.scalar(query)


async def add_learner(
    session: AsyncSession, classroom_id: uuid.UUID, name: str, name_key: str, token_hash: bytes
) -> Learner:
    learner = Learner(classroom_id=classroom_id, name=name, name_key=name_key, token_hash=token_hash)
    session.add(learner)
    await session.flush()
    return learner


async def learner_by_token(session: AsyncSession, classroom_id: uuid.UUID, token_hash: bytes) -> Learner | None:
    query = select(Learner).where(Learner.classroom_id == classroom_id, Learner.token_hash == token_hash)
    return await session.scalar(query)


async def learners_of(session: AsyncSession, classroom_id: uuid.UUID) -> Sequence[Learner]:
    query = select(Learner).where(Learner.classroom_id == classroom_id).order_by(Learner.name_key)
    return (await session.scalars(query)).all()


async def standings_of_class(session: AsyncSession, classroom_id: uuid.UUID) -> Sequence[Standing]:
    query = (
        select(Standing)
        .join(Learner, Learner.id == Standing.learner_id)
        .where(Learner.classroom_id == classroom_id)
        .order_by(Standing.learner_id, Standing.lesson)
    )
    return (await session.scalars(query)).all()


async def standings_of(session: AsyncSession, learner_id: uuid.UUID) -> Sequence[Standing]:
    query = select(Standing).where(Standing.learner_id == learner_id).order_by(Standing.lesson)
    return (await session.scalars(query)).all()


# Statements made once, run with many rows (executemany): compiled once, cached by SQLAlchemy.
RESULTS = cast(Table, Result.__table__)
STANDINGS = cast(Table, Standing.__table__)
_ADD_RESULTS = (
    insert(RESULTS)
    .on_conflict_do_nothing(constraint="uq_classroom_results_run")
    .returning(RESULTS.c.id, RESULTS.c.learner_id, RESULTS.c.run_id)
)
_PUT_STANDING = insert(STANDINGS)
_PUT_STANDINGS = _PUT_STANDING.on_conflict_do_update(
    index_elements=[STANDINGS.c.learner_id, STANDINGS.c.lesson],
    set_={
        column.name: _PUT_STANDING.excluded[column.name]
        for column in STANDINGS.c
        if column.name not in ("learner_id", "lesson")
    },
)


async def add_results(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Insert results; a run recorded before is left as it is. (learner, run) → the new row's id."""
    if not rows:
        return {}
    inserted = await session.execute(_ADD_RESULTS, rows)
    return {(learner, run): id_ for id_, learner, run in inserted.all()}


async def results_by_run(
    session: AsyncSession, keys: Iterable[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[int, str]]:
    """(learner, run) → (id, lesson) of results recorded before."""
    wanted = list(keys)
    if not wanted:
        return {}
    query = select(Result.id, Result.lesson, Result.learner_id, Result.run_id).where(
        tuple_(Result.learner_id, Result.run_id).in_(wanted)
    )
    return {(learner, run): (id_, lesson) for id_, lesson, learner, run in (await session.execute(query)).all()}


async def lock_standings(
    session: AsyncSession, keys: Iterable[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], dict[str, Any]]:
    """The standings of these (learner, lesson) pairs as rows, locked FOR UPDATE in key order (no deadlock)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    query = (
        select(STANDINGS)
        .where(tuple_(STANDINGS.c.learner_id, STANDINGS.c.lesson).in_(wanted))
        .order_by(STANDINGS.c.learner_id, STANDINGS.c.lesson)
        .with_for_update()
    )
    rows = (await session.execute(query)).mappings().all()
    return {(row["learner_id"], row["lesson"]): dict(row) for row in rows}


async def put_standings(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert or replace standings (every column of each row given)."""
    if rows:
        await session.execute(_PUT_STANDINGS, rows)
