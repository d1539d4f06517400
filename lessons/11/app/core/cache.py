"""Redis as a cache of exchange rates: asked first, filled after each call to the rate service.

The lifespan (app/main.py) makes one `redis.asyncio.Redis` client (a pool of connections) with
`create_redis`, and closes it when the server stops. Every rate is stored with a time to live: a rate
is a fact about a moment, and a cache that keeps it forever serves yesterday's prices.

A cache is an optimisation, never a dependency: when Redis is down or slow, `RatesCache` says
"not cached" and the service asks the rate service instead. Slower, not broken.
"""

import logging
from decimal import Decimal, InvalidOperation

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.config import Settings

logger = logging.getLogger(__name__)


def create_redis(settings: Settings) -> Redis:
    """The Redis client of the process. It connects on first use; each command gives up after the ready timeout."""
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.ready_timeout,
        socket_timeout=settings.ready_timeout,
        decode_responses=True,
    )


class RatesCache:
    """Rates in Redis under `rate:<BASE>:<TARGET>`, as exact decimal strings, for `ttl` seconds."""

    def __init__(self, redis: Redis, ttl: int) -> None:
        self.redis = redis
        self.ttl = ttl

    @staticmethod
    def key(base: str, target: str) -> str:
        return f"rate:{base}:{target}"

    async def get(self, base: str, target: str) -> Decimal | None:
        """The cached rate, or None when there is none, or Redis cannot be asked."""
        try:
            cached = await self.redis.get(self.key(base, target))
        except (RedisError, OSError) as error:
            logger.warning("rates cache unavailable: %s", type(error).__name__)
            return None
        if cached is None:
            return None
        try:
            return Decimal(cached.decode() if isinstance(cached, bytes) else cached)
        except InvalidOperation:
            return None

    async def put(self, base: str, target: str, rate: Decimal) -> None:
        """Keep `rate` for `ttl` seconds; a Redis that cannot be reached is logged and forgotten."""
        try:
            await self.redis.set(self.key(base, target), str(rate), ex=self.ttl)
        except (RedisError, OSError) as error:
            logger.warning("rates cache unavailable: %s", type(error).__name__)
