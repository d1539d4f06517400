"""Lesson 11 checks, step 5: v1's contract is frozen, and your own test suite says so.

`v1-openapi.json` beside these checks is v1's part of the OpenAPI document as lesson 10 left it,
with every operation marked deprecated: paths, parameters, statuses and every schema they reach.
"""

import itertools
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from workshop import grading, runner
from workshop.grading import load

from .conftest import lesson_error, v1_contract

pytestmark = pytest.mark.step(5)

FROZEN = Path(__file__).parent / "v1-openapi.json"
LEARNER_TEST = "tests/test_v1_contract.py"


def test_v1s_openapi_contract_is_unchanged(app_env: str) -> None:
    """Hint: v2 gets its own DTOs, with names of their own; nothing v1 documents changes."""
    frozen = json.loads(FROZEN.read_text(encoding="utf-8"))
    current = v1_contract(load("app.main").create_app().openapi())
    changed = sorted(
        f"{kind[:-1]} {name}"
        for kind in ("paths", "schemas")
        for name in set(frozen[kind]) | set(current[kind])
        if frozen[kind].get(name) != current[kind].get(name)
    )
    assert not changed, (
        f"Lesson 11: v1's part of the OpenAPI document changed: {', '.join(changed[:5])}. v1's clients were built "
        "against it; a change (even an added field or a renamed schema) goes into v2 (step 5)"
    )


def run_contract_test(folder: Path) -> runner.Done:
    """`pytest tests/test_v1_contract.py` in `folder`, in a warm fork (the stack imported once, not per run)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "LEDGER_"))}
    plugins = ["--disable-plugin-autoload", "-p", "pytest_asyncio.plugin"]  # not every installed one: 0.5 s a run
    args = ["-q", "-p", "no:cacheprovider", "-c", "tests/pytest.ini", *plugins, LEARNER_TEST]
    return runner.run_pytest(args, cwd=folder, env=env, timeout=50)


def failure_of(output: str, limit: int = 400) -> str:
    """What a failed pytest run says first: the error of its first failure (its `E` lines up to pytest's own
    comparison, which follows a message), else its summary lines; at most `limit` characters."""
    lines = [line.rstrip() for line in output.splitlines()]
    said = [line[1:].strip() for line in lines if line.startswith("E ") and line[1:].strip()]
    if said and not said[0].startswith("assert "):
        said = [said[0], *itertools.takewhile(lambda line: not line.startswith("assert "), said[1:])]
    if not said:
        said = [line for line in lines if line.startswith(("FAILED", "ERROR"))] or [output.strip()[-limit:]]
    text = " / ".join(said)
    totals = next((line.strip("= ") for line in reversed(lines) if re.search(r"\d+ (failed|error)", line)), "")
    shown = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return f"«{shown}»" + (f" ({totals})" if totals else "")


@pytest.mark.workshop_timeout(60)
def test_your_contract_test_passes_and_fails_when_v1_changes(tmp_path: Path) -> None:
    """Hint: tests/test_v1_contract.py compares v1's paths AND the schemas they reach with the committed snapshot."""
    lesson = grading.folder()
    if not (lesson / LEARNER_TEST).is_file():
        raise lesson_error(f"there is no {LEARNER_TEST}: write the test that holds v1 to its snapshot (step 5)")
    copy = tmp_path / "service"
    for part in ("app", "tests"):
        shutil.copytree(lesson / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    passed = run_contract_test(copy)
    if passed.returncode != 0:
        raise lesson_error(
            f"`pytest {LEARNER_TEST}` fails on your app as it is, unchanged: {failure_of(passed.output)} The "
            "snapshot (given) holds v1's paths and every component schema they reach, following $refs however "
            "indirectly: your test must take that same part of the document (step 5)"
        )
    # A field added to v1's account: v1's paths stay the same, one schema they reach changes.
    schemas = copy / "app" / "schemas" / "accounts.py"
    source = schemas.read_text(encoding="utf-8")
    anchor = "    created_at: datetime\n"
    if anchor not in source:
        raise lesson_error("app/schemas/accounts.py is not the one lesson 09 left: undo your changes there (step 5)")
    schemas.write_text(source.replace(anchor, anchor + "    nickname: str | None = None\n", 1), encoding="utf-8")
    failed = run_contract_test(copy)
    assert failed.returncode != 0, (
        f"Lesson 11: with a field added to v1's AccountRead, `pytest {LEARNER_TEST}` still passes: v1's contract "
        "changed and your suite did not notice. Compare the schemas v1's paths reach too, with the committed "
        "snapshot (step 5)"
    )
