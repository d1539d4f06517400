"""The class server's queries. They add, read and lock; they flush, and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, tuple_
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


async def add_results(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Insert results in one statement; a run recorded before is left as it is. (learner, run) → new id."""
    if not rows:
        return {}
    statement = (
        insert(Result)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_classroom_results_run")
        .returning(Result.id, Result.learner_id, Result.run_id)
    )
    return {(learner, run): id_ for id_, learner, run in (await session.execute(statement)).all()}


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
) -> dict[tuple[uuid.UUID, str], Standing]:
    """The standings of these (learner, lesson) pairs, locked FOR UPDATE in key order (no deadlock between writers)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    query = (
        select(Standing)
        .where(tuple_(Standing.learner_id, Standing.lesson).in_(wanted))
        .order_by(Standing.learner_id, Standing.lesson)
        .with_for_update()
    )
    return {(standing.learner_id, standing.lesson): standing for standing in (await session.scalars(query)).all()}


async def put_standings(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert or replace standings, one statement for all."""
    if not rows:
        return
    statement = insert(Standing).values(rows)
    changed = {column: statement.excluded[column] for column in rows[0] if column not in ("learner_id", "lesson")}
    await session.execute(statement.on_conflict_do_update(index_elements=["learner_id", "lesson"], set_=changed))
