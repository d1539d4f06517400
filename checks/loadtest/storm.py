"""Transfer storm: many concurrent transfers against the running finished service; no money may be lost.

    uv run python -m loadtest.storm                       # 10,000 transfers, 32 clients
    uv run python -m loadtest.storm --transfers 2000 --clients 8

The storm's users sign up and log in through the API, as clients do, then open their accounts
and pay a little money into each. Few accounts with little money, so that transfers collide on
the same rows (lock waits, opposite directions at once) and sources run dry (409
insufficient_funds). Each client acts for one user: it sends money from that user's accounts to
anyone's, with the user's token. Every tenth request retries an earlier Idempotency-Key of the
same user: with the same body it must replay (201, no second payment), with another amount it
must be refused (409 idempotency_conflict). Every 25th tries to send money out of another user's
account, which must answer 404 and move nothing. Afterwards:

- only 201, 409 and those 404s, no transport error;
- the balances add up to what was paid in, none is below zero, each equals its entries;
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
    bearer,
    log_in,
    seeded_stage,
    service_env,
    sign_up,
)
from workshop import database

REPLAYED = "Idempotent-Replayed"
PASSWORD = "storm-password-not-a-secret"


@dataclass
class StormUser:
    """A user of the storm: its token, and the accounts it opened."""

    headers: dict[str, str]
    accounts: list[str] = field(default_factory=list)


@dataclass
class StormResult:
    sent: int
    seconds: float
    deposited: int = 0  # paid into the storm's own accounts before the storm
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # error codes of the non-2xx answers
    replays: int = 0
    foreign: int = 0  # attempts to send money out of another user's account
    foreign_refused: int = 0  # of those, the ones answered 404 account_not_found
    transport_errors: list[str] = field(default_factory=list)

    @property
    def made(self) -> int:
        """Transfers that moved money: 201 answers that were not replays."""
        return self.statuses[201] - self.replays

    def problems(self, found: Audit, expected_total: int) -> list[str]:
        problems = found.problems(expected_total)
        unexpected = {status: n for status, n in self.statuses.items() if status not in (201, 404, 409)}
        if unexpected:
            problems.append(f"answers other than 201, 404 and 409: {unexpected} (error codes {dict(self.codes)})")
        if self.statuses[404] != self.foreign_refused or self.foreign_refused != self.foreign:
            problems.append(
                f"{self.foreign} transfers out of another user's account were answered with "
                f"{self.foreign_refused} 404 account_not_found, and there were {self.statuses[404]} 404s in all: "
                "each must be refused with 404, and nothing else may be"
            )
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
            f"{statuses} ({self.made:,} transfers made, {self.replays:,} idempotent replays, {self.foreign:,} "
            f"refused attempts on another user's account; errors: {codes or 'none'})"
        )


async def open_accounts(
    http: httpx.AsyncClient,
    base_url: str,
    users: int,
    accounts_per_user: int,
    balance: int,
    run: str,
    api: str = "/api/v1",
) -> list[StormUser]:
    """Sign up and log in `users` users; each opens `accounts_per_user` accounts and pays `balance` into each."""
    made: list[StormUser] = []
    for number in range(users):
        email = f"storm-{run}-{number}@ledger.test"
        # Sign-up and log-in hash with Argon2: a tenth of a second each, done once per user.
        await asyncio.to_thread(sign_up, base_url, email, PASSWORD)
        token = await asyncio.to_thread(log_in, base_url, email, PASSWORD)
        user = StormUser(bearer(token))
        for _ in range(accounts_per_user):
            opened = await http.post(f"{api}/accounts", json={"owner": email, "currency": "EUR"}, headers=user.headers)
            if opened.status_code != 201:
                raise SystemExit(f"opening a storm account answered {opened.status_code}: {opened.text[:300]}")
            account_id = str(opened.json()["id"])
            paid = await http.post(
                f"{api}/accounts/{account_id}/deposits", json={"amount": balance}, headers=user.headers
            )
            if paid.status_code != 201:
                raise SystemExit(f"a storm deposit answered {paid.status_code}: {paid.text[:300]}")
            user.accounts.append(account_id)
        made.append(user)
    return made


async def storm(
    base_url: str,
    transfers: int,
    clients: int,
    max_amount: int,
    *,
    users: int = 4,
    accounts_per_user: int = 3,
    balance: int = 1_000,
    seed: int | None = None,
    api: str = "/api/v1",
) -> StormResult:
    """Sign up `users` users with their accounts, then send `transfers` transfers from `clients` clients.

    `api` is the version the storm speaks: "/api/v1", or "/api/v2" (lesson 11), whose errors are problem
    details that carry v1's error code as `code`.
    """
    rng = random.Random(seed)
    result = StormResult(sent=0, seconds=0.0)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        people = await open_accounts(http, base_url, users, accounts_per_user, balance, uuid.uuid4().hex[:8], api)
        result.deposited = users * accounts_per_user * balance
        everyone = [account for person in people for account in person.accounts]
        earlier: list[tuple[int, str, dict[str, object]]] = []  # (user, key, body) of the keys already sent
        counter = iter(range(transfers))

        def next_request(user: int) -> tuple[str, dict[str, object], bool]:
            """(Idempotency-Key, body, whether the source is another user's) of the next request of `user`."""
            number = next(counter)  # raises StopIteration when the storm is over
            mine = [entry for entry in earlier if entry[0] == user]
            if mine and number % 10 == 9:
                _, key, body = rng.choice(mine)
                if number % 20 == 19:  # the same key for another request: must be refused
                    body = {**body, "amount": int(str(body["amount"])) + 1}
                return key, body, False
            if number % 25 == 24:  # money out of someone else's account: must be a 404
                theirs = rng.choice([a for p, person in enumerate(people) if p != user for a in person.accounts])
                body = {"source_id": theirs, "target_id": rng.choice(people[user].accounts), "amount": 1}
                return str(uuid.uuid4()), body, True
            source = rng.choice(people[user].accounts)
            target = rng.choice([account for account in everyone if account != source])
            key = str(uuid.uuid4())
            body = {"source_id": source, "target_id": target, "amount": rng.randint(1, max_amount)}
            earlier.append((user, key, body))
            return key, body, False

        async def client(user: int) -> None:
            while True:
                try:
                    key, body, foreign = next_request(user)
                except StopIteration:
                    return
                result.sent += 1
                result.foreign += foreign
                try:
                    answer = await http.post(
                        f"{api}/transfers", json=body, headers={**people[user].headers, "Idempotency-Key": key}
                    )
                except httpx.HTTPError as error:
                    result.transport_errors.append(f"{type(error).__name__}: {error}")
                    continue
                result.statuses[answer.status_code] += 1
                if answer.status_code == 201 and answer.headers.get(REPLAYED) == "true":
                    result.replays += 1
                elif answer.status_code != 201:
                    try:
                        refused = answer.json()
                        code = str(refused["code"] if "code" in refused else refused["error"]["code"])
                    except (ValueError, KeyError, TypeError):
                        code = answer.text[:80]
                    result.codes[code] += 1
                    result.foreign_refused += foreign and answer.status_code == 404 and code == "account_not_found"

        started = time.perf_counter()
        await asyncio.gather(*(client(number % users) for number in range(clients)))
        result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transfers", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=4, help="accounts each user opens")
    parser.add_argument("--balance", type=int, default=2_000, help="minor units paid into each account")
    parser.add_argument("--max-amount", type=int, default=300)
    args = parser.parse_args()
    with seeded_stage("storm", 0, 0) as stage:
        print(
            f"Storm: {args.transfers:,} transfers, {args.clients} clients, {args.users} users with "
            f"{args.accounts} accounts of {args.balance} each"
        )
        with Service("reference", REFERENCE, stage.folder, service_env(stage.url)) as service:
            result = asyncio.run(
                storm(
                    service.base_url,
                    args.transfers,
                    args.clients,
                    args.max_amount,
                    users=args.users,
                    accounts_per_user=args.accounts,
                    balance=args.balance,
                )
            )
        found = database.run(audit(stage.dsn))
    print(result.summary())
    problems = result.problems(found, result.deposited)
    if problems:
        raise SystemExit("STORM FAILED: " + "; ".join(problems))
    print(
        f"Money conserved: {found.accounts} accounts still hold {found.total:,} in total, none below zero, "
        f"each balance equal to its entries; {found.transfers:,} transfers, each two entries summing to zero; "
        f"every attempt on another user's account refused."
    )


if __name__ == "__main__":
    main()
