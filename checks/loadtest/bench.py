"""Benchmark: the finished reference service against a raw baseline and a synchronous variant.

    uv run python -m loadtest.bench                      # 5 rounds of 5 s, 32 connections
    uv run python -m loadtest.bench --rounds 9 --duration 10
    uv run python -m loadtest.bench --variants ab --setting db_pool_pre_ping=false

Three apps answer the same `GET /api/v1/accounts/{id}` and `POST /api/v1/transfers` on one
database holding the same accounts:

  (a) baseline   Starlette + raw asyncpg (workshop/loadtest/baseline.py)
  (b) reference  the finished service: the solution tree of the last lesson
  (c) sync       FastAPI `def` routes + sync SQLAlchemy on psycopg, in the threadpool

All three check the same access token (from lesson 09 on: the seeded user logs in once, and every
request carries the token) and answer the token's user's accounts only. Each runs in one uvicorn
worker, with the same settings and secret key; the load comes from another process (wrk, or a
Python generator when wrk is missing). Rounds are interleaved (a, b, c, then b, c, a, …) so that a busy
machine slows every variant alike, and the first round warms up and is discarded. The report
gives the median req/s, p50 and p99 of each, the ratio b/a of every round and its median, and
checks after the transfers that not one unit of money appeared or vanished.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections import defaultdict
from contextlib import ExitStack

from loadtest.load import Result, loader_name, measure
from loadtest.stack import (
    BASELINE,
    LOAD_PASSWORD,
    REFERENCE,
    SYNC_VARIANT,
    Audit,
    Service,
    audit,
    final_lesson,
    log_in,
    seeded_stage,
    service_env,
)
from workshop import database

VARIANTS = {"a": ("baseline", BASELINE), "b": ("reference", REFERENCE), "c": ("sync", SYNC_VARIANT)}
KINDS = ("get", "transfer")
TARGETS = {"get": 0.35, "transfer": 0.45}  # the reference's share of the baseline's req/s
P99_TARGET = 0.5  # seconds, at 32 connections
BALANCE = 10**9  # per account: 1 to 100 units per transfer never runs an account dry


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (a warm-up round comes first)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per variant and endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--variants", default="abc", help="which of a, b, c to run (default: all)")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the served apps, as LEDGER_NAME (repeatable), e.g. db_pool_pre_ping=false",
    )
    args = parser.parse_args()
    if malformed := [setting for setting in args.setting if "=" not in setting]:
        parser.error(f"--setting takes NAME=VALUE, not {malformed[0]!r}")
    settings = dict(setting.split("=", 1) for setting in args.setting)
    loader = loader_name(args.loader)
    variants = [key for key in "abc" if key in args.variants]
    if loader == "python":
        print("wrk not found: using the Python load generator (it needs a core of its own; figures are lower).")
        print("For the real figures: sudo apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS).")

    results: dict[tuple[str, str], list[Result]] = defaultdict(list)
    with seeded_stage("bench", args.accounts, BALANCE) as stage:
        ids = stage.ids
        env = service_env(stage.url, **settings)  # one secret key for all three: the one token works on each
        with ExitStack() as stack:
            services = {
                key: stack.enter_context(Service(VARIANTS[key][0], VARIANTS[key][1], stage.folder, env))
                for key in variants
            }
            reference = services.get("b") or next(iter(services.values()))
            token = log_in(reference.base_url, stage.owner, LOAD_PASSWORD) if stage.owner else None
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            print(
                f"Finished service: lesson {final_lesson().number}'s solution tree. Load: {loader}, "
                f"{args.connections} connections, {args.rounds} rounds x {args.duration:g} s per variant and "
                f"endpoint, after 1 warm-up round. Machine load average at start: {load:.2f}."
            )
            for round_number in range(args.rounds + 1):
                order = variants[round_number % len(variants) :] + variants[: round_number % len(variants)]
                duration = min(args.duration, 3.0) if round_number == 0 else args.duration
                line = []
                for kind in KINDS:
                    for key in order:
                        cpu_before = services[key].cpu_seconds()
                        result = measure(loader, services[key].base_url, kind, ids, args.connections, duration, token)
                        result.server_cpu = services[key].cpu_seconds() - cpu_before
                        if round_number:
                            results[key, kind].append(result)
                        line.append(f"{kind} {VARIANTS[key][0]} {result.rps:,.0f}/s")
                label = "warm-up (discarded)" if round_number == 0 else f"round {round_number}/{args.rounds}"
                print(f"  {label}: " + ", ".join(line), flush=True)
        found = database.run(audit(stage.dsn))
    expected = args.accounts * BALANCE
    _report(results, variants, args.rounds)
    problems = found.problems(expected)
    _print_money(found, expected, problems)
    if problems:
        raise SystemExit(1)


def _report(results: dict[tuple[str, str], list[Result]], variants: list[str], rounds: int) -> None:
    print()
    print(
        f"{'endpoint':<10}{'variant':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'worst p99':>11}"
        f"{'server CPU ms/req':>19}{'non-2xx':>9}"
    )
    for kind in KINDS:
        for key in variants:
            runs = results[key, kind]
            print(
                f"{kind:<10}{f'({key}) {VARIANTS[key][0]}':<16}"
                f"{statistics.median(r.rps for r in runs):>10,.0f}"
                f"{_ms(statistics.median(r.p50 for r in runs)):>10}"
                f"{_ms(statistics.median(r.p99 for r in runs)):>10}"
                f"{_ms(max(r.p99 for r in runs)):>11}"
                f"{statistics.median(r.cpu_per_request for r in runs) * 1000:>19.3f}"
                f"{sum(r.non_2xx + r.socket_errors for r in runs):>9}"
            )
    print()
    for numerator in ("b", "c"):
        if numerator not in variants or "a" not in variants:
            continue
        for kind in KINDS:
            ratios = [b.rps / a.rps for b, a in zip(results[numerator, kind], results["a", kind], strict=True)]
            target = f"  (target >= {TARGETS[kind]})" if numerator == "b" else ""
            cpu = statistics.median(r.cpu_per_request for r in results["a", kind]) / statistics.median(
                r.cpu_per_request for r in results[numerator, kind]
            )
            print(
                f"ratio {numerator}/a {kind:<9} req/s per round: {' '.join(f'{r:.2f}' for r in ratios)}"
                f"   median {statistics.median(ratios):.2f}{target};  by server CPU per request: {cpu:.2f}"
            )
    if "b" in variants:
        for kind in KINDS:
            p99 = statistics.median(r.p99 for r in results["b", kind])
            verdict = "meets" if p99 <= P99_TARGET else "misses"
            print(f"reference p99 {kind}: {p99 * 1000:.0f} ms ({verdict} the target <= {P99_TARGET * 1000:.0f} ms)")


def _print_money(found: Audit, expected: int, problems: list[str]) -> None:
    print()
    if problems:
        print("MONEY NOT CONSERVED: " + "; ".join(problems))
    else:
        print(
            f"Money conserved: {found.accounts} accounts hold {expected:,} units in total, as seeded, "
            f"after {found.transfers:,} transfers; no balance below zero; every balance equals the "
            "sum of its entries; every transfer is two entries that sum to zero."
        )


if __name__ == "__main__":
    main()
