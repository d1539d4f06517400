"""The class server's app: `create_app(settings, classroom_id)`.

The lifespan makes the engine and the recorder and loads the class; nothing connects at import.
Every request is logged as method, path, status and time, never its query string or headers:
tokens travel there. A filter also blanks anything shaped like a token from every log line.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workshop.classroom import protocol
from workshop.classroom.server import services
from workshop.classroom.server.config import ClassSettings
from workshop.classroom.server.database import create_engine, create_sessionmaker
from workshop.classroom.server.routers import api, pages
from workshop.lessons import all_lessons

access = logging.getLogger("workshop.classroom.access")

STATUS_OF: dict[type[Exception], int] = {
    services.WrongCode: status.HTTP_403_FORBIDDEN,
    services.NameTaken: status.HTTP_409_CONFLICT,
    services.ClassFull: status.HTTP_409_CONFLICT,
    services.UnknownLesson: status.HTTP_422_UNPROCESSABLE_CONTENT,
    services.NoSuchClass: status.HTTP_404_NOT_FOUND,
}
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
    "cache-control": "no-store",
}


class RedactTokens(logging.Filter):
    """Blanks anything shaped like a classroom token from a log record (a second line of defence)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = protocol.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = protocol.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class AccessLogAndHeaders:
    """Pure ASGI middleware (streams stay streams): security headers on every answer, one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, answered = time.perf_counter(), [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered[0] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # The path only: a query string may hold the instructor's token.
            elapsed = (time.perf_counter() - started) * 1000
            access.info("%s %s %d %.1f ms", scope["method"], scope["path"], answered[0], elapsed)


def create_app(settings: ClassSettings, classroom_id: uuid.UUID, lessons: list[str] | None = None) -> FastAPI:
    """The class server for class `classroom_id` (opened by `serve.prepare`), grading `lessons` (default: all)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            app.state.classroom = await services.load_class(session, classroom_id)
        changes = services.Changes()
        recorder = services.Recorder(sessions, settings.batch_size, on_recorded=changes.bump)
        app.state.settings = settings
        app.state.sessions = sessions
        app.state.changes = changes
        app.state.recorder = recorder
        app.state.lessons = lessons if lessons is not None else [found.number for found in all_lessons()]
        app.state.learners = {}  # token hash → LearnerRef, filled as learners show up
        app.state.join_failures = {}  # client address → times of wrong codes
        recorder.start()
        try:
            yield
        finally:
            await recorder.stop()
            await engine.dispose()

    app = FastAPI(
        title="Ledger workshop: class server",
        summary="The learners' results, live, for the instructor.",
        version="1",
        lifespan=lifespan,
        max_body_size=protocol.MAX_BODY,
    )

    async def refuse(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=STATUS_OF.get(type(error), status.HTTP_400_BAD_REQUEST))

    app.add_exception_handler(services.ClassroomError, refuse)
    app.include_router(api)
    app.include_router(pages)
    app.add_middleware(AccessLogAndHeaders)
    return app
