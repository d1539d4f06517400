"""Load from a separate process: wrk when it is installed, else a small Python load generator.

Two kinds of load, both closed-loop (each connection sends its next request when the last
answer came): `get` reads random accounts, `transfer` moves 1 to 100 minor units between two
random accounts with a fresh Idempotency-Key each time, as the API asks clients to do. From
lesson 09 on every request carries the accounts' owner's token (`--token`).

    python -m loadtest.load URL get|transfer IDS_FILE --connections 32 --duration 5 [--token T]

is the Python generator; it prints one JSON line, as the wrk script does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

WRK_HINT = "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)"
MARK = "LOAD_JSON "

# wrk runs this Lua in each of its threads: random targets, one JSON line at the end.
WRK_SCRIPT = """
local ids = {IDS}
local kind = "{KIND}"
local counter = 0

function setup(thread)
  thread:set("prefix", "{RUN}-" .. tostring(math.random(1, 1000000000)))
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

local auth = "{AUTHORIZATION}"

function request()
  if kind == "get" then
    local headers = {}
    if auth ~= "" then headers["Authorization"] = auth end
    return wrk.format("GET", "/api/v1/accounts/" .. ids[math.random(#ids)], headers)
  end
  local source = math.random(#ids)
  local target = math.random(#ids - 1)
  if target >= source then target = target + 1 end
  counter = counter + 1
  local body = '{"source_id":"' .. ids[source] .. '","target_id":"' .. ids[target] ..
               '","amount":' .. math.random(1, 100) .. '}'
  local headers = {["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. "-" .. counter}
  if auth ~= "" then headers["Authorization"] = auth end
  return wrk.format("POST", "/api/v1/transfers", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{MARK}{"requests":%d,"seconds":%.6f,"p50":%.6f,"p99":%.6f,"non_2xx":%d,"socket_errors":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e6, latency:percentile(99) / 1e6,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Result:
    """One measurement: how many requests in how long, and how long they took."""

    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    non_2xx: int = 0
    socket_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu: float = 0.0  # CPU seconds the server process used meanwhile (the caller measures it)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:
        return self.server_cpu / self.requests if self.requests else 0.0


def loader_name(choice: str = "auto") -> str:
    """`wrk` or `python`; explains how to install wrk when it is asked for and missing."""
    if choice == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if choice == "wrk":
        raise SystemExit(WRK_HINT)
    return "python"


def measure(
    loader: str, base_url: str, kind: str, ids: list[str], connections: int, duration: float, token: str | None = None
) -> Result:
    """Put `connections` concurrent clients on one endpoint for `duration` seconds, with `token` if given."""
    with tempfile.TemporaryDirectory(prefix="workshop-load-") as scratch:
        if loader == "wrk":
            script = Path(scratch) / "load.lua"
            lua_ids = "{" + ",".join(f'"{i}"' for i in ids) + "}"
            script.write_text(
                WRK_SCRIPT.replace("{IDS}", lua_ids)
                .replace("{KIND}", kind)
                .replace("{RUN}", uuid.uuid4().hex[:12])
                .replace("{AUTHORIZATION}", f"Bearer {token}" if token else "")
                .replace("{MARK}", MARK),
                encoding="utf-8",
            )
            command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "-s", str(script)]
            command.append(base_url)
        else:
            ids_file = Path(scratch) / "ids.json"
            ids_file.write_text(json.dumps(ids), encoding="utf-8")
            command = [sys.executable, "-m", "loadtest.load", base_url, kind, str(ids_file)]
            command += ["--connections", str(connections), "--duration", str(duration)]
            if token:
                command += ["--token", token]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        raise SystemExit(
            f"{' '.join(command[:4])}… failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    data = json.loads(lines[-1][len(MARK) :])
    data["statuses"] = {int(k): v for k, v in data.get("statuses", {}).items()}
    return Result(**data)


# --- the Python load generator (its own process) --------------------------------------------


def _request(kind: str, host: str, ids: list[str], prefix: str, counter: int, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    if kind == "get":
        return f"GET /api/v1/accounts/{random.choice(ids)} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()
    source, target = random.sample(ids, 2)
    body = json.dumps({"source_id": source, "target_id": target, "amount": random.randint(1, 100)})
    return (
        f"POST /api/v1/transfers HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}"
        f"Idempotency-Key: {prefix}-{counter}\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


async def _client(
    url: str,
    kind: str,
    ids: list[str],
    until: float,
    latencies: list[float],
    statuses: Counter[int],
    token: str | None = None,
) -> None:
    """One keep-alive HTTP/1.1 connection sending requests one after the other until `until`."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    prefix, counter = uuid.uuid4().hex, 0
    try:
        while time.perf_counter() < until:
            counter += 1
            started = time.perf_counter()
            writer.write(_request(kind, f"{host}:{port}", ids, prefix, counter, token))
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[int(status_line.split()[1])] += 1
    finally:
        writer.close()


async def _generate(
    url: str, kind: str, ids: list[str], connections: int, duration: float, token: str | None = None
) -> Result:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    until = started + duration
    await asyncio.gather(*(_client(url, kind, ids, until, latencies, statuses, token) for _ in range(connections)))
    seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    return Result(
        requests=len(latencies),
        seconds=seconds,
        p50=cuts[49],
        p99=cuts[98],
        non_2xx=sum(n for status, n in statuses.items() if status >= 300),
        statuses=dict(statuses),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="A closed-loop HTTP load generator (wrk's stand-in).")
    parser.add_argument("url")
    parser.add_argument("kind", choices=["get", "transfer"])
    parser.add_argument("ids_file", type=Path)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--token", default=None, help="an access token, sent as Authorization: Bearer")
    args = parser.parse_args()
    ids = json.loads(args.ids_file.read_text(encoding="utf-8"))
    coroutine = _generate(args.url, args.kind, ids, args.connections, args.duration, args.token)
    try:
        import uvloop  # the faster event loop uvicorn uses too
    except ImportError:
        result = asyncio.run(coroutine)
    else:
        result = uvloop.run(coroutine)
    print(MARK + json.dumps({**result.__dict__, "statuses": {str(k): v for k, v in result.statuses.items()}}))


if __name__ == "__main__":
    main()
