"""The finished service, its database and its server processes, for the load and reliability tests.

The finished reference service is the solution tree of the last lesson: every layer laid over
the one before (`workshop.authoring.verify.write_solution_tree`). Each run gets a database of its own on
the workshop's server, migrated with Alembic as the lesson does it, and seeded with accounts
that carry one deposit entry each, so that every balance equals the sum of its entries.

From lesson 09 on the service has users, and every account one owner: the seeded accounts belong
to one seeded user (`LOAD_EMAIL`, `LOAD_PASSWORD`), whose token the load tools get by logging in
(`log_in`), as any client does. `sign_up` makes more users, through the API.

From lesson 10 on the service caches exchange rates in Redis and asks a rate service for them:
`service_env` points it at the workshop's Redis (a database number of this process's own) and at
`RateService`, a tiny local stand-in that answers every pair with one fixed rate. The load tools never
reach the internet. The log level is WARNING, so the benchmark measures the same work as before
lesson 10's access lines (one JSON line per request to stderr).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from workshop import database
from workshop.authoring.verify import write_solution_tree
from workshop.lessons import Lesson, all_lessons

# Where each variant's app lives, as uvicorn names it. The reference runs from its solution tree.
REFERENCE = "app.main:app"
BASELINE = "loadtest.baseline:app"
SYNC_VARIANT = "loadtest.sync_variant:app"


def final_lesson() -> Lesson:
    """The last lesson: its solution tree is the finished service."""
    lessons = all_lessons()
    if not lessons:
        raise SystemExit("no lessons found under lessons/")
    return lessons[-1]


def migration_stages() -> list[Lesson]:
    """Every lesson whose finished stage has Alembic migrations (lesson 03 on)."""
    return [found for found in all_lessons() if found.number >= "03"]


@contextmanager
def solution_tree(found: Lesson | None = None) -> Iterator[Path]:
    """A throwaway copy of a lesson's finished stage (the final lesson's by default)."""
    found = found or final_lesson()
    with tempfile.TemporaryDirectory(prefix=f"workshop-loadtest-{found.number}-") as scratch:
        yield write_solution_tree(found, Path(scratch))


@contextmanager
def fresh_database(suffix: str) -> Iterator[tuple[database.Server, str]]:
    """An empty database of this process on the workshop's server; dropped afterwards.

    Named like the suite's per-run databases (`workshop_run_<pid>_…`), so a killed run's
    leftover is recognised and dropped by the next test run.
    """
    target = database.server()
    name = database.run_database_name(suffix)
    database.run(database.create_database(target, name))
    try:
        yield target, name
    finally:
        database.run(database.drop_database(target, name))


def migrate(folder: Path, url: str) -> None:
    """`alembic upgrade head` in a stage's folder against `url`, as a learner runs it."""
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_ENVIRONMENT": "test", "LEDGER_SECRET_KEY": "loadtest"}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"alembic upgrade head failed in {folder}:\n{done.stdout}{done.stderr}")


@dataclass(frozen=True)
class Stage:
    """The finished service's tree and its database, migrated and seeded."""

    folder: Path
    url: str  # SQLAlchemy URL, for the service
    dsn: str  # the same database for asyncpg, for seeding and auditing
    ids: list[str]  # the seeded accounts
    owner: str | None  # the email of the user who owns them (LOAD_PASSWORD); None before lesson 09


@contextmanager
def seeded_stage(suffix: str, accounts: int, balance: int) -> Iterator[Stage]:
    """The final stage on a fresh database at `alembic upgrade head`, holding `accounts` accounts of `balance`."""
    with solution_tree() as folder, fresh_database(suffix) as (server, name):
        url, dsn = server.database_url(name), server.dsn(name)
        migrate(folder, url)
        ids, owner = database.run(seed_accounts(dsn, accounts, balance))
        yield Stage(folder, url, dsn, [str(i) for i in ids], owner)


# --- data -------------------------------------------------------------------------------------


