"""The classroom's rules: opening a class, joining it, recording results, and the room as the instructor sees it.

Services reach the data through `crud` and raise `ClassroomError`s, never HTTP errors; the routers
turn them into answers. Results are written by the `Recorder`: the results that arrive together
are recorded in one transaction (group commit), so a room of learners whose runs end at the same
moment costs a few transactions instead of one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workshop.classroom import protocol
from workshop.classroom.server import crud
from workshop.classroom.server.models import Learner, Standing
from workshop.classroom.server.schemas import (
    FailingOut,
    LearnerOut,
    Recorded,
    ReportIn,
    RoomOut,
    StandingOut,
)

logger = logging.getLogger("workshop.classroom")

CLOCK_SKEW = timedelta(days=1)  # a run's own time is trusted within this much before its arrival


class ClassroomError(Exception):
    """A request the classroom's rules refuse; the message is for the person who sent it."""


class WrongCode(ClassroomError):
    pass


class NameTaken(ClassroomError):
    pass


class ClassFull(ClassroomError):
    pass


class UnknownLesson(ClassroomError):
    pass


class NoSuchClass(ClassroomError):
    pass


@dataclass(frozen=True)
class Opened:
    """A class that is open, with its secrets (known to `class serve` only; the database has their hashes)."""

    classroom_id: uuid.UUID
    title: str
    code: str
    instructor_token: str
    resumed: bool = False


@dataclass(frozen=True)
class LearnerRef:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class ClassRef:
    """The class a server serves, as its routes need it: loaded once when the server starts."""

    id: uuid.UUID
    title: str
    instructor_hash: bytes

    def is_instructor(self, token: str) -> bool:
        return token.startswith(protocol.INSTRUCTOR_PREFIX) and hmac.compare_digest(
            self.instructor_hash, protocol.digest(token)
        )


async def load_class(session: AsyncSession, classroom_id: uuid.UUID) -> ClassRef:
    classroom = await crud.get_classroom(session, classroom_id)
    if classroom is None:
        raise NoSuchClass(f"there is no class {classroom_id} in this database")
    return ClassRef(classroom.id, classroom.title, classroom.instructor_hash)


class Changes:
    """A counter of recorded results that a task can wait on (the instructor's page redraws on a change)."""

    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Event()

    def bump(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, seen: int, timeout: float) -> int:
        """Wait until the version is no longer `seen`, at most `timeout` seconds; return the version."""
        if self.version == seen:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self.version


async def open_class(session: AsyncSession, title: str) -> Opened:
    """A new class with a new code and instructor token."""
    code, token = protocol.new_code(), protocol.new_token(protocol.INSTRUCTOR_PREFIX)
    classroom = await crud.add_classroom(
        session, title, protocol.digest(protocol.normalise_code(code)), protocol.digest(token)
    )
    return Opened(classroom.id, title, code, token)


async def resume_class(session: AsyncSession, classroom_id: uuid.UUID, code: str, instructor_token: str) -> Opened:
    """The class `class serve` opened before, if it is still in the database with these secrets."""
    classroom = await crud.get_classroom(session, classroom_id)
    if (
        classroom is None
        or not hmac.compare_digest(classroom.code_hash, protocol.digest(protocol.normalise_code(code)))
        or not hmac.compare_digest(classroom.instructor_hash, protocol.digest(instructor_token))
    ):
        raise NoSuchClass("that class is not in this database")
    return Opened(classroom.id, classroom.title, code, instructor_token, resumed=True)


