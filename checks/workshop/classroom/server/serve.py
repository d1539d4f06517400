"""`uv run workshop class serve`: migrate, open (or reopen) the class, print how to join, serve.

The class's secrets (its code and the instructor's token) are known to this machine only: the
database keeps their hashes, and `.workshop/classroom/<database>.json` (readable by its owner
only; one file per database) keeps them so that the next `class serve` on that database reopens
the same class, with the same code and link, and the learners' tokens keep working. `--new`
opens a new class.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import uuid
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from workshop import database
from workshop.classroom import protocol
from workshop.classroom.server.config import ClassSettings
from workshop.classroom.server.database import create_engine, create_sessionmaker, migrate
from workshop.classroom.server.services import NoSuchClass, Opened, open_class, resume_class
from workshop.lessons import STATE

REMEMBERED = STATE / "classroom"  # <fingerprint of the database>.json: the class opened there last
DATABASE = "workshop_classroom"  # on the workshop's PostgreSQL (the embedded one by default)
DEFAULT_PORT = 8002

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "workshop.classroom.server.main.RedactTokens"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},  # ours logs no query strings
        "workshop.classroom": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}


def database_url(explicit: str | None) -> str:
    """`--database-url`, or a database of its own on the workshop's PostgreSQL (started if need be)."""
    if explicit:
        return explicit
    target = database.server()
    database.run(database.ensure_database(target, DATABASE))
    return target.database_url(DATABASE)


def fingerprint(url: str) -> str:
    """Which database a remembered class lives in, without its password."""
    parts = urlsplit(url.replace("+asyncpg", ""))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return hashlib.sha256(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")).encode()).hexdigest()[:16]


def remembered_path(url: str) -> Path:
    return REMEMBERED / f"{fingerprint(url)}.json"


def remembered(url: str) -> Opened | None:
    try:
        data = json.loads(remembered_path(url).read_text(encoding="utf-8"))
        return Opened(uuid.UUID(data["classroom_id"]), data["title"], data["code"], data["instructor_token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(opened: Opened, url: str) -> None:
    path = remembered_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**asdict(opened), "classroom_id": str(opened.classroom_id)}
    data.pop("resumed")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2)


async def prepare(settings: ClassSettings, title: str, known: Opened | None) -> Opened:
    """Migrate the database; reopen the known class if it is there, else open a new one."""
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with create_sessionmaker(engine)() as session, session.begin():
            if known is not None:
                try:
                    return await resume_class(session, known.classroom_id, known.code, known.instructor_token)
                except NoSuchClass:
                    pass
            return await open_class(session, title)
    finally:
        await engine.dispose()


def lan_address() -> str:
    """This machine's address on its network, as the learners' machines see it (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the interface of the default route
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def addresses(host: str, port: int) -> tuple[str, str]:
    """(the address learners use, the one the instructor opens on this machine)."""
    public = lan_address() if host in ("0.0.0.0", "::", "") else host
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{public}:{port}", f"http://{local}:{port}"


def open_room(url: str | None, new: bool, title: str | None) -> tuple[ClassSettings, Opened, str]:
    """Everything before serving: the database, its tables, the class. Returns the settings, the class, the URL."""
    url = database_url(url)
    settings = ClassSettings(database_url=SecretStr(url))
    known = None if new else remembered(settings.database_url.get_secret_value())
    opened = asyncio.run(prepare(settings, title or f"Ledger workshop, {date.today():%d %B %Y}", known))
    remember(opened, settings.database_url.get_secret_value())
    return settings, opened, url


def run(settings: ClassSettings, opened: Opened, host: str, port: int) -> None:
    import uvicorn

    from workshop.classroom.server.main import create_app

    uvicorn.run(
        create_app(settings, opened.classroom_id),
        host=host,
        port=port,
        access_log=False,
        log_config=LOGGING,
        server_header=False,
        # The instructor's page keeps a stream open: do not wait for it on Ctrl-C.
        timeout_graceful_shutdown=2,
    )


def instructor_link(local: str, opened: Opened) -> str:
    return f"{local}{protocol.INSTRUCTOR}?token={opened.instructor_token}"
