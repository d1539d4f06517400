"""What the readiness probe asks: does the database answer, does Redis answer, each within a timeout.

A probe that waits as long as its dependency does is no probe: a database that hangs would hang every
orchestrator's health check with it. So each question gets `timeout` seconds, and silence means "no".
"""

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)


async def database_answers(engine: AsyncEngine, timeout: float) -> bool:
    """True when the database answers `SELECT 1` within `timeout` seconds."""
    raise NotImplementedError("Lesson 10: inside asyncio.timeout(timeout): a connection from the engine runs SELECT 1; a timeout, an OSError or a DBAPIError means False (step 3)")


async def redis_answers(redis: Redis, timeout: float) -> bool:
    """True when Redis answers PING within `timeout` seconds."""
    raise NotImplementedError("Lesson 10: inside asyncio.timeout(timeout): await redis.ping(); a timeout, an OSError or a RedisError means False (step 3)")
