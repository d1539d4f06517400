"""Lesson 10 checks, step 1: JSON log lines, a request id per request, one access line per request.

Your app runs with its lifespan (so your configure_logging runs); the lines it writes are read back and
parsed. Names the checks read: `request_id`, and on the access line `method`, `route`, `status`, `duration_ms`.
"""

import asyncio
import logging
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest

from workshop import grading

from .conftest import expect_status, lesson_error, new_id

pytestmark = pytest.mark.step(1)

MESSAGE_KEYS = ("message", "msg", "event")
LEVEL_KEYS = ("level", "levelname", "severity")
TIME_KEYS = ("time", "timestamp", "asctime", "@timestamp")
LOGGER_KEYS = ("logger", "name", "logger_name")


def has_one_of(line: dict[str, Any], keys: tuple[str, ...]) -> bool:
    return any(key in line for key in keys)


async def test_each_log_line_is_one_json_object_with_time_level_logger_and_message(ledger: Any) -> None:
    """Hint: python-json-logger's `JsonFormatter` on the root logger's one handler; rename_fields gives short names."""
    async with ledger() as served:
        expect_status(await served.http.get("/health"), 200, "GET /health", 1)
        lines = served.logs.lines()
    if not lines:
        raise lesson_error(
            "a request wrote no log line at all: configure_logging() must set the root logger's level "
            "(settings.log_level, INFO) and the middleware must write an access line per request (step 1)"
        )
    for line in lines:
        missing = [
            what
            for what, keys in (
                ("time", TIME_KEYS),
                ("level", LEVEL_KEYS),
                ("logger", LOGGER_KEYS),
                ("message", MESSAGE_KEYS),
            )
            if not has_one_of(line, keys)
        ]
        assert not missing, (
            f"Lesson 10: the log line {line} has no {', '.join(missing)}; every line needs a time, a level, the "
            "logger's name and a message: give the JsonFormatter those fields (step 1)"
        )


async def test_a_response_carries_a_new_request_id_when_none_was_sent(ledger: Any) -> None:
    """Hint: `new_request_id(None)` makes one (uuid4().hex); the middleware adds it to the response's headers."""
    async with ledger() as served:
        first = await served.http.get("/health")
        second = await served.http.get("/health")
    ids = [response.headers.get("x-request-id") for response in (first, second)]
    assert all(ids), (
        f"Lesson 10: GET /health answered without an X-Request-ID header (headers: {dict(first.headers)}); "
        "every response carries its request's id, so a client can quote it in a bug report (step 1)"
    )
    assert ids[0] != ids[1], (
        f"Lesson 10: two requests got the same request id {ids[0]!r}; each request needs a new one (step 1)"
    )


async def test_a_valid_x_request_id_from_the_client_is_kept(ledger: Any) -> None:
    """Hint: a caller (a gateway, another service) that sent X-Request-ID wants to find its id in your logs."""
    sent = str(uuid.uuid4())
    async with ledger() as served:
        response = await served.http.get("/health", headers={"X-Request-ID": sent})
        mine = served.logs.of(sent)
    assert response.headers.get("x-request-id") == sent, (
        f"Lesson 10: a request sent with X-Request-ID {sent} got back {response.headers.get('x-request-id')!r}; a "
        "valid id from the client is kept, in the response and in the log lines (step 1)"
    )
    assert mine, f"Lesson 10: no log line carries request_id {sent!r}, the id the client sent (step 1)"


