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
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (TimeoutError, OSError, DBAPIError) as error:
        logger.warning("database not ready: %s", type(error).__name__)
        return False
    return True


async def redis_answers(redis: Redis, timeout: float) -> bool:
    """True when Redis answers PING within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            await redis.ping()
    except (TimeoutError, OSError, RedisError) as error:
        logger.warning("redis not ready: %s", type(error).__name__)
        return False
    return True
