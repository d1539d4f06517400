"""Shared by lesson 10's checks: your app over HTTP, its log lines, a rate service that does as told, Redis.

`ledger(**settings)` builds the app with your `create_app()`, runs its lifespan (so your
`configure_logging` runs) and gives an `httpx.AsyncClient` that talks to it in-process; each request's
session is a SAVEPOINT in the check's transaction. `http.logs` then holds every line your logging wrote
to its stream while the check ran, parsed as JSON.

The rate service is real HTTP on 127.0.0.1 (not a mock of httpx): your client's timeouts, connections and
retries are what the checks observe. `rates.answer(...)` scripts its answers; `rates.calls` counts the
requests. Redis is the workshop's (embedded, or WORKSHOP_REDIS_URL), a database of this run's own,
emptied before each check.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncConnection

from workshop import grading
from workshop.grading import LessonError
from workshop.serving import ESCAPED, ledger_in, serving, where

PASSWORD = "correct horse battery staple"
SECRET = "a-test-secret-that-is-not-the-default"
DATABASE_TIMEOUT = 30


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"database_url", "ledger", "app_env"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.workshop_timeout(DATABASE_TIMEOUT))


def lesson_error(message: str) -> LessonError:
    return LessonError(f"Lesson 10: {message}")


# --- a rate service that does as the check says ---------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0  # seconds before answering; a large one is a service that hangs


def rate_body(rates: dict[str, str]) -> bytes:
    """Frankfurter's answer: {"amount": 1.0, "base": …, "date": …, "rates": {"USD": 1.0842}}, rates as JSON numbers."""
    numbers = ", ".join(f'"{currency}": {rate}' for currency, rate in rates.items())
    return f'{{"amount": 1.0, "base": "EUR", "date": "2026-12-01", "rates": {{{numbers}}}}}'.encode()


@dataclass
class RateService:
    """A real HTTP server on 127.0.0.1: it answers each request with the next scripted answer (the last repeats)."""

    url: str = ""
    script: list[Answer] = field(default_factory=lambda: [Answer(200, rate_body({"USD": "1.25"}))])
    calls: list[str] = field(default_factory=list)  # "GET /latest?base=EUR&symbols=USD", one per request

    def answer(self, *answers: Answer) -> None:
        self.script = list(answers)

    def rate(self, currency: str, rate: str) -> None:
        self.answer(Answer(200, rate_body({currency: rate})))

    def next_answer(self) -> Answer:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


async def _serve_http(service: RateService, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, target = request_line.split(" ")[:2]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            service.calls.append(f"{method} {target}")
            answer = service.next_answer()
            if answer.delay:
                await asyncio.sleep(answer.delay)
            writer.write(
                f"HTTP/1.1 {answer.status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(answer.body)}\r\n\r\n".encode()
                + answer.body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError, ValueError):
        pass
    finally:
        writer.close()


@asynccontextmanager
async def tcp_server(handler: Any) -> AsyncIterator[int]:
    """A server on 127.0.0.1 running `handler(reader, writer)` per connection; yields its port."""
    tasks: set[asyncio.Task[None]] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)  # type: ignore[arg-type]
        try:
            await handler(reader, writer)
        except asyncio.CancelledError:
            # Stopped when the check ends. Ended quietly: Python 3.11's streams print the traceback of a
            # handler that ends cancelled under the check's own failure, as if the learner's code raised it.
            writer.close()
        finally:
            tasks.discard(task)  # type: ignore[arg-type]

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


@pytest_asyncio.fixture(loop_scope="session")
async def rates() -> AsyncIterator[RateService]:
    service = RateService()
    async with tcp_server(lambda reader, writer: _serve_http(service, reader, writer)) as port:
        service.url = f"http://127.0.0.1:{port}/v1"
        yield service


@pytest_asyncio.fixture(loop_scope="session")
async def silent_port() -> AsyncIterator[int]:
    """A port where a server accepts connections and never says a word: a dependency that hangs."""

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            writer.close()

    async with tcp_server(never_answer) as port:
        yield port