@pytest.mark.parametrize(
    "sent",
    ['abc" , "level": "CRITICAL', 'abcdefgh12" , "level": "CRITICAL', "x" * 500, "short"],
    ids=["forged-json", "valid-start-then-forged-json", "too-long", "too-short"],
)
async def test_an_unsafe_x_request_id_is_replaced(ledger: Any, sent: str) -> None:
    """Hint: keep the client's id only when all of it matches VALID_REQUEST_ID; otherwise make a new one."""
    async with ledger() as served:
        response = await served.http.get("/health", headers={"X-Request-ID": sent})
        used = response.headers.get("x-request-id", "")
        lines = served.logs.lines()
    only_the_start = "only its start was checked: all of it must be a valid id, " if sent[:8].isalnum() else ""
    assert used and used != sent, (
        f"Lesson 10: a request sent with X-Request-ID {sent[:60]!r} kept it; {only_the_start}an id that is too "
        "long, too short or carries quotes and spaces is replaced by a new one (it would bloat or forge log lines) "
        "(step 1)"
    )
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", used), (
        f"Lesson 10: the new request id {used!r} is not a safe id (step 1)"
    )
    assert all(line.get("request_id") != sent for line in lines), (
        f"Lesson 10: a log line carries the unsafe id {sent[:60]!r} the client sent (step 1)"
    )


async def test_each_request_writes_one_access_line_with_method_route_status_and_duration(ledger: Any) -> None:
    """Hint: after the app answered: method, route_template(scope) (given), status, duration_ms."""
    sent = new_id()
    account = uuid.uuid4()
    async with ledger() as served:
        response = await served.http.get(f"/api/v1/accounts/{account}", headers={"X-Request-ID": sent})
        access = [line for line in served.logs.access() if line.get("request_id") == sent]
        everything = served.logs.lines()
    expect_status(response, 401, "GET /api/v1/accounts/{id} without a token", 1)
    mine = [line for line in everything if line.get("request_id") == sent]
    if len(access) != 1:
        raise lesson_error(
            f"a request (X-Request-ID {sent}) wrote {len(access)} access lines; expected exactly one, with its "
            f"request_id, method, route, status and duration_ms. Its lines: {mine[:3]} (step 1)"
        )
    (line,) = access
    expected = {"method": "GET", "route": "/api/v1/accounts/{account_id}", "status": 401}
    got = {key: line.get(key) for key in expected}
    assert got == expected, (
        f"Lesson 10: the access line of GET /api/v1/accounts/{account} says {got}; expected {expected}: the route "
        "TEMPLATE, not the path (ids in paths make every line unique), and the status the client got (step 1)"
    )
    duration = line.get("duration_ms")
    assert isinstance(duration, int | float) and 0 <= duration < 10_000, (
        f"Lesson 10: the access line's duration_ms is {duration!r}; expected the milliseconds the request took, "
        "a number (time.perf_counter() before and after) (step 1)"
    )


