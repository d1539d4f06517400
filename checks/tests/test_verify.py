"""`workshop verify` proves the checks: a mutant counts as killed only by the checks it names, failing
with a lesson message about that mistake, and a check nothing proves is a problem."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

Workshop = Callable[..., subprocess.CompletedProcess[str]]

MUTANTS = """
from workshop.authoring.mutants import Mutant

MUTANTS = [
    Mutant(
        "health-says-okay",
        find='return {"status": "ok"}',
        replace='return {"status": "okay"}',
        killed_by=["test_health_answers_200_with_status_ok"],
        says='expected {"status": "ok"}',
        why="a load balancer matches the exact body",
    ),
    Mutant(
        "health-says-okay-but-the-message-is-about-something-else",
        find='return {"status": "ok"}',
        replace='return {"status": "okay"}',
        killed_by=["test_health_answers_200_with_status_ok"],
        says="include the router",
        why="the message must name the mistake",
    ),
    Mutant(
        "title-changed-but-named-the-wrong-check",
        find='title="Ledger",',
        replace='title="Ledger API",',
        killed_by=["test_health_answers_200_with_status_ok"],
        says="Ledger",
        why="a mutant must be caught by the checks it names",
    ),
    Mutant(
        "a-find-that-is-not-there",
        find="this text is in no file",
        replace="",
        killed_by=["test_health_answers_200_with_status_ok"],
        says="anything",
        why="a mutant that does not apply proves nothing",
    ),
]
"""


def test_verify_proves_mutants_and_reports_every_weak_spot(workshop: Workshop, repo_copy: Path) -> None:
    (repo_copy / "lessons/00/checks/mutants.py").write_text(MUTANTS)
    done = workshop("verify", "00")
    out = " ".join(done.stdout.split())  # rich wraps long lines
    assert done.returncode == 1, done.stdout
    assert "1/4" in out, "one of the four mutants is killed as it should be"
    assert "mutant health-says-okay:" not in out
    assert (
        "mutant health-says-okay-but-the-message-is-about-something-else: test_health_answers_200_with_status_ok "
        "did not kill it with a message saying 'include the router'" in out
    )
    assert (
        "mutant title-changed-but-named-the-wrong-check: test_health_answers_200_with_status_ok did not kill it" in out
    )
    assert "test_health_answers_200_with_status_ok passed" in out
    assert "mutant a-find-that-is-not-there: cannot be planted: its text must occur once" in out
    assert "check test_the_module_exposes_app_for_uvicorn is proven by no mutant" in out
    assert "check test_health_answers_200_with_status_ok is proven" not in out


def test_verify_refuses_a_lesson_without_mutants(workshop: Workshop, repo_copy: Path) -> None:
    (repo_copy / "lessons/00/checks/mutants.py").unlink()
    done = workshop("verify", "00", "--repeat", "2")
    assert done.returncode == 1
    assert "no mutants: write lessons/00/checks/mutants.py" in " ".join(done.stdout.split())
    # The checks still ran twice on the solution, all passing: the table says n/n for whatever n lesson 00 has.
    assert re.search(r"\b(\d+)/\1 pass, 2 runs", done.stdout), done.stdout
