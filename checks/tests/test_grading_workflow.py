"""Grading in CI: the workflow a learner enables in their fork, and `workshop grade`, which it runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from workshop.lessons import REPO

WORKFLOWS = REPO / ".github" / "workflows"
Workshop = Callable[..., subprocess.CompletedProcess[str]]


def workflow(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return data


def test_every_workflow_is_valid_for_github_actions() -> None:
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    assert files, "no workflow files"
    # SchemaStore's schema of GitHub workflows, as check-jsonschema bundles it (no network).
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_grading_workflow_grades_started_lessons_in_forks_and_uploads_the_results() -> None:
    grade = workflow("grade.yml")
    triggers = grade[True]  # YAML 1.1 reads the key `on` as True
    assert "push" in triggers and "workflow_dispatch" in triggers
    assert grade["permissions"] == {"contents": "read"}, "the job reads the repository, nothing more"
    (job,) = grade["jobs"].values()
    assert job["if"] == "github.event.repository.fork", "on the workshop's own repository every lesson is a starter"
    steps = job["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses[:2] == ["actions/checkout", "astral-sh/setup-uv"]
    (run,) = [step["run"] for step in steps if "run" in step]
    assert run.split()[:2] == ["uv", "run"] and run.endswith("workshop grade"), run
    assert "--locked" in run, "CI grades with the locked environment"
    (upload,) = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()", "the results are uploaded when checks fail too"
    assert upload["with"]["path"] == ".workshop/results/"


def test_the_workshops_own_ci_does_not_run_in_a_learners_fork() -> None:
    (job,) = workflow("ci.yml")["jobs"].values()
    assert job["if"] == "${{ !github.event.repository.fork }}"


def test_grade_runs_the_lessons_a_learner_started_and_writes_a_summary(workshop: Workshop, repo_copy: Path) -> None:
    summary = repo_copy / "summary.md"
    nothing = workshop("grade", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert nothing.returncode == 0 and "No lesson started yet" in nothing.stdout, nothing.stdout + nothing.stderr
    assert "nothing to grade" in summary.read_text()

    from workshop.authoring.verify import write_solution_tree
    from workshop.lessons import lesson

    write_solution_tree(lesson("00"), repo_copy)  # lesson 00 done
    summary.unlink()
    done = workshop("grade", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 0, done.stdout + done.stderr
    table = summary.read_text()
    assert "| lesson | title | checks | next failing check |" in table
    rows = [line for line in table.splitlines() if line.startswith("| 0")]
    assert len(rows) == 1 and rows[0].startswith("| 00 |") and "✅ " in rows[0], table

    config = repo_copy / "lessons/01/app/core/config.py"
    config.write_text(config.read_text() + "\n# started\n")  # lesson 01 started, not finished
    failing = workshop("grade", "01", "--summary", str(summary))
    assert failing.returncode == 1, failing.stdout + failing.stderr
    row = next(line for line in summary.read_text().splitlines() if line.startswith("| 01 |"))
    assert "❌ 0/" in row and "(step " in row, row