async def test_a_request_that_fails_with_a_500_still_writes_its_access_line(
    ledger: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: the access line belongs in a `finally:` around the call to the app: it must be written when it raises."""
    quotes = grading.load("app.services.quotes")

    async def broken(self: Any, base: str, target: str) -> Any:
        raise RuntimeError("a bug in the route, planted by the check")

    monkeypatch.setattr(quotes.QuoteService, "rate", broken)
    sent = new_id()
    async with ledger() as served:
        response = await served.http.get(
            "/api/v1/quotes", params={"base": "EUR", "target": "USD", "amount": 100}, headers={"X-Request-ID": sent}
        )
        access = [line for line in served.logs.access() if line.get("request_id") == sent]
    assert response.status_code == 500, (
        f"Lesson 10: a quote whose route raised RuntimeError answered {response.status_code}; expected a 500 (step 1)"
    )
    statuses = [line.get("status") for line in access]
    assert statuses == [500], (
        f"Lesson 10: a request whose app raised an exception (the client got a 500; X-Request-ID {sent}) wrote "
        f"{len(access)} access line(s) {statuses}; expected exactly one, with status 500: the requests that fail "
        "are the ones you search the logs for. Write the access line (and reset the contextvar) in a `finally:` "
        "around the call to the app, so an exception does not skip them (step 1)"
    )


async def test_logging_configured_twice_writes_each_line_once(ledger: Any) -> None:
    """Hint: a second configure_logging (a second app in the same process: tests, a reload) replaces, never adds."""
    async with ledger():
        pass  # the first app's lifespan configures logging once
    sent = new_id()
    async with ledger() as served:  # the second one again, in the same process
        expect_status(await served.http.get("/health", headers={"X-Request-ID": sent}), 200, "GET /health", 1)
        access = [line for line in served.logs.access() if line.get("request_id") == sent]
        handlers = [
            type(handler).__name__
            for handler in logging.getLogger().handlers
            if not type(handler).__module__.startswith("_pytest")
        ]
    assert len(access) == 1 and len(handlers) == 1, (
        f"Lesson 10: after configure_logging ran twice in one process (two app startups), one request wrote its "
        f"access line {len(access)} times and the root logger has {len(handlers)} handlers {handlers}; expected "
        "each line once and one handler: configure_logging replaces the root logger's handlers, never appends "
        "one more (step 1)"
    )


async def test_every_line_of_a_request_carries_its_request_id(ledger: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: a logging.Filter on the handler copies the contextvar into every record, whichever logger wrote it."""
    quotes = grading.load("app.services.quotes")

    async def quote_that_logs(self: Any, base: str, target: str, amount: int) -> Any:
        # What the rate client's warnings and the domain errors' lines will be: records of other loggers.
        logging.getLogger("app.services.quotes").warning("planted by the check: a warning of the app")
        logging.getLogger("httpx").info("planted by the check: a line of a library")
        return quotes.Quote(base, target, amount, Decimal("1.25"), amount * 5 // 4)

    monkeypatch.setattr(quotes.QuoteService, "quote", quote_that_logs)
    sent = new_id()
    async with ledger() as served:
        response = await served.http.get(
            "/api/v1/quotes", params={"base": "EUR", "target": "USD", "amount": 100}, headers={"X-Request-ID": sent}
        )
        lines = served.logs.lines()
    expect_status(response, 200, "a quote (its service replaced by the check's, which logs two lines)", 1)
    planted = [line for line in lines if "planted by the check" in str(line.values())]
    carrying = [line for line in planted if line.get("request_id") == sent]
    assert len(planted) == 2 and len(carrying) == 2, (
        f"Lesson 10: during a quote (X-Request-ID {sent}) the check logged two lines of its own, through the loggers "
        f"app.services.quotes and httpx; {len(planted)} reached your handler and {len(carrying)} carry the request's "
        f"id: {[{k: line.get(k) for k in ('logger', 'message', 'request_id')} for line in planted]}. The rate "
        "client's warnings and the domain errors' lines need the id too: every record, whichever logger wrote it, "
        "gets it from the contextvar (a Filter on the handler) (step 1)"
    )


async def test_two_requests_at_once_keep_their_own_ids(ledger: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: a module-level variable is shared by every request in flight; a ContextVar belongs to one task."""
    quotes = grading.load("app.services.quotes")

    async def slow_quote(self: Any, base: str, target: str, amount: int) -> Any:
        await asyncio.sleep(0.3)  # the other request starts meanwhile
        return quotes.Quote(base, target, amount, Decimal("1.5"), amount * 3 // 2)

    monkeypatch.setattr(quotes.QuoteService, "quote", slow_quote)
    first, second = new_id(), new_id()
    async with ledger() as served:

        async def ask(request_id: str, after: float) -> Any:
            await asyncio.sleep(after)
            return await served.http.get(
                "/api/v1/quotes",
                params={"base": "EUR", "target": "USD", "amount": 100},
                headers={"X-Request-ID": request_id},
            )

        answers = await asyncio.gather(ask(first, 0), ask(second, 0.1))
        access = {line.get("request_id"): line for line in served.logs.access()}
    for request_id, response in zip((first, second), answers, strict=True):
        # A 500 is sent by Starlette's outermost middleware, outside yours: it never carries the id.
        expect_status(response, 200, f"a quote sent while another ran (X-Request-ID {request_id})", 1)
    got = [response.headers.get("x-request-id") for response in answers]
    assert got == [first, second] and {first, second} <= set(access), (
        f"Lesson 10: two quotes ran at the same time with X-Request-IDs {first} and {second}; their responses "
        f"carried {got} and the access lines {sorted(str(key) for key in access)}: one request's id leaked into the "
        "other. Keep the id in a contextvars.ContextVar, never in a global (step 1)"
    )
