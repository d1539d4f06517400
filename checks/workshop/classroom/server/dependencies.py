"""What the routes depend on: a session per request, the service, and who is asking.

Learners authenticate with `Authorization: Bearer wcl_…` (their own token); the instructor with
`Bearer wci_…` on the API, or on the page with the cookie that the link `class serve` printed
sets. A learner's token is looked up once and then remembered by its hash.

Every dependency is `async def`: FastAPI runs a plain `def` in a thread pool, a hand-off that
costs more than these functions do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from workshop.classroom import protocol
from workshop.classroom.server.services import ClassRef, ClassroomService, LearnerRef

bearer = HTTPBearer(auto_error=False, description="a learner's token (wcl_…) or the instructor's (wci_…)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the route succeeds, rolled back when it raises."""
    async with request.app.state.sessions() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


# scope="function": the commit happens before the answer is sent, so a 2xx means it was committed.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_classroom(request: Request) -> ClassRef:
    classroom: ClassRef = request.app.state.classroom
    return classroom


ClassDep = Annotated[ClassRef, Depends(get_classroom)]


async def get_service(request: Request, session: SessionDep, classroom: ClassDep) -> ClassroomService:
    return ClassroomService(session, classroom.id, request.app.state.settings.max_learners)


ServiceDep = Annotated[ClassroomService, Depends(get_service)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


async def current_learner(request: Request, credentials: Credentials, classroom: ClassDep) -> LearnerRef:
    """The learner whose token this is. Known tokens are answered from memory: posting a result
    (the busiest route) needs no session of its own."""
    token = credentials.credentials if credentials else ""
    if not token.startswith(protocol.LEARNER_PREFIX):
        raise _unauthorized("send your learner token: join the class with `uv run workshop class join`")
    known: dict[bytes, LearnerRef] = request.app.state.learners
    key = protocol.digest(token)
    learner = known.get(key)
    if learner is None:
        async with request.app.state.sessions() as session:
            learner = await ClassroomService(session, classroom.id).learner(token)
    if learner is None:
        raise _unauthorized("this token is not one of this class's: join again with `uv run workshop class join`")
    known[key] = learner
    return learner


LearnerDep = Annotated[LearnerRef, Depends(current_learner)]


async def instructor_on_api(credentials: Credentials, classroom: ClassDep) -> None:
    token = credentials.credentials if credentials else ""
    if not token:
        raise _unauthorized("the instructor's token is needed here")
    if not classroom.is_instructor(token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the instructor may see the room")


InstructorDep = Depends(instructor_on_api)


async def instructor_on_page(request: Request, classroom: ClassDep) -> bool:
    """True when the instructor's cookie is there and right (the page answers for itself otherwise)."""
    return classroom.is_instructor(request.cookies.get(protocol.INSTRUCTOR_COOKIE, ""))


InstructorPageDep = Annotated[bool, Depends(instructor_on_page)]


async def instructor_cookie_required(signed_in: InstructorPageDep) -> None:
    if not signed_in:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "open the instructor link that `class serve` printed")


InstructorCookieDep = Depends(instructor_cookie_required)
