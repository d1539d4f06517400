"""The request's database session: one `AsyncSession` per request, committed or rolled back here.

`get_session` is the one place that ends a request's transaction: routes and services never
commit. A commit that fails is logged here, with the request's id (lesson 10), then raised: the
client gets a 500, and whoever reads the logs finds that request. The sessionmaker comes from
the app's lifespan (app/main.py), through `request.app.state`.
"""

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

logger = logging.getLogger(__name__)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit when the route returns, roll back when it raises."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:  # closing it returns the connection to the pool
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
        else:
            # TODO Lesson 10: commit; when the commit raises, log it at ERROR level (logger.exception) and raise it again (step 2)
            await session.commit()


# scope="function": the code after `yield` (the commit) runs before the response is sent, so a
# commit that fails becomes a 500 instead of a 2xx the client already believed.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