def closed_port() -> int:
    """A port where nothing listens: a connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{closed_port()}/0"


def closed_database_url(database_url: str) -> str:
    return f"postgresql+asyncpg://postgres:postgres@127.0.0.1:{closed_port()}/ledger"


# --- the app, its logs ----------------------------------------------------------------------------------


class Logs:
    """Every line your logging wrote while the app ran, parsed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        parsed = []
        for line in self.text.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise lesson_error(
                    f"this log line is not JSON: {line[:200]!r}; every line must be one JSON object, written by "
                    "python-json-logger's JsonFormatter (or structlog) on the root logger's handler (step 1)"
                ) from None
            if not isinstance(record, dict):
                raise lesson_error(f"this log line is JSON but not an object: {line[:200]!r} (step 1)")
            parsed.append(record)
        return parsed

    def of(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("request_id") == request_id]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if {"method", "route", "status"} <= set(line)]

    def warnings(self) -> list[dict[str, Any]]:
        """The lines at WARNING or above, access lines left out."""
        return [
            line
            for line in self.lines()
            if level_of(line) in ("WARNING", "ERROR", "CRITICAL") and not {"method", "route", "status"} <= set(line)
        ]


LEVELS = ("level", "levelname", "severity")


def level_of(line: dict[str, Any]) -> str:
    return next((str(line[key]).upper() for key in LEVELS if key in line), "")


def _is_pytest_handler(handler: logging.Handler) -> bool:
    return type(handler).__module__.startswith("_pytest")


@pytest.fixture
def restore_logging() -> Any:
    """Put the root logger back as it was: your configure_logging replaces its handlers."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    access_disabled = logging.getLogger("uvicorn.access").disabled
    yield
    root.handlers = handlers
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = access_disabled


def capture(logs: Logs) -> int:
    """Send every stream handler your logging set up to `logs`; how many there were."""
    found = 0
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not _is_pytest_handler(handler):
            if isinstance(handler, logging.FileHandler):
                continue
            handler.setStream(logs.stream)
            found += 1
    return found


@dataclass
class Served:
    http: httpx.AsyncClient
    logs: Logs
    app: Any


def default_settings(database_url: str, redis_url: str, rates_url: str) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "redis_url": redis_url,
        "rates_url": rates_url,
        "rates_timeout": 0.5,
        "rates_retries": 2,
        "rates_cache_seconds": 300,
        "ready_timeout": 0.5,
        "log_level": "INFO",
    }


@pytest.fixture
def ledger(
    app_env: str, db_connection: AsyncConnection, redis_url: str, rates: RateService, restore_logging: Any
) -> Any:
    """`async with ledger(**settings) as served:` your app (sessions inside this check's transaction), its logs."""

    @asynccontextmanager
    async def start(*, real_sessions: bool = False, **overrides: Any) -> AsyncIterator[Served]:
        settings = {**default_settings(app_env, redis_url, rates.url), **overrides}
        logs = Logs()
        if real_sessions:
            from workshop.serving import create_app

            application = create_app(**settings)
            async with serving(application) as http:
                if not capture(logs):
                    raise no_handler()
                yield Served(http, logs, application)
            return
        async with ledger_in(db_connection)(**settings) as http:
            if not capture(logs):
                raise no_handler()
            yield Served(http, logs, None)

    return start


def no_handler() -> LessonError:
    return lesson_error(
        "after the app started, the root logger has no StreamHandler: the lifespan must call configure_logging(), "
        "which puts one on the root logger (logging.getLogger()) with the JSON formatter (step 1)"
    )


def explain(response: httpx.Response) -> str:
    status = response.status_code
    escaped = response.extensions.get(ESCAPED)
    if status == 500 and isinstance(escaped, BaseException):
        said = grading.unexpected_outcome(escaped) or f"your code raised {type(escaped).__name__}: {escaped}"
        return f"500 because {said[:300]}{where(escaped)}"
    return f"{status} {response.text[:200]}"


def error_code(response: httpx.Response) -> object:
    try:
        body = response.json()
    except ValueError:
        return f"a body that is not JSON: {response.text[:80]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else f"no error code: {response.text[:120]}"


def expect_status(response: httpx.Response, status: int, what: str, step: int, wanted: str = "") -> None:
    if response.status_code != status:
        raise lesson_error(
            f"{what} answered {explain(response)}; expected {status}{' ' + wanted if wanted else ''} (step {step})"
        )


async def quote(http: httpx.AsyncClient, amount: int = 1000, base: str = "EUR", target: str = "USD") -> httpx.Response:
    return await http.get("/api/v1/quotes", params={"base": base, "target": target, "amount": amount})


def new_id() -> str:
    return f"check-{uuid.uuid4().hex[:16]}"


async def within(seconds: float, what: str, step: int, awaitable: Any) -> Any:
    """`await awaitable`, or a lesson message if it takes longer than `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise lesson_error(
            f"{what} had no answer after {seconds:.0f} s: something waits without a timeout (step {step})"
        ) from None
