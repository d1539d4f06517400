"""Schemathesis against the finished service's `/openapi.json`: no 500, no answer outside the schema.

    uv run python -m loadtest.fuzz                        # >= 1000 generated cases
    uv run python -m loadtest.fuzz --max-examples 20      # a quick look

Schemathesis reads the OpenAPI document the service publishes, generates requests for every
operation (valid and invalid ones: wrong types, missing fields, huge numbers, odd strings) and
checks each answer: `not_a_server_error` (no 5xx), `response_schema_conformance` (the body
matches the schema the route declares for its status) and, from lesson 09 on, `ignored_auth` (an
operation that declares a security scheme refuses a request without valid credentials). It runs
as its own command in a subprocess, without its pytest plugin (the workshop's pytest config turns
that off for learners).

From lesson 09 on, the fuzzer is a user: it signs up, logs in, and sends its token with every
request (`-H "Authorization: Bearer …"`), so the generated requests reach past the 401.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.stack import (
    REFERENCE,
    Service,
    log_in,
    seeded_stage,
    service_env,
    sign_up,
)

CHECKS = "not_a_server_error,response_schema_conformance,ignored_auth"
PASSWORD = "fuzz-password-not-a-secret"


@dataclass
class FuzzResult:
    returncode: int
    output: str
    cases: int  # test cases schemathesis generated and sent
    failures: list[str] = field(default_factory=list)  # one line per failed check

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and not self.failures


def fuzzer_token(base_url: str) -> str:
    """Sign up a user of the fuzzer's own, and log in: its access token."""
    email = f"fuzz-{uuid.uuid4().hex[:8]}@ledger.test"
    sign_up(base_url, email, PASSWORD)
    return log_in(base_url, email, PASSWORD)


def fuzz(
    base_url: str, max_examples: int, seed: int = 0, timeout: float = 1800, token: str | None = None
) -> FuzzResult:
    """Run `schemathesis run` against a running service; read the cases and failures from its JSON report.

    With `token`, every request carries it as a bearer token.
    """
    with tempfile.TemporaryDirectory(prefix="workshop-fuzz-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{base_url}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        if token is not None:
            command += ["--header", f"Authorization: Bearer {token}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=scratch)
        data = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}
    failures = [json.dumps(failure)[:300] for failure in data.get("failures", [])]
    failures += [f"error: {json.dumps(error)[:300]}" for error in data.get("errors", [])]
    if not data:
        failures.append("schemathesis wrote no report")
    cases = int(data.get("test_cases", {}).get("generated", 0))
    return FuzzResult(done.returncode, done.stdout + done.stderr, cases, failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=150, help="cases per operation and phase")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with (
        seeded_stage("fuzz", 5, 10_000) as stage,
        Service("reference", REFERENCE, stage.folder, service_env(stage.url)) as service,
    ):
        result = fuzz(service.base_url, args.max_examples, args.seed, token=fuzzer_token(service.base_url))
    tail = "\n".join(result.output.strip().splitlines()[-25:])
    print(tail)
    print()
    if not result.passed:
        listed = "\n".join(sorted(set(result.failures))[:30])
        raise SystemExit(f"SCHEMATHESIS FOUND PROBLEMS ({result.cases} cases, exit {result.returncode}):\n{listed}")
    print(f"schemathesis: {result.cases:,} generated cases, 0 server errors, 0 response-schema violations ({CHECKS}).")


if __name__ == "__main__":
    main()