class ClassroomService:
    """What one request may do in the class this server serves."""

    def __init__(self, session: AsyncSession, classroom_id: uuid.UUID, max_learners: int = protocol.MAX_LEARNERS):
        self.session = session
        self.classroom_id = classroom_id
        self.max_learners = max_learners

    async def join(self, code: str, name: str) -> tuple[LearnerRef, str]:
        """A learner joins with the class code; they get a token of their own (returned once)."""
        classroom = await crud.get_classroom(self.session, self.classroom_id)
        given = protocol.digest(protocol.normalise_code(code))
        if classroom is None or not hmac.compare_digest(classroom.code_hash, given):
            raise WrongCode("that is not this class's code: ask your instructor for it")
        key = name.casefold()
        if await crud.learner_by_name(self.session, self.classroom_id, key) is not None:
            raise NameTaken(f"someone in this class is called {name!r} already: add an initial or a surname")
        if await crud.count_learners(self.session, self.classroom_id) >= self.max_learners:
            raise ClassFull(f"this class is full ({self.max_learners} learners)")
        token = protocol.new_token(protocol.LEARNER_PREFIX)
        try:
            learner = await crud.add_learner(self.session, self.classroom_id, name, key, protocol.digest(token))
        except IntegrityError:  # the same name, joined at the same moment
            raise NameTaken(f"someone in this class is called {name!r} already: add an initial or a surname") from None
        return LearnerRef(learner.id, learner.name), token

    async def learner(self, token: str) -> LearnerRef | None:
        found = await crud.learner_by_token(self.session, self.classroom_id, protocol.digest(token))
        return LearnerRef(found.id, found.name) if found else None

    async def standings(self, learner_id: uuid.UUID) -> list[StandingOut]:
        return [_standing_out(standing) for standing in await crud.standings_of(self.session, learner_id)]

    async def room(self, lessons: list[str], now: datetime | None = None) -> RoomOut:
        classroom = await crud.get_classroom(self.session, self.classroom_id)
        if classroom is None:
            raise NoSuchClass("this server's class is not in its database any more")
        learners = await crud.learners_of(self.session, self.classroom_id)
        standings = await crud.standings_of_class(self.session, self.classroom_id)
        return build_room(classroom.title, lessons, learners, standings, now or datetime.now(UTC))


def _standing_out(standing: Standing) -> StandingOut:
    return StandingOut(
        lesson=standing.lesson,
        passed=standing.passed,
        graded=standing.graded,
        run_at=standing.run_at,
        next_check=standing.next_check,
        next_step=standing.next_step,
    )


def _minutes(since: datetime, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds() / 60)


def build_room(
    title: str, lessons: list[str], learners: Sequence[Learner], standings: Sequence[Standing], now: datetime
) -> RoomOut:
    """The room: a row per learner (their lessons, current check, minutes since progress), who is stuck
    longest on one check, and per check how many learners fail it in their latest run of its lesson
    (and for how many it is the next check: where they are held up now)."""
    mine: dict[uuid.UUID, list[Standing]] = defaultdict(list)
    failing: Counter[tuple[str, str, int]] = Counter()
    next_for: Counter[tuple[str, str]] = Counter()  # learners whose next failing check in the lesson it is
    ran: Counter[str] = Counter()
    for standing in standings:
        mine[standing.learner_id].append(standing)
        ran[standing.lesson] += 1
        for check, step in standing.failing:
            failing[(standing.lesson, str(check), int(step))] += 1
        if standing.next_check is not None:
            next_for[(standing.lesson, standing.next_check)] += 1
    rows: list[LearnerOut] = []
    for learner in learners:
        theirs = mine.get(learner.id, [])
        current = max(theirs, key=lambda standing: (standing.run_at, standing.result_id)) if theirs else None
        progress = max([standing.progressed_at for standing in theirs], default=learner.joined_at)
        rows.append(
            LearnerOut(
                name=learner.name,
                joined_at=learner.joined_at,
                current=_standing_out(current) if current else None,
                stuck_minutes=_minutes(current.next_since, now) if current and current.next_since else None,
                minutes_since_progress=_minutes(progress, now),
                lessons={standing.lesson: _standing_out(standing) for standing in theirs},
            )
        )
    stuck = sorted((row for row in rows if row.stuck_minutes is not None), key=lambda row: -(row.stuck_minutes or 0))
    # Where learners are held up first (their next check), then what most of them fail.
    worst = sorted(
        failing.items(),
        key=lambda item: (-next_for[item[0][:2]], -item[1], item[0][0], item[0][2], item[0][1]),
    )
    return RoomOut(
        title=title,
        lessons=lessons,
        learners=rows,
        stuck=[row.name for row in stuck],
        failing=[
            FailingOut(
                lesson=lesson, check=check, step=step, failing=count, next_for=next_for[(lesson, check)], of=ran[lesson]
            )
            for (lesson, check, step), count in worst
        ],
        at=now,
    )


# --- recording results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A result a learner posted, as the recorder receives it."""

    learner_id: uuid.UUID
    run_id: uuid.UUID
    report: ReportIn
    received_at: datetime

    @property
    def run_at(self) -> datetime:
        """When the run ended, by the learner's clock, kept within a day before its arrival (clocks drift)."""
        return min(max(self.report.at, self.received_at - CLOCK_SKEW), self.received_at)


