"""Server CPU per request: the finished reference against the raw baseline, the ratio issue 18 asks for.

    uv run python -m loadtest.cpu                     # 3,000 requests a round, 2 measured rounds
    uv run python -m loadtest.cpu --requests 1000 --setting db_pool_pre_ping=false

Wall-clock throughput on a shared 2-core machine moves with everything else that runs (`loadtest.bench`
measures it); the CPU time the server process itself spends per request does not. 16 client threads
send GETs of the seeded accounts, then transfers between them, to the baseline (Starlette + raw asyncpg)
and to the reference in turn; a warm-up round of 300 requests is not counted. The ratio is
baseline / reference: 1.0 would be a reference as lean as raw asyncpg.
"""

from __future__ import annotations

import argparse
import random
import statistics
import uuid
from concurrent.futures import ThreadPoolExecutor

from loadtest.bench import BALANCE, KINDS
from loadtest.stack import BASELINE, LOAD_PASSWORD, REFERENCE, Service, log_in, seeded_stage, service_env

CLIENTS = 16
WARM_UP = 300


def load(base_url: str, token: str | None, ids: list[str], kind: str, requests: int) -> None:
    """`requests` GETs or transfers from CLIENTS threads; every answer must be the success it should be."""
    import httpx

    def client(count: int) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
            for _ in range(count):
                if kind == "get":
                    answer = http.get(f"/api/v1/accounts/{random.choice(ids)}")
                    expected = 200
                else:
                    source, target = random.sample(ids, 2)
                    answer = http.post(
                        "/api/v1/transfers",
                        json={"source_id": source, "target_id": target, "amount": 1},
                        headers={"Idempotency-Key": str(uuid.uuid4())},
                    )
                    expected = 201
                if answer.status_code != expected:
                    raise SystemExit(f"{kind} answered {answer.status_code}: {answer.text[:300]}")

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, [requests // CLIENTS] * CLIENTS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per variant, kind and round")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds (after one warm-up round)")
    parser.add_argument("--setting", action="append", default=[], help="NAME=VALUE for both services' LEDGER_NAME")
    args = parser.parse_args()
    settings = dict(setting.split("=", 1) for setting in args.setting)
    per_request: dict[tuple[str, str], list[float]] = {}
    with seeded_stage("cpu", 200, BALANCE) as stage:
        env = service_env(stage.url, **settings)
        with Service("a", BASELINE, stage.folder, env) as baseline, Service("b", REFERENCE, stage.folder, env) as ref:
            token = log_in(ref.base_url, stage.owner, LOAD_PASSWORD) if stage.owner else None  # users: lesson 09 on
            for round_number in range(args.rounds + 1):
                for kind in KINDS:
                    for name, service in (("baseline", baseline), ("reference", ref)):
                        requests = args.requests if round_number else WARM_UP
                        before = service.cpu_seconds()
                        load(service.base_url, token, stage.ids, kind, requests)
                        if round_number:
                            spent = (service.cpu_seconds() - before) / requests * 1000
                            per_request.setdefault((name, kind), []).append(spent)
    for kind in KINDS:
        base = statistics.median(per_request["baseline", kind])
        reference = statistics.median(per_request["reference", kind])
        print(
            f"{kind:9} server CPU per request: baseline {base:.3f} ms, reference {reference:.3f} ms, "
            f"ratio {base / reference:.2f}"
        )


if __name__ == "__main__":
    main()
