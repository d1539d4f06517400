"""Logs a machine can read: one JSON object per line, each carrying the id of the request it belongs to.

    {"time": "2026-12-01T09:30:00", "level": "INFO", "logger": "app.access", "message": "request",
     "request_id": "4bf92f35…", "method": "GET", "route": "/api/v1/accounts/{account_id}", "status": 200,
     "duration_ms": 3.1}

`configure_logging` sends every logger's records to stderr through python-json-logger's formatter.
`RequestIdMiddleware` gives each request an id (the client's `X-Request-ID` when it is a sane one),
keeps it in a contextvar for as long as the request runs, returns it in the response and writes
one access line per request. `RequestIdFilter` copies the contextvar into every record, so any
`logger.info(...)` anywhere in the app is tied to its request without passing the id around.

Plain ASGI, no FastAPI import: core stays below the HTTP layer. Never log a password, a token, a
hash or a header: log ids, codes and numbers.
"""

import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from app.core.config import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = "X-Request-ID"
# What a client may send as its request id: short, and nothing that could forge a log line or a header.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
NO_REQUEST = "-"

# The id of the request this code runs for. A contextvar, not a global: each request (each asyncio
# task) sees its own, however many run at once, and tasks it starts inherit it.
request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)

access_logger = logging.getLogger("app.access")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record that passes through the handler it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(settings: Settings) -> None:
    """Every record of every logger becomes one JSON line on stderr, with its request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]  # replace, never add: a second call must not print every line twice
    root.setLevel(settings.log_level)
    # Uvicorn's own access log would say the same as ours, without the id and the route template.
    logging.getLogger("uvicorn.access").disabled = True


def route_template(scope: Scope) -> str:
    """`/api/v1/accounts/{account_id}` for `/api/v1/accounts/0b1c…`; "unmatched" when no route matched (a 404).

    FastAPI keeps the routes of an included router relative to their router, so the matched route's own
    `path` lacks the prefix; the request's path with each path parameter's value put back as `{name}` does not.
    """
    if "route" not in scope:
        return "unmatched"  # never the raw path: a scanner's random paths would each become a new route
    names = {str(value): name for name, value in scope.get("path_params", {}).items()}
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in str(scope["path"]).split("/"))


def new_request_id(sent: str | None) -> str:
    """The client's id when it is a valid one, else a new random one."""
    if sent is not None and VALID_REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """An id per request: in the contextvar while it runs, in its response's X-Request-ID, in its access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        token = request_id.set(new_request_id(headers.get(REQUEST_ID_HEADER.lower())))
        status = 500  # what the client gets if the app fails before it starts a response
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode("latin-1"), request_id.get().encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The route template (/api/v1/accounts/{account_id}), not the path: ids in paths would make
            # every line unique, and a path can carry what a client should not have sent.
            access_logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id.reset(token)
