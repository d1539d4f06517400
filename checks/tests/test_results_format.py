"""The results files: real runs match their JSON Schema, and --junitxml works as pytest users expect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import fields
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from workshop.authoring.verify import run_checks
from workshop.classroom.server.schemas import CheckIn, ReportIn
from workshop.lessons import lesson
from workshop.results import SCHEMA_FILE, SCHEMA_VERSION, CheckResult, RunReport

EVERY_KIND = """
import pytest

pytestmark = pytest.mark.step(1)


def test_a_stub_is_still_there():
    raise NotImplementedError("Lesson 42: write it")


def test_a_lesson_message():
    assert 1 == 2, "Lesson 42: one is not two (step 1)"


def test_a_plain_bug():
    assert {"a": 1} == {"a": 2}


def test_it_passes():
    pass


@pytest.mark.engine_gated
def test_needs_docker():
    pytest.skip("no Docker engine here: this check builds the image")
"""


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def problems(data: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator().iter_errors(data)]


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunReport]:
    """Two real runs: lesson 00's starter, and a lesson with a check of every outcome."""
    synthetic = tmp_path_factory.mktemp("every") / "lessons" / "42"
    (synthetic / "checks").mkdir(parents=True)
    (synthetic / "app").mkdir()
    (synthetic / "app" / "__init__.py").write_text("")
    (synthetic / "README.md").write_text("# Lesson 42 — Every outcome\n\n## Step 1 — All of them\n")
    (synthetic / "checks" / "test_every_kind.py").write_text(EVERY_KIND)
    return {
        "00 starter": run_checks(lesson("00").path).report,
        "every outcome": run_checks(synthetic).report,
    }


def test_real_runs_are_valid_results_files(real_runs: dict[str, RunReport]) -> None:
    outcomes = {(check.outcome, check.kind) for run in real_runs.values() for check in run.checks}
    assert {("passed", None), ("skipped", None), ("failed", "todo"), ("failed", "teaching"), ("failed", "bug")} <= (
        outcomes
    ), f"the runs should show every outcome; they show {outcomes}"
    for name, run in real_runs.items():
        assert run.checks, f"{name}: no checks ran"
        found = problems(run.to_dict())
        assert not found, f"the {name} run does not match {SCHEMA_FILE.name}: {found}"
        # The server accepts what the plugin writes, too.
        ReportIn.model_validate(run.to_dict())


def test_the_schema_rejects_what_is_not_a_results_file(real_runs: dict[str, RunReport]) -> None:
    good = real_runs["every outcome"].to_dict()
    broken = {
        "a lesson of one digit": {**good, "lesson": "5"},
        "an older version": {**good, "schema": 1},
        "an undocumented field": {**good, "learner": "someone else"},
        "a failed check without a kind": {**good, "checks": [{**good["checks"][0], "kind": None}]},
        "a passed check with a kind": {**good, "checks": [{**good["checks"][-2], "kind": "bug"}]},
        "a time that is not one": {**good, "at": "yesterday"},
    }
    for name, data in broken.items():
        assert problems(data), f"the schema accepts {name}"


def test_the_schema_the_plugin_and_the_server_describe_the_same_fields() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    report = set(RunReport(lesson="00").to_dict())
    check = {field.name for field in fields(CheckResult)}
    assert set(schema["properties"]) == report == set(schema["required"]), "results.schema.json vs RunReport"
    assert set(schema["$defs"]["check"]["properties"]) == check, "results.schema.json vs CheckResult"
    assert schema["properties"]["schema"]["const"] == SCHEMA_VERSION
    assert {field.alias or name for name, field in ReportIn.model_fields.items()} == report, "the server's ReportIn"
    assert set(CheckIn.model_fields) == check, "the server's CheckIn"


def test_a_results_file_of_version_1_still_reads() -> None:
    old = {
        "lesson": "03",
        "checks": [],
        "total": 9,
        "selected": 9,
        "exitstatus": 1,
        "schema": 1,
        "at": "",
        "workshop": "",
    }
    assert RunReport.from_json(json.dumps(old)).total == 9


def test_junitxml_reports_every_check_with_its_step_and_kind(repo_copy: Path) -> None:
    xml = repo_copy / "out" / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "lessons/00", f"--junitxml={xml}", "-p", "no:cacheprovider"],
        cwd=repo_copy,
        env={**os.environ, "WORKSHOP_ROOT": str(repo_copy)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Lesson 00 scorecard" in done.stdout, "--junitxml must not take the scorecard away"
    run = RunReport.from_json((repo_copy / ".workshop/results/00.json").read_text())  # still the learner's progress
    suite = ElementTree.parse(xml).getroot().find("testsuite")
    assert suite is not None
    assert (int(suite.get("tests", 0)), int(suite.get("failures", 0))) == (len(run.checks), len(run.failing))
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {check.name for check in run.checks}
    for check in run.checks:
        case = cases[check.name]
        properties = {item.get("name"): item.get("value") for item in case.iter("property")}
        assert properties.get("workshop_step") == str(check.step), f"{check.name}: {properties}"
        failure = case.find("failure")
        assert failure is not None, f"{check.name} failed but its testcase has no <failure>"
        assert properties.get("workshop_kind") == check.kind
        assert failure.get("message") == check.message, "the failure's message is the check's one line"
    teaching = next(check for check in run.checks if check.kind == "teaching")
    assert "Lesson 00:" in (cases[teaching.name].find("failure").get("message") or "")  # type: ignore[union-attr]
