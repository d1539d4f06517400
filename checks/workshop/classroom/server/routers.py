"""The class server's routes: the API the learners' clients call, and the instructor's page."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from workshop.classroom import protocol
from workshop.classroom.server import page
from workshop.classroom.server.dependencies import (
    ClassDep,
    InstructorCookieDep,
    InstructorDep,
    InstructorPageDep,
    LearnerDep,
    ServiceDep,
)
from workshop.classroom.server.schemas import Joined, JoinIn, Recorded, ResultPost, RoomOut, StandingOut
from workshop.classroom.server.services import ClassroomService, Submission, UnknownLesson, WrongCode

api = APIRouter(prefix=protocol.API, tags=["classroom"])
pages = APIRouter(include_in_schema=False)
REDRAW_PAUSE = 0.2  # seconds: the results of a burst are drawn together


def _too_many_wrong_codes(request: Request) -> bool:
    """Wrong class codes from this address in the last minute reached the limit (guessing is slow)."""
    failures: dict[str, deque[float]] = request.app.state.join_failures
    recent = failures.get(request.client.host if request.client else "", deque())
    while recent and recent[0] < time.monotonic() - 60:
        recent.popleft()
    limit: int = request.app.state.settings.join_failures_per_minute
    return len(recent) >= limit


def _wrong_code(request: Request) -> None:
    failures: dict[str, deque[float]] = request.app.state.join_failures
    failures.setdefault(request.client.host if request.client else "", deque()).append(time.monotonic())


@api.post("/join", status_code=status.HTTP_201_CREATED)
async def join(body: JoinIn, request: Request, service: ServiceDep, classroom: ClassDep) -> Joined:
    """Join the class with its code; the answer holds your token (keep it: it is shown once)."""
    if _too_many_wrong_codes(request):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many wrong codes: wait a minute")
    try:
        learner, token = await service.join(body.code, body.name)
    except WrongCode:
        _wrong_code(request)
        raise
    request.app.state.learners[protocol.digest(token)] = learner
    return Joined(learner_id=learner.id, name=learner.name, token=token, title=classroom.title)


@api.post(
    "/results",
    status_code=status.HTTP_201_CREATED,
    max_body_size=protocol.MAX_RESULT_BODY,
    responses={200: {"description": "This run was recorded before (a resend): nothing changed."}},
)
async def post_result(body: ResultPost, request: Request, response: Response, learner: LearnerDep) -> Recorded:
    """Record a run of one of your lessons. Only the token says whose it is."""
    if body.result.lesson not in request.app.state.lessons:
        raise UnknownLesson(f"this class has no lesson {body.result.lesson}")
    submission = Submission(learner.id, body.run_id, body.result, datetime.now(UTC))
    recorded: Recorded = await request.app.state.recorder.record(submission)
    if recorded.replayed:
        response.status_code = status.HTTP_200_OK
    return recorded


@api.get("/results")
async def my_results(learner: LearnerDep, service: ServiceDep) -> list[StandingOut]:
    """Where you stand in each lesson you ran: yours, and nobody else's."""
    return await service.standings(learner.id)


@api.get("/room", dependencies=[InstructorDep])
async def room(request: Request, service: ServiceDep) -> RoomOut:
    """The room, as the instructor's page shows it (the instructor's token only)."""
    return await service.room(request.app.state.lessons)


# --- pages ---------------------------------------------------------------------------------------


@pages.get("/", response_class=HTMLResponse)
async def home(classroom: ClassDep) -> str:
    return page.message_html(
        classroom.title,
        "This is a class server of the Ledger workshop. Learners join with "
        "<code>uv run workshop class join ADDRESS CODE --name NAME</code>, using the address and "
        "code their instructor gives them.",
    )


@pages.get(protocol.INSTRUCTOR, response_class=HTMLResponse)
async def instructor(
    request: Request,
    service: ServiceDep,
    classroom: ClassDep,
    signed_in: InstructorPageDep,
    token: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The room. Opened once with ?token=… (the link `class serve` prints), which becomes a cookie."""
    if token is not None:
        if not classroom.is_instructor(token):
            return HTMLResponse(
                page.message_html("Wrong key", "This link's key is not this class's instructor key."),
                status_code=status.HTTP_403_FORBIDDEN,
            )
        # The token leaves the address bar: the page's own address carries no secret.
        answer = RedirectResponse(protocol.INSTRUCTOR, status_code=status.HTTP_303_SEE_OTHER)
        answer.set_cookie(
            protocol.INSTRUCTOR_COOKIE,
            token,
            max_age=7 * 24 * 3600,
            path=protocol.INSTRUCTOR,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return answer
    if not signed_in:
        return HTMLResponse(
            page.message_html(
                "The instructor's view",
                "Open the instructor link that <code>uv run workshop class serve</code> printed.",
            ),
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    return HTMLResponse(page.page_html(await service.room(request.app.state.lessons)))


@pages.get(f"{protocol.INSTRUCTOR}/events", response_class=EventSourceResponse, dependencies=[InstructorCookieDep])
async def events(request: Request, classroom: ClassDep) -> AsyncIterator[ServerSentEvent]:
    """The room again whenever results arrive (and every `redraw_seconds`, so that the minutes move)."""
    state = request.app.state
    while True:
        seen = state.changes.version
        # A session per drawing, never one held open by the stream.
        async with state.sessions() as session:
            room = await ClassroomService(session, classroom.id).room(state.lessons)
        yield ServerSentEvent(raw_data=page.room_html(room), event="room", retry=2000)
        if await state.changes.wait(seen, state.settings.redraw_seconds) != seen:
            await asyncio.sleep(REDRAW_PAUSE)


@pages.get(page.SCRIPT, response_class=PlainTextResponse)
async def script() -> Response:
    return Response(page.SCRIPT_TEXT, media_type="text/javascript")


@pages.get(page.STYLESHEET, response_class=PlainTextResponse)
async def stylesheet() -> Response:
    return Response(page.STYLESHEET_TEXT, media_type="text/css")


@pages.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> str:
    return "ok"
