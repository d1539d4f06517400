"""Lesson 10 checks, step 3: /health/live asks nothing; /health/ready asks the database and Redis, within a timeout."""

import time
from typing import Any

import pytest

from workshop.serving import ESCAPED

from .conftest import closed_database_url, closed_redis_url, expect_status, explain, lesson_error, within

pytestmark = pytest.mark.step(3)


async def test_live_answers_200_without_asking_the_database_or_redis(ledger: Any, silent_port: int) -> None:
    """Hint: liveness is "the process answers": no session, no ping, no I/O."""
    hanging = {
        "database_url": f"postgresql+asyncpg://postgres:postgres@127.0.0.1:{silent_port}/ledger",
        "redis_url": f"redis://127.0.0.1:{silent_port}/0",
    }
    async with ledger(real_sessions=True, **hanging) as served:
        started = time.perf_counter()
        response = await within(
            5, "GET /health/live while the database and Redis hang", 3, served.http.get("/health/live")
        )
        took = time.perf_counter() - started
    expect_status(response, 200, "GET /health/live while the database and Redis hang", 3)
    assert took < 0.4, (
        f"Lesson 10: GET /health/live took {took:.2f} s while the database and Redis hang (it answered "
        f"{response.status_code} only after waiting for one of them); liveness touches nothing: a probe that "
        "fails with the database gets a healthy process restarted, which fixes nothing (step 3)"
    )


async def test_ready_answers_200_when_the_database_and_redis_answer(ledger: Any) -> None:
    """Hint: ask both, each within settings.ready_timeout; 200 with "ok" for each."""
    async with ledger(real_sessions=True) as served:
        response = await within(5, "GET /health/ready", 3, served.http.get("/health/ready"))
    expect_status(response, 200, "GET /health/ready with the database and Redis up", 3)
    body = response.json()
    assert body.get("database") == "ok" and body.get("redis") == "ok", (
        f"Lesson 10: GET /health/ready answered {body}; expected "
        '{"status": "ok", "database": "ok", "redis": "ok"} (step 3)'
    )


async def test_ready_answers_503_naming_the_database_when_it_is_down(ledger: Any, database_url: str) -> None:
    """Hint: database_answers() is False when connecting fails (OSError) or the database refuses (DBAPIError)."""
    async with ledger(real_sessions=True, database_url=closed_database_url(database_url)) as served:
        response = await within(5, "GET /health/ready with the database down", 3, served.http.get("/health/ready"))
    expect_status(response, 503, "GET /health/ready with the database down", 3, "naming the database")
    body = response.json()
    assert body.get("database") == "unreachable" and body.get("redis") == "ok", (
        f"Lesson 10: GET /health/ready with the database down answered {body}; expected "
        '"database": "unreachable" and "redis": "ok": say which dependency failed (step 3)'
    )


async def test_ready_answers_503_naming_redis_when_it_is_down(ledger: Any) -> None:
    """Hint: Redis is a dependency of readiness too: without it the instance is slow; tell the orchestrator."""
    async with ledger(real_sessions=True, redis_url=closed_redis_url()) as served:
        response = await within(5, "GET /health/ready with Redis down", 3, served.http.get("/health/ready"))
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 503 or body.get("redis") != "unreachable":
        # A 500 names the exception behind it (say, no app.state.redis yet): that, not the probe, is the news.
        crashed = isinstance(response.extensions.get(ESCAPED), BaseException)
        raise lesson_error(
            f"GET /health/ready with Redis down answered {explain(response)}; expected 503 with "
            '"redis": "unreachable"'
            f"{'' if crashed else ': readiness asks Redis too (redis_answers, a PING) and names it'} (step 3)"
        )
    assert body.get("database") == "ok", f"Lesson 10: with only Redis down, /health/ready said {body} (step 3)"


async def test_ready_answers_within_its_timeout_when_the_database_hangs(ledger: Any, silent_port: int) -> None:
    """Hint: `async with asyncio.timeout(timeout):` around the whole question, connecting included."""
    hanging = f"postgresql+asyncpg://postgres:postgres@127.0.0.1:{silent_port}/ledger"
    async with ledger(real_sessions=True, database_url=hanging, ready_timeout=0.5) as served:
        started = time.perf_counter()
        response = await within(
            6,
            "GET /health/ready while the database accepts connections and never answers",
            3,
            served.http.get("/health/ready"),
        )
        took = time.perf_counter() - started
    expect_status(response, 503, "GET /health/ready while the database hangs", 3, "naming the database")
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    assert body.get("database") == "unreachable", (
        f"Lesson 10: GET /health/ready while the database hangs answered 503 {response.text[:200]}; expected "
        '"database": "unreachable" (step 3)'
    )
    assert took < 3, (
        f"Lesson 10: GET /health/ready took {took:.1f} s while the database hangs, with ready_timeout=0.5; a "
        "probe waits at most its timeout, or the orchestrator's own timeout calls the whole instance dead (step 3)"
    )