async def record(session: AsyncSession, submissions: list[Submission]) -> list[Recorded]:
    """Record results: each in the history, and as the learner's standing in its lesson unless a later run
    of that lesson came first. A run recorded before (a resend) changes nothing."""
    new = await crud.add_results(
        session,
        [
            {
                "learner_id": item.learner_id,
                "run_id": item.run_id,
                "lesson": item.report.lesson,
                "run_at": item.run_at,
                "received_at": item.received_at,
                "passed": item.report.passed,
                "graded": item.report.graded,
                "report": item.report.model_dump(mode="json", by_alias=True),
            }
            for item in submissions
        ],
    )
    fresh = [item for item in submissions if (item.learner_id, item.run_id) in new]
    # A resend, or the same run twice in one batch: recorded once, answered with the first record's id.
    before = await crud.results_by_run(
        session, [(item.learner_id, item.run_id) for item in submissions if (item.learner_id, item.run_id) not in new]
    )
    locked = await crud.lock_standings(session, [(item.learner_id, item.report.lesson) for item in fresh])
    standings = dict(locked)
    changed: set[tuple[uuid.UUID, str]] = set()
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    answers = []
    for item in submissions:
        key = (item.learner_id, item.run_id)
        if key in new and key not in seen:
            seen.add(key)
            place = (item.learner_id, item.report.lesson)
            updated = _advance(standings.get(place), item, new[key])
            if updated is not None:
                standings[place] = updated
                changed.add(place)
            answers.append(Recorded(id=new[key], lesson=item.report.lesson, replayed=False))
        else:
            id_, lesson = before.get(key) or (new[key], item.report.lesson)
            answers.append(Recorded(id=id_, lesson=lesson, replayed=True))
    await crud.put_standings(session, [standings[place] for place in sorted(changed)])
    return answers


def _advance(standing: dict[str, Any] | None, item: Submission, result_id: int) -> dict[str, Any] | None:
    """The learner's standing in the lesson after this run; None when a later run of it is known already."""
    run_at = item.run_at
    if standing is not None and run_at < standing["run_at"]:
        return None
    failing = sorted(
        ((check.name, check.step) for check in item.report.checks if check.outcome == "failed"),
        key=lambda pair: pair[1],
    )
    next_check, next_step = failing[0] if failing else (None, None)
    message = next((check.message for check in item.report.checks if check.name == next_check), None)
    if standing is None:
        best, progressed_at, next_since = item.report.passed, run_at, run_at if next_check else None
    else:
        improved = item.report.passed > standing["best"]
        best = max(standing["best"], item.report.passed)
        progressed_at = run_at if improved else standing["progressed_at"]
        same_check = next_check is not None and standing["next_check"] == next_check
        next_since = standing["next_since"] if same_check else (run_at if next_check else None)
    return {
        "learner_id": item.learner_id,
        "lesson": item.report.lesson,
        "result_id": result_id,
        "run_at": run_at,
        "passed": item.report.passed,
        "graded": item.report.graded,
        "best": best,
        "progressed_at": progressed_at,
        "next_check": next_check,
        "next_step": next_step,
        "next_message": message,
        "next_since": next_since,
        "failing": [[name, step] for name, step in failing],
    }


class Recorder:
    """Records results in the order they arrive, all those waiting in one transaction.

    A route hands its submission over and awaits the answer; one task writes. Unlike the other
    routes, which get a session per request, a batch gets a session (and a transaction) per batch:
    200 learners posting at once cost one or two commits, not 200.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        batch_size: int,
        on_recorded: Callable[[], None] = lambda: None,
    ):
        self._sessions = sessions
        self._batch_size = batch_size
        self._on_recorded = on_recorded
        self._queue: asyncio.Queue[tuple[Submission, asyncio.Future[Recorded]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="classroom recorder")

    async def stop(self) -> None:
        """Record what is waiting, then stop."""
        await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def record(self, submission: Submission) -> Recorded:
        if self._task is None or self._task.done():
            raise RuntimeError("the recorder is not running")
        answer: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((submission, answer))
        return await answer

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[tuple[Submission, asyncio.Future[Recorded]]]) -> None:
        try:
            async with self._sessions() as session, session.begin():
                answers = await record(session, [submission for submission, _ in batch])
        except Exception as error:
            if len(batch) > 1:  # one bad submission must not fail the others: each on its own
                for one in batch:
                    await self._write([one])
                return
            logger.exception("could not record a result")
            if not batch[0][1].done():
                batch[0][1].set_exception(error)
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)
        self._on_recorded()
