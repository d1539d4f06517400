"""The class server's API and rules, in process: who may do what, what it refuses, what the room says.

The app runs on a real database (of this module's own, migrated by the server's own Alembic
migrations) through httpx's ASGITransport, with its lifespan (asgi-lifespan). The whole server
as a process, with learners' real runs, is in test_classroom_room.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from loadtest.classroom import report
from loadtest.stack import fresh_database
from pydantic import SecretStr

from workshop import database
from workshop.classroom import protocol
from workshop.classroom.server import services
from workshop.classroom.server.config import ClassSettings
from workshop.classroom.server.database import create_engine, downgrade, migrate
from workshop.classroom.server.main import create_app
from workshop.classroom.server.models import Learner, Standing
from workshop.classroom.server.schemas import ReportIn
from workshop.classroom.server.serve import prepare

LESSONS = ["00", "01", "02"]


@dataclass
class Room:
    app: FastAPI
    client: httpx.AsyncClient
    code: str
    instructor: str
    dsn: str

    async def join(self, name: str) -> str:
        answer = await self.client.post(protocol.JOIN, json={"code": self.code, "name": name})
        assert answer.status_code == 201, answer.text
        token: str = answer.json()["token"]
        return token

    async def post(self, token: str, result: dict[str, Any], run_id: str | None = None) -> httpx.Response:
        body = {"run_id": run_id or str(uuid.uuid4()), "result": result}
        return await self.client.post(protocol.RESULTS, json=body, headers={"Authorization": f"Bearer {token}"})

    async def room(self) -> dict[str, Any]:
        answer = await self.client.get(protocol.ROOM, headers={"Authorization": f"Bearer {self.instructor}"})
        assert answer.status_code == 200, answer.text
        room: dict[str, Any] = answer.json()
        return room


@pytest.fixture(scope="module")
def class_database() -> Iterator[tuple[str, str]]:
    with fresh_database("classroom_api") as (target, name):
        yield target.database_url(name), target.dsn(name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def room(class_database: tuple[str, str]) -> AsyncIterator[Room]:
    url, dsn = class_database
    settings = ClassSettings(database_url=SecretStr(url), join_failures_per_minute=3)
    opened = await prepare(settings, "Tuesday's class", known=None)
    app = create_app(settings, opened.classroom_id, lessons=LESSONS)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://class") as client,
    ):
        yield Room(app, client, opened.code, opened.instructor_token, dsn)


def a_name() -> str:
    return f"Learner {uuid.uuid4().hex[:8]}"


# --- joining -------------------------------------------------------------------------------------------


async def test_joining_needs_the_class_code_and_gives_a_token_stored_only_as_its_hash(room: Room) -> None:
    wrong = await room.client.post(protocol.JOIN, json={"code": "AAAA-AAAA", "name": "Mallory"})
    assert wrong.status_code == 403
    lowercase = room.code.lower().replace("-", " ")  # as someone types what they heard
    joined = await room.client.post(protocol.JOIN, json={"code": lowercase, "name": "Ada"})
    assert joined.status_code == 201, joined.text
    token = joined.json()["token"]
    assert token.startswith(protocol.LEARNER_PREFIX) and len(token) > 40
    (rows,) = await database.execute(room.dsn, "SELECT name, token_hash FROM classroom_learners")
    assert ("Mallory",) not in {(name,) for name, _ in rows}
    stored = {bytes(token_hash) for name, token_hash in rows if name == "Ada"}
    assert stored == {hashlib.sha256(token.encode()).digest()}, "the database keeps the token's hash, not the token"


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 41, "Ada\nLovelace", "<script>alert(1)</script>", "_underscore", "tab\there", "Ada;DROP"],
)
async def test_a_name_that_is_not_a_name_is_refused(room: Room, name: str) -> None:
    answer = await room.client.post(protocol.JOIN, json={"code": room.code, "name": name})
    assert answer.status_code == 422, f"{name!r}: {answer.status_code} {answer.text}"


async def test_names_are_one_per_learner_whatever_their_case(room: Room) -> None:
    await room.join("Grace Hopper")
    again = await room.client.post(protocol.JOIN, json={"code": room.code, "name": "grace hopper"})
    assert again.status_code == 409 and "called" in again.json()["detail"]


async def test_guessing_the_code_is_slowed_down(room: Room) -> None:
    # Another address than the other tests', so that only this one is slowed down.
    transport = httpx.ASGITransport(app=room.app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://class") as guesser:
        for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"):
            assert (await guesser.post(protocol.JOIN, json={"code": guess, "name": "Eve"})).status_code == 403
        blocked = await guesser.post(protocol.JOIN, json={"code": room.code, "name": "Eve"})
        assert blocked.status_code == 429, "after 3 wrong codes in a minute, even the right one waits"
    assert (await room.client.post(protocol.JOIN, json={"code": room.code, "name": a_name()})).status_code == 201


# --- writing only one's own --------------------------------------------------------------------------


async def test_posting_needs_a_learners_token(room: Room) -> None:
    result = {"run_id": str(uuid.uuid4()), "result": report("00", 3)}
    forged = protocol.LEARNER_PREFIX + "A" * 43
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": f"Bearer {forged}"}):
        assert (await room.client.post(protocol.RESULTS, json=result, headers=headers)).status_code == 401
    as_instructor = {"Authorization": f"Bearer {room.instructor}"}
    assert (await room.client.post(protocol.RESULTS, json=result, headers=as_instructor)).status_code == 401


async def test_a_learner_writes_only_their_own_results(room: Room) -> None:
    alice, bob = a_name(), a_name()
    alice_token, _ = await room.join(alice), await room.join(bob)
    claim = {"run_id": str(uuid.uuid4()), "result": report("01", 5), "learner": bob}
    smuggled = await room.client.post(protocol.RESULTS, json=claim, headers={"Authorization": f"Bearer {alice_token}"})
    assert smuggled.status_code == 422, "a body that names a learner is refused: only the token says whose it is"
    assert (await room.post(alice_token, report("01", 5))).status_code == 201
    learners = {learner["name"]: learner for learner in (await room.room())["learners"]}
    assert learners[alice]["lessons"]["01"]["passed"] == 5
    assert learners[bob]["lessons"] == {}, "alice's result landed on bob"


async def test_a_learner_reads_only_their_own_results(room: Room) -> None:
    alice, bob = await room.join(a_name()), await room.join(a_name())
    await room.post(alice, report("00", 2))
    await room.post(bob, report("01", 7))
    mine = await room.client.get(protocol.RESULTS, headers={"Authorization": f"Bearer {alice}"})
    assert [(item["lesson"], item["passed"]) for item in mine.json()] == [("00", 2)]
    for token in (alice, bob):
        answer = await room.client.get(protocol.ROOM, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403, "a learner must not read the room"
        page = await room.client.get(protocol.INSTRUCTOR, params={"token": token})
        assert page.status_code == 403 and "set-cookie" not in page.headers


async def test_a_resent_result_is_recorded_once(room: Room) -> None:
    token, run = await room.join(a_name()), str(uuid.uuid4())
    first, again = await room.post(token, report("00", 4), run), await room.post(token, report("00", 4), run)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "replayed": True}
    (rows,) = await database.execute(room.dsn, f"SELECT count(*) FROM classroom_results WHERE run_id = '{run}'")
    assert rows == [(1,)]


# --- the instructor's view ---------------------------------------------------------------------------


async def test_the_room_needs_the_instructors_token(room: Room) -> None:
    assert (await room.client.get(protocol.ROOM)).status_code == 401
    assert (await room.client.get(protocol.INSTRUCTOR)).status_code == 401
    assert (await room.client.get(f"{protocol.INSTRUCTOR}/events")).status_code == 401
    wrong = protocol.INSTRUCTOR_PREFIX + "B" * 43
    assert (await room.client.get(protocol.ROOM, headers={"Authorization": f"Bearer {wrong}"})).status_code == 403
    assert (await room.client.get(protocol.INSTRUCTOR, params={"token": wrong})).status_code == 403


async def test_the_instructors_link_becomes_a_cookie_and_leaves_the_address_bar(room: Room) -> None:
    token = await room.join("O'Brien")
    # What learners send is shown, never run: a check's name (or message) is text.
    result = report("00", 0)
    result["checks"][0]["name"] = "test_x[<script>alert(1)</script>]"
    assert (await room.post(token, result)).status_code == 201
    transport = httpx.ASGITransport(app=room.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://class") as browser:
        link = await browser.get(protocol.INSTRUCTOR, params={"token": room.instructor})
        assert link.status_code == 303 and link.headers["location"] == protocol.INSTRUCTOR
        cookie = link.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and f"path={protocol.INSTRUCTOR}" in cookie
        page = await browser.get(protocol.INSTRUCTOR)
        assert page.status_code == 200 and 'id="grid"' in page.text
        assert "O&#x27;Brien" in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
        for name, value in {
            "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "cache-control": "no-store",
        }.items():
            assert page.headers.get(name) == value, name


# --- input validation ------------------------------------------------------------------------------


def with_checks(result: dict[str, Any], count: int) -> dict[str, Any]:
    checks = [dict(result["checks"][0], name=f"test_{index}") for index in range(count)]
    return {**result, "checks": checks, "total": count, "selected": count, "passed": count, "failed": 0}


def broken_reports() -> dict[str, dict[str, Any]]:
    good = report("00", 3)
    first = good["checks"][0]
    return {
        "a lesson of one digit": {**good, "lesson": "5"},
        "a lesson of three digits": {**good, "lesson": "100"},
        "a path for a lesson": {**good, "lesson": ".."},
        "a lesson this class does not have": {**good, "lesson": "42"},
        "too many checks": with_checks(good, protocol.MAX_CHECKS + 1),
        "a message too long": {**good, "checks": [{**first, "message": "x" * (protocol.MAX_MESSAGE + 1)}]},
        "totals that do not add up": {**good, "passed": 14},
        "a narrowed run": {**good, "selected": 1},
        "a passed check with a kind": {**good, "checks": [{**first, "kind": "bug"}, *good["checks"][1:]]},
        "another version": {**good, "schema": 1},
        "a time without a zone": {**good, "at": "2026-01-01T10:00:00"},
    }


@pytest.mark.parametrize("case", list(broken_reports()))
async def test_a_report_that_is_not_one_is_refused(room: Room, case: str) -> None:
    token = await room.join(a_name())
    answer = await room.post(token, broken_reports()[case])
    assert answer.status_code == 422, f"{case}: {answer.status_code} {answer.text[:300]}"
    (rows,) = await database.execute(
        room.dsn, "SELECT count(*) FROM classroom_results WHERE lesson NOT IN ('00', '01')"
    )
    assert rows == [(0,)]


async def test_a_body_over_the_limit_is_refused_before_it_is_read(room: Room) -> None:
    token = await room.join(a_name())
    body = json.dumps(
        {"run_id": str(uuid.uuid4()), "result": report("00", 3), "padding": "x" * protocol.MAX_RESULT_BODY}
    )
    answer = await room.client.post(
        protocol.RESULTS,
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    big_join = await room.client.post(protocol.JOIN, json={"code": room.code, "name": "x" * protocol.MAX_BODY})
    assert big_join.status_code == 413


# --- what the room says ----------------------------------------------------------------------------


def run_of(lesson: str, passed: int, at: datetime, checks: int = 6) -> ReportIn:
    data = report(lesson, passed, checks)
    return ReportIn.model_validate({**data, "at": at.isoformat()})


def test_the_room_tracks_progress_the_current_check_and_how_long_it_has_been_the_current_one() -> None:
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    learner = uuid.uuid4()
    standing = None
    timeline = [
        (0, 2, "first run: progress, and check 2 is next"),
        (5, 2, "same next check: still stuck since 9:00; no progress"),
        (9, 1, "worse: no progress, another next check"),
        (12, 2, "back to 2 passing: not a new best, but check 2 is next again since now"),
        (20, 4, "a new best: progress"),
    ]
    states = []
    for minute, passed, _ in timeline:
        item = services.Submission(
            learner, uuid.uuid4(), run_of("00", passed, start + timedelta(minutes=minute)), start
        )
        object.__setattr__(item, "received_at", start + timedelta(minutes=minute, seconds=1))
        standing = services._advance(standing, item, result_id=minute) or standing
        states.append(standing)
    minute_of = [(state["progressed_at"] - start).seconds // 60 for state in states]
    since = [(state["next_since"] - start).seconds // 60 for state in states]
    assert minute_of == [0, 0, 0, 0, 20]
    assert since == [0, 0, 9, 12, 20]
    assert [state["best"] for state in states] == [2, 2, 2, 2, 4]
    late = services.Submission(
        learner, uuid.uuid4(), run_of("00", 0, start + timedelta(minutes=3)), start + timedelta(minutes=30)
    )
    assert services._advance(states[-1], late, result_id=99) is None, "a run that ended earlier came late: ignored"


def test_a_run_from_a_clock_in_the_future_counts_as_now() -> None:
    now = datetime.now(UTC)
    item = services.Submission(uuid.uuid4(), uuid.uuid4(), run_of("00", 1, now + timedelta(hours=5)), now)
    assert item.run_at == now


async def test_the_room_shows_the_current_check_and_how_many_fail_each_check(room: Room) -> None:
    first, second, third = a_name(), a_name(), a_name()
    tokens = {name: await room.join(name) for name in (first, second, third)}
    await room.post(tokens[first], report("02", 1))
    await asyncio.sleep(0.05)
    await room.post(tokens[second], report("02", 1))
    await room.post(tokens[third], report("02", 14))
    state = await room.room()
    learners = {learner["name"]: learner for learner in state["learners"]}
    assert learners[first]["stuck_minutes"] >= learners[second]["stuck_minutes"] > 0
    assert learners[third]["stuck_minutes"] is None, "every check passes: not stuck"
    assert learners[first]["current"]["next_check"] == "test_behaviour_number_01_holds"
    assert learners[first]["current"]["next_step"] == 1
    assert learners[third]["current"]["next_check"] is None
    lesson_02 = {
        item["check"]: (item["failing"], item["next_for"], item["of"])
        for item in state["failing"]
        if item["lesson"] == "02"
    }
    assert lesson_02["test_behaviour_number_01_holds"] == (2, 2, 3), "two of the three fail it; it holds both up"
    assert lesson_02["test_behaviour_number_05_holds"] == (2, 0, 3), "failing, but nobody's next check yet"


def test_the_stuck_list_is_the_five_on_one_check_longest() -> None:
    now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    learners = [Learner(id=uuid.uuid4(), name=f"L{index}", joined_at=now - timedelta(hours=3)) for index in range(8)]
    standings = [
        Standing(
            learner_id=learner.id,
            lesson="03",
            result_id=index,
            run_at=now - timedelta(minutes=1),
            passed=3 if index < 7 else 9,
            graded=9,
            best=3,
            progressed_at=now - timedelta(minutes=50),
            next_check=None if index == 7 else "test_models_have_a_naming_convention",
            next_step=None if index == 7 else 2,
            next_since=None if index == 7 else now - timedelta(minutes=10 * index),
            failing=[] if index == 7 else [["test_models_have_a_naming_convention", 2]],
        )
        for index, learner in enumerate(learners)
    ]
    room = services.build_room("a class", ["03"], learners, standings, now)
    assert room.stuck == ["L6", "L5", "L4", "L3", "L2", "L1", "L0"], "the longest on one check first"
    assert [(item.check, item.failing, item.next_for, item.of) for item in room.failing] == [
        ("test_models_have_a_naming_convention", 7, 7, 8)
    ]
    assert {learner.minutes_since_progress for learner in room.learners} == {50.0}


# --- the migrations -------------------------------------------------------------------------------


async def test_the_migrations_go_down_and_up_again() -> None:
    target = database.server()
    name = database.run_database_name("classroom_migrations")
    await database.create_database(target, name)
    engine = create_engine(ClassSettings(database_url=SecretStr(target.database_url(name))))
    try:
        await migrate(engine)
        await downgrade(engine)
        (tables,) = await database.execute(
            target.dsn(name), "SELECT tablename FROM pg_tables WHERE tablename LIKE 'classroom_%'"
        )
        assert tables == [("classroom_alembic_version",)], "downgrade leaves only Alembic's own table"
        await migrate(engine)
    finally:
        await engine.dispose()
        await database.drop_database(target, name)