def uuid7() -> uuid.UUID:
    """A time-ordered UUID, as the reference makes its ids (so every variant inserts alike)."""
    milliseconds = time.time_ns() // 1_000_000
    value = (milliseconds & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76
    value = value & ~(0x3 << 62) | 0x2 << 62
    return uuid.UUID(int=value)


LOAD_EMAIL = "load@ledger.test"
LOAD_PASSWORD = "load-test-password-not-a-secret"  # the seeded user of a throwaway database


async def seed_accounts(
    dsn: str, count: int, balance: int, currency: str = "EUR"
) -> tuple[list[uuid.UUID], str | None]:
    """Open `count` accounts holding `balance` each, as deposits: one entry per account.

    When the schema has users (lesson 09 on), one user owns them all: LOAD_EMAIL, whose password is
    LOAD_PASSWORD, hashed as the service hashes it. Returns the ids and that email (None without users).
    """
    import asyncpg

    ids = sorted(uuid7() for _ in range(count))
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            owner: list[Any] = []
            columns = ["id", "owner", "currency", "balance"]
            if await connection.fetchval("SELECT to_regclass('users') IS NOT NULL"):
                from pwdlib import PasswordHash

                user_id = uuid7()
                await connection.execute(
                    "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)",
                    user_id,
                    LOAD_EMAIL,
                    PasswordHash.recommended().hash(LOAD_PASSWORD),
                )
                owner, columns = [user_id], [*columns, "user_id"]
            await connection.copy_records_to_table(
                "accounts",
                records=[(i, f"load {n}", currency, balance, *owner) for n, i in enumerate(ids)],
                columns=columns,
            )
            await connection.copy_records_to_table(
                "entries",
                records=[(uuid7(), i, balance, None) for i in ids],
                columns=["id", "account_id", "amount", "transfer_id"],
            )
    finally:
        await connection.close()
    return ids, LOAD_EMAIL if owner else None


# --- users, through the API -------------------------------------------------------------------


def sign_up(base_url: str, email: str, password: str) -> None:
    """POST /api/v1/users: a new user, as a client signs up."""
    import httpx

    answer = httpx.post(f"{base_url}/api/v1/users", json={"email": email, "password": password}, timeout=60)
    if answer.status_code != 201:
        raise SystemExit(f"signing up {email} answered {answer.status_code}: {answer.text[:300]}")


def log_in(base_url: str, email: str, password: str) -> str:
    """POST /api/v1/auth/token with the OAuth2 form; the access token."""
    import httpx

    answer = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": email, "password": password}, timeout=60)
    if answer.status_code != 200:
        raise SystemExit(f"logging in as {email} answered {answer.status_code}: {answer.text[:300]}")
    token: str = answer.json()["access_token"]
    return token


def bearer(token: str | None) -> dict[str, str]:
    """The Authorization header of a token; no header without one."""
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass(frozen=True)
class Audit:
    """What the ledger looks like after a run: is every unit of money still there?"""

    accounts: int
    total: int
    negative: int  # accounts below zero
    unbalanced_accounts: int  # balance != sum of the account's entries
    transfers: int
    unbalanced_transfers: int  # transfer ids whose entries are not two that sum to zero

    def problems(self, expected_total: int) -> list[str]:
        found = []
        if self.total != expected_total:
            found.append(f"the balances add up to {self.total}, not {expected_total}")
        if self.negative:
            found.append(f"{self.negative} accounts have a negative balance")
        if self.unbalanced_accounts:
            found.append(f"{self.unbalanced_accounts} accounts' balance differs from the sum of their entries")
        if self.unbalanced_transfers:
            found.append(f"{self.unbalanced_transfers} transfers are not two entries that sum to zero")
        return found


async def audit(dsn: str) -> Audit:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            """
            SELECT
              (SELECT count(*) FROM accounts) AS accounts,
              (SELECT coalesce(sum(balance), 0) FROM accounts) AS total,
              (SELECT count(*) FROM accounts WHERE balance < 0) AS negative,
              (SELECT count(*) FROM accounts a
                 WHERE a.balance <> (SELECT coalesce(sum(e.amount), 0) FROM entries e WHERE e.account_id = a.id)
              ) AS unbalanced_accounts,
              (SELECT count(DISTINCT transfer_id) FROM entries) AS transfers,
              (SELECT count(*) FROM (
                 SELECT transfer_id FROM entries WHERE transfer_id IS NOT NULL
                 GROUP BY transfer_id HAVING count(*) <> 2 OR sum(amount) <> 0
              ) AS odd) AS unbalanced_transfers
            """
        )
    finally:
        await connection.close()
    assert row is not None
    return Audit(**{key: int(value) for key, value in dict(row).items()})


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


FIXED_RATE = "1.0842"


class _RatesHandler(BaseHTTPRequestHandler):
    """GET …/latest?base=EUR&symbols=USD → {"base": "EUR", "rates": {"USD": 1.0842}}, Frankfurter's shape."""

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        base = query.get("base", ["EUR"])[0]
        symbols = query.get("symbols", ["USD"])[0].split(",")
        rates = ", ".join(f"{json.dumps(symbol)}: {FIXED_RATE}" for symbol in symbols)
        body = f'{{"amount": 1.0, "base": {json.dumps(base)}, "date": "2026-12-01", "rates": {{{rates}}}}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@cache
def rate_service_url() -> str:
    """A local rate service for this process (a daemon thread): the finished service's LEDGER_RATES_URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RatesHandler)
    threading.Thread(target=server.serve_forever, name="rate-service", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


@cache
def redis_url() -> str:
    """A Redis database of this process's own on the workshop's Redis (embedded, or WORKSHOP_REDIS_URL)."""
    from workshop import redis_server

    target = redis_server.server()
    return target.database_url(redis_server.claim_database(target))


def service_env(url: str, **settings: str) -> dict[str, str]:
    """The environment of a served variant: the run's database, production settings, Redis and rates (10 on)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEDGER_")}
    if final_lesson().uses_redis:
        env.update(LEDGER_REDIS_URL=redis_url(), LEDGER_RATES_URL=rate_service_url(), LEDGER_LOG_LEVEL="WARNING")
    env.update(
        LEDGER_DATABASE_URL=url,
        LEDGER_ENVIRONMENT="production",
        LEDGER_SECRET_KEY=secrets.token_urlsafe(32),
        # A token outlives the longest run (a full fuzz or benchmark), so no load tool logs in twice.
        LEDGER_ACCESS_TOKEN_MINUTES="240",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update({f"LEDGER_{key.upper()}": value for key, value in settings.items()})
    return env


class Service:
    """One uvicorn process, one worker, serving `target` from `folder` on a free local port."""

    def __init__(self, name: str, target: str, folder: Path, env: dict[str, str]) -> None:
        self.name = name
        self.target = target
        self.folder = folder
        self.env = env
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        # The server's output, read back when it fails; open as long as the server runs.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115

    def start(self, timeout: float = 60) -> Service:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            self.target,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(
            command, cwd=self.folder, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} ({self.target}) exited {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"{self.name} did not answer /health within {timeout:g} s:\n{self.log()}")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system): work per request, whatever the noise."""
        import psutil

        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
