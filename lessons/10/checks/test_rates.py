"""Lesson 10 checks, step 4: one HTTP client for the process, timeouts, bounded retries on 5xx and connection errors;
what the rate service does wrong is a 503, and a bug in the app stays a 500.

The rate service is a real HTTP server on 127.0.0.1 (conftest's `rates`); what your client sends is what it counts.
"""

import time
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from .conftest import Answer, closed_port, error_code, expect_status, explain, lesson_error, quote, within

pytestmark = pytest.mark.step(4)


async def test_one_http_client_serves_every_request_and_the_lifespan_closes_it(
    ledger: Any, rates: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: create the AsyncClient in the lifespan, keep it on app.state, aclose() it after the yield."""
    made: list[httpx.AsyncClient] = []
    original = httpx.AsyncClient.__init__

    def counted(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    blocking: list[httpx.Client] = []
    original_sync = httpx.Client.__init__

    def counted_sync(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        original_sync(self, *args, **kwargs)
        blocking.append(self)
        # Stopped at once: a blocking call here would block this check's own rate service too, until it timed out.
        raise RuntimeError("a synchronous httpx.Client was made while serving a request; the check stopped it")

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counted)
    monkeypatch.setattr(httpx.Client, "__init__", counted_sync)
    async with ledger() as served:
        answers = []
        for currency in ("USD", "GBP", "CHF"):
            rates.rate(currency, "1.25")
            answers.append((currency, await quote(served.http, target=currency)))
        clients = [client for client in made if str(client.base_url).startswith(rates.url)]
    assert not blocking, (
        f"Lesson 10: three quotes made {len(blocking)} synchronous httpx.Client(s) (httpx.get() makes one per "
        "call): a synchronous call inside async code blocks the event loop, so every other request waits for "
        "the rate service, and it bypasses the lifespan's pooled client. "
        "Ask the rate service with `await client.get(...)` on the app's AsyncClient (step 4)"
    )
    for currency, response in answers:
        expect_status(response, 200, f"a quote EUR→{currency}", 4)
    assert len(clients) == 1, (
        f"Lesson 10: three quotes made {len(clients)} httpx.AsyncClient(s) for the rate service; expected one, "
        "created once in the lifespan: a client per request opens a new connection (and TLS handshake) each "
        "time and throws its pool away (step 4)"
    )
    assert clients[0].is_closed, (
        "Lesson 10: the rate service's AsyncClient is still open after the app stopped; aclose() it in the "
        "lifespan, after the yield (step 4)"
    )


async def test_the_lifespan_closes_its_redis_client(ledger: Any, rates: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hint: as the HTTP client: made once in the lifespan, aclose() after the yield."""
    made: list[Redis] = []
    closed: list[Redis] = []
    original_init, original_close = Redis.__init__, Redis.aclose

    def counted(self: Redis, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        made.append(self)

    async def closing(self: Redis, *args: Any, **kwargs: Any) -> None:
        closed.append(self)
        await original_close(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "__init__", counted)
    monkeypatch.setattr(Redis, "aclose", closing)
    rates.rate("USD", "1.25")
    async with ledger() as served:
        expect_status(await quote(served.http), 200, "a quote EUR→USD", 4)
    if not made:
        raise lesson_error(
            "the app made no Redis client: the lifespan puts create_redis(settings) on app.state (step 4)"
        )
    still_open = [client for client in made if not any(client is done for done in closed)]
    assert not still_open, (
        f"Lesson 10: {len(still_open)} Redis client(s) the app made are still open after it stopped: their "
        "connections stay until the process ends, one more set at every restart of a worker. "
        "await app.state.redis.aclose() in the lifespan, after the yield (step 4)"
    )


async def test_a_rate_service_that_hangs_is_a_503_within_the_timeout(ledger: Any, rates: Any) -> None:
    """Hint: httpx.Timeout(settings.rates_timeout) on the client: connect, read, write and pool all bounded."""
    rates.answer(Answer(200, b'{"rates": {"USD": 1.25}}', delay=30))
    async with ledger(rates_timeout=0.3, rates_retries=1) as served:
        started = time.perf_counter()
        response = await within(5, "a quote while the rate service never answers", 4, quote(served.http))
        took = time.perf_counter() - started
    expect_status(response, 503, "a quote while the rate service never answers", 4, "rates_unavailable")
    assert took < 3, (
        f"Lesson 10: with rates_timeout=0.3 and 1 retry, a quote took {took:.1f} s while the rate service "
        "hangs; each attempt must give up after the timeout (step 4)"
    )


async def test_a_5xx_is_retried_and_the_next_answer_used(ledger: Any, rates: Any) -> None:
    """Hint: a 5xx is the service's own trouble; the next attempt may well succeed."""
    rates.answer(Answer(503, b"{}"), Answer(200, b'{"rates": {"USD": 1.25}}'))
    async with ledger(rates_retries=2) as served:
        response = await quote(served.http)
    assert len(rates.calls) == 2, (
        f"Lesson 10: the rate service answered 503 then a rate; your client asked it {len(rates.calls)} time(s) "
        f"and the quote answered {response.status_code}; expected 2 calls and a 200: retry a 5xx (step 4)"
    )
    expect_status(response, 200, "a quote while the rate service answers 503 once, then a rate", 4)


async def test_retries_are_bounded(ledger: Any, rates: Any) -> None:
    """Hint: `for attempt in range(1 + retries)`: the first call and `retries` more, then give up."""
    rates.answer(Answer(500, b"{}"))
    async with ledger(rates_retries=2) as served:
        response = await within(8, "a quote while the rate service always answers 500", 4, quote(served.http))
    assert len(rates.calls) == 3, (
        f"Lesson 10: with rates_retries=2 and a rate service that always answers 500, your client called it "
        f"{len(rates.calls)} time(s); expected 3 (the first call and 2 retries), then a 503 (step 4)"
    )
    expect_status(response, 503, "a quote while the rate service always answers 500", 4, "rates_unavailable")
    assert error_code(response) == "rates_unavailable", (
        f'Lesson 10: the 503 says {error_code(response)!r}; expected {{"error": {{"code": "rates_unavailable"}}}} '
        "(RateServiceUnavailable, mapped to 503 in routers/errors.py) (step 4)"
    )


async def test_a_4xx_is_not_retried(ledger: Any, rates: Any) -> None:
    """Hint: a 4xx says the request is wrong; sending it again gets the same answer."""
    rates.answer(Answer(404, b'{"message": "not found"}'))
    async with ledger(rates_retries=2) as served:
        response = await quote(served.http, target="XXX")
    assert len(rates.calls) == 1, (
        f"Lesson 10: the rate service answered 404 and your client asked {len(rates.calls)} times; retry only a "
        "5xx, a timeout or a connection error, never a 4xx (step 4)"
    )
    expect_status(response, 503, "a quote the rate service answers 404", 4, "rates_unavailable")


async def test_an_unreachable_rate_service_is_a_503_not_a_500(ledger: Any) -> None:
    """Hint: httpx.TransportError covers a refused connection, a reset and an unknown host."""
    async with ledger(rates_url=f"http://127.0.0.1:{closed_port()}/v1") as served:
        response = await within(5, "a quote while nothing listens at rates_url", 4, quote(served.http))
    if response.status_code != 503 or error_code(response) != "rates_unavailable":
        raise lesson_error(
            f"a quote while nothing listens at the rate service's address answered {explain(response)}; expected "
            '503 {"error": {"code": "rates_unavailable"}}: a connection error is retried, then RatesUnavailable '
            "(step 4)"
        )


class BugInTheApp(Exception):
    """What the check raises inside the call to the rate service: not a timeout, a refused connection or a bad
    answer (what the rate service can do wrong), but an error nothing on the rate path expects, as a bug would be."""


async def test_a_bug_on_the_rate_path_is_a_500_not_rates_unavailable(
    ledger: Any, rates: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hint: catch what the rate service can do wrong (RatesUnavailable from fetch_rate; httpx's errors inside
    it), never every Exception: any other error is a bug, and a bug stays a 500 with its traceback."""
    original = httpx.AsyncClient.send
    planted: list[str] = []

    async def send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if str(request.url).startswith(rates.url):
            planted.append(str(request.url))
            raise BugInTheApp("planted by the check: a bug on the way to the rate service")
        return await original(self, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    rates.rate("USD", "1.25")
    async with ledger() as served:
        response = await quote(served.http)
    if response.status_code == 503:
        raise lesson_error(
            f"the check made the call to the rate service raise BugInTheApp, an error that is not the rate service "
            f"failing (as a TypeError in your own code would be), and the quote answered 503 "
            f"{error_code(response)!r} after {len(planted)} call(s): an `except Exception` (in QuoteService.rate "
            'or fetch_rate) turned a bug into "the rate service is down": no traceback, and the client is told to '
            "try again later for what fails every time. Catch what the rate service can do wrong (RatesUnavailable; "
            "httpx's errors); anything else is a bug: let it be a 500 (step 4)"
        )
    if not planted:
        raise lesson_error(
            f"a quote answered {explain(response)} without asking the rate service through the app's "
            "httpx.AsyncClient (Redis was empty): QuoteService.rate asks fetch_rate with the app's client (step 4)"
        )
    expect_status(response, 500, "a quote whose call to the rate service raised a bug (BugInTheApp)", 4, "(a bug)")
