"""Lesson 10 checks, step 6: rates are cached in Redis with a TTL; Redis down means slower (and a warning), never
failing."""

from typing import Any

import pytest
from redis.asyncio import Redis

from .conftest import closed_redis_url, expect_status, explain, lesson_error, quote

pytestmark = pytest.mark.step(6)


def not_said(how: str) -> str:
    return (
        f"Lesson 10: with Redis {how}, two quotes answered 200 and no line at WARNING said that the cache failed: "
        "RatesCache.get and put catch the RedisError, log a warning and carry on; a cache that fails in silence "
        "leaves nobody to see that every quote now waits for the rate service. A rate path that never asks Redis "
        "says nothing either: QuoteService.rate asks the cache first, and puts each new rate there (step 6)"
    )


async def test_a_second_quote_reads_the_rate_from_redis(ledger: Any, rates: Any) -> None:
    """Hint: QuoteService.rate asks the cache first; after a call to the rate service it puts the rate there."""
    rates.rate("USD", "0.285")
    async with ledger() as served:
        first = await quote(served.http, amount=100)
        second = await quote(served.http, amount=100)
    expect_status(second, 200, "a second quote EUR→USD", 6)
    assert len(rates.calls) == 1, (
        f"Lesson 10: two quotes EUR→USD called the rate service {len(rates.calls)} times; expected once: the "
        "second reads the rate from Redis (step 6)"
    )
    fresh, cached = first.json().get("converted"), second.json().get("converted")
    assert fresh == cached, (
        f"Lesson 10: at 0.285, 100 minor units came to {fresh} with the rate from the rate service and then to "
        f"{cached} with the rate from the cache; expected the same both times: cache the rate as its exact string "
        "(str(rate)) and read it back as a Decimal (step 6)"
    )


async def test_a_cached_rate_expires(ledger: Any, rates: Any, redis_url: str) -> None:
    """Hint: SET with ex=settings.rates_cache_seconds: a rate is a fact about a moment."""
    rates.rate("USD", "1.25")
    async with ledger(rates_cache_seconds=120) as served:
        expect_status(await quote(served.http), 200, "a quote", 6)
    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter()]
        ttls = {key.decode(): await redis.ttl(key) for key in keys}
    finally:
        await redis.aclose()
    if not ttls:
        raise lesson_error(
            "after a quote, Redis holds no key at all: RatesCache.put must store the rate (SET …) (step 6)"
        )
    forever = [key for key, ttl in ttls.items() if ttl < 0 or ttl > 120]
    assert not forever, (
        f"Lesson 10: after a quote with rates_cache_seconds=120, Redis keeps {forever} with a TTL of "
        f"{[ttls[key] for key in forever]} (-1: forever); store each rate with ex=ttl, at most rates_cache_seconds "
        "(step 6)"
    )


async def test_redis_down_means_slower_not_failing(ledger: Any, rates: Any) -> None:
    """Hint: RatesCache catches RedisError (and OSError), logs a warning, and answers "not cached"."""
    rates.rate("USD", "1.25")
    async with ledger(redis_url=closed_redis_url()) as served:
        first = await quote(served.http)
        second = await quote(served.http)
        warnings = served.logs.warnings()
    for response in (first, second):
        if response.status_code != 200:
            raise lesson_error(
                f"with Redis down, a quote answered {explain(response)}; a cache is an optimisation: when Redis "
                "cannot be reached, ask the rate service and answer 200 (step 6)"
            )
    assert len(rates.calls) == 2, (
        f"Lesson 10: with Redis down, two quotes called the rate service {len(rates.calls)} times; expected 2 (step 6)"
    )
    assert warnings, not_said("down (nothing listens at redis_url)")


async def test_a_redis_that_hangs_means_slower_not_failing(ledger: Any, rates: Any, silent_port: int) -> None:
    """Hint: a Redis that never answers ends in redis' TimeoutError, a RedisError too: catch RedisError, not
    only ConnectionError."""
    rates.rate("USD", "1.25")
    async with ledger(redis_url=f"redis://127.0.0.1:{silent_port}/0") as served:
        first = await quote(served.http)
        second = await quote(served.http)
        warnings = served.logs.warnings()
    for response in (first, second):
        if response.status_code != 200:
            raise lesson_error(
                f"with a Redis that accepts connections and never answers, a quote answered {explain(response)}; "
                "its commands end in a TimeoutError after the client's socket_timeout: that is Redis failing too, "
                "so catch RedisError (not only ConnectionError), ask the rate service and answer 200 (step 6)"
            )
    assert warnings, not_said("hanging (it accepts connections and never answers)")
