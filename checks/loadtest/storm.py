"""Transfer storm: many concurrent transfers against the running finished service; no money may be lost.

    uv run python -m loadtest.storm                       # 10,000 transfers, 32 clients
    uv run python -m loadtest.storm --transfers 2000 --clients 8

A few accounts with little money, so that transfers collide on the same rows (lock waits,
opposite directions at once) and sources run dry (409 insufficient_funds). Every tenth request
retries an earlier Idempotency-Key: with the same body it must replay (201, no second payment),
with another amount it must be refused (409 idempotency_conflict). Afterwards:

- only 201 and 409 answers, no transport error;
- the balances add up to what was seeded, none is below zero, each equals its entries;
- every transfer is two entries that sum to zero, and there are exactly as many transfers as
  201 answers that were not replays: each one moved money once.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from loadtest.stack import (
    REFERENCE,
    Audit,
    Service,
    audit,
    seeded_stage,
    service_env,
)
from workshop import database

REPLAYED = "Idempotent-Replayed"


@dataclass
class StormResult:
    sent: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # error codes of the non-2xx answers
    replays: int = 0
    transport_errors: list[str] = field(default_factory=list)

    @property
    def made(self) -> int:
        """Transfers that moved money: 201 answers that were not replays."""
        return self.statuses[201] - self.replays

    def problems(self, found: Audit, expected_total: int) -> list[str]:
        problems = found.problems(expected_total)
        unexpected = {status: n for status, n in self.statuses.items() if status not in (201, 409)}
        if unexpected:
            problems.append(f"answers other than 201 and 409: {unexpected} (error codes {dict(self.codes)})")
        if self.transport_errors:
            problems.append(f"{len(self.transport_errors)} requests failed: {self.transport_errors[:3]}")
        if found.transfers != self.made:
            problems.append(
                f"the ledger holds {found.transfers} transfers but the service answered {self.made} "
                "new ones with 201: a transfer was lost or made twice"
            )
        return problems

    def summary(self) -> str:
        statuses = ", ".join(f"{n:,} x {status}" for status, n in sorted(self.statuses.items()))
        codes = ", ".join(f"{code} {n:,}" for code, n in sorted(self.codes.items()))
        return (
            f"{self.sent:,} transfer requests in {self.seconds:.1f} s ({self.sent / self.seconds:,.0f}/s): "
            f"{statuses} ({self.made:,} transfers made, {self.replays:,} idempotent replays; 409: {codes or 'none'})"
        )


async def storm(
    base_url: str, ids: list[str], transfers: int, clients: int, max_amount: int, seed: int | None = None
) -> StormResult:
    """Send `transfers` POST /api/v1/transfers from `clients` concurrent connections."""
    rng = random.Random(seed)
    result = StormResult(sent=0, seconds=0.0)
    earlier: list[tuple[str, dict[str, object]]] = []  # keys already sent, with their bodies
    counter = iter(range(transfers))

    def next_request() -> tuple[str, dict[str, object]]:
        number = next(counter)  # raises StopIteration when the storm is over
        if earlier and number % 10 == 9:
            key, body = rng.choice(earlier)
            if number % 20 == 19:  # the same key for another request: must be refused
                body = {**body, "amount": int(str(body["amount"])) + 1}
            return key, body
        source, target = rng.sample(ids, 2)
        key, body = str(uuid.uuid4()), {"source_id": source, "target_id": target, "amount": rng.randint(1, max_amount)}
        earlier.append((key, body))
        return key, body

    async def client(http: httpx.AsyncClient) -> None:
        while True:
            try:
                key, body = next_request()
            except StopIteration:
                return
            result.sent += 1
            try:
                answer = await http.post("/api/v1/transfers", json=body, headers={"Idempotency-Key": key})
            except httpx.HTTPError as error:
                result.transport_errors.append(f"{type(error).__name__}: {error}")
                continue
            result.statuses[answer.status_code] += 1
            if answer.status_code == 201 and answer.headers.get(REPLAYED) == "true":
                result.replays += 1
            elif answer.status_code != 201:
                try:
                    result.codes[str(answer.json()["error"]["code"])] += 1
                except (ValueError, KeyError, TypeError):
                    result.codes[answer.text[:80]] += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transfers", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--balance", type=int, default=2_000, help="minor units each account starts with")
    parser.add_argument("--max-amount", type=int, default=300)
    args = parser.parse_args()
    with seeded_stage("storm", args.accounts, args.balance) as stage:
        print(f"Storm: {args.transfers:,} transfers, {args.clients} clients, {args.accounts} accounts x {args.balance}")
        with Service("reference", REFERENCE, stage.folder, service_env(stage.url)) as service:
            result = asyncio.run(storm(service.base_url, stage.ids, args.transfers, args.clients, args.max_amount))
        found = database.run(audit(stage.dsn))
    print(result.summary())
    problems = result.problems(found, args.accounts * args.balance)
    if problems:
        raise SystemExit("STORM FAILED: " + "; ".join(problems))
    print(
        f"Money conserved: {found.accounts} accounts still hold {found.total:,} in total, none below zero, "
        f"each balance equal to its entries; {found.transfers:,} transfers, each two entries summing to zero."
    )


if __name__ == "__main__":
    main()
