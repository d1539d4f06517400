"""The grading plugin as a learner meets it: messages, classification, timeouts, one lesson a run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from workshop.authoring.verify import run_checks, write_solution_tree
from workshop.lessons import REPO, lesson

SYNTHETIC = """
import pytest
from workshop.grading import load


def test_todo_inside_an_exception_group():
    raise ExceptionGroup("task group", [NotImplementedError("Lesson 42: write it")])


def test_teaching_assertion():
    assert 1 == 2, "Lesson 42: one is not two (step 1)"


def test_plain_bug():
    assert {"a": 1} == {"a": 2}


def test_missing_learner_module():
    load("app.nowhere")


def test_passes():
    assert True
"""


def _synthetic_lesson(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons" / "42"
    (folder / "checks").mkdir(parents=True)
    (folder / "app").mkdir()
    (folder / "app" / "__init__.py").write_text("")
    (folder / "checks" / "test_synthetic.py").write_text(SYNTHETIC)
    return folder


def test_failures_are_classified_and_lesson_failures_take_one_line(tmp_path: Path) -> None:
    run = run_checks(_synthetic_lesson(tmp_path))
    kinds = {check.name: (check.outcome, check.kind) for check in run.checks}
    assert kinds == {
        "test_todo_inside_an_exception_group": ("failed", "todo"),
        "test_teaching_assertion": ("failed", "teaching"),
        "test_plain_bug": ("failed", "bug"),
        "test_missing_learner_module": ("failed", "teaching"),
        "test_passes": ("passed", None),
    }
    assert "checks/test_synthetic.py:11: Lesson 42: one is not two (step 1)" in run.output
    assert "Lesson 42: cannot import app.nowhere: create app/nowhere.py" in run.output
    assert "AssertionError" in run.output, "a real bug keeps its traceback"
    assert "Lesson 42: 1/5 checks pass" in run.output
    assert "Next: todo inside an exception group" in run.output


def _plain_pytest(target: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m pytest TARGET` in a process of its own, as a learner's terminal runs it (atexit and all)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(target), "-c", str(REPO / "pyproject.toml"), "-p", "no:cacheprovider"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def _lesson_01_copy(tmp_path: Path) -> Path:
    return write_solution_tree(lesson("01"), tmp_path)


def test_a_syntax_error_in_a_learner_file_names_file_and_line(tmp_path: Path) -> None:
    folder = _lesson_01_copy(tmp_path)
    config = folder / "app" / "core" / "config.py"
    lines = config.read_text().splitlines()
    lines[29] = "    app_name: str = 'Ledger"  # an unclosed string on line 30
    config.write_text("\n".join(lines) + "\n")
    run = run_checks(folder)
    assert {check.kind for check in run.checks} == {"teaching"}, run.output
    assert "lessons/01/app/core/config.py:30: Python cannot read this file" in run.output
    assert run.report.collection_errors == []
    assert f"Lesson 01: 0/{len(run.checks)} checks pass" in run.output


def test_a_hung_check_fails_with_a_message_within_the_timeout(tmp_path: Path) -> None:
    folder = _lesson_01_copy(tmp_path)
    config = folder / "app" / "core" / "config.py"
    config.write_text(config.read_text().replace("    return Settings()\n", "    while True:\n        pass\n"))
    started = time.monotonic()
    run = run_checks(folder, "-k", "cached", "-o", "workshop_timeout=2")
    elapsed = time.monotonic() - started
    (check,) = run.checks
    assert (check.outcome, check.kind) == ("failed", "teaching")
    assert "did not finish within 2 s" in check.message
    assert elapsed < 10


def test_a_check_can_ask_for_its_own_timeout(tmp_path: Path) -> None:
    folder = _synthetic_lesson(tmp_path)
    (folder / "checks" / "test_slow.py").write_text(
        "import time\n\nimport pytest\n\n\n"
        "@pytest.mark.workshop_timeout(1)\ndef test_slow():\n    time.sleep(5)\n\n\n"
        "@pytest.mark.workshop_timeout(3)\ndef test_slow_but_allowed():\n    time.sleep(1.5)\n"
    )
    run = run_checks(folder, "-k", "slow", "-o", "workshop_timeout=0.5")
    outcomes = {check.name: check.outcome for check in run.checks}
    assert outcomes == {"test_slow": "failed", "test_slow_but_allowed": "passed"}, run.output
    assert "did not finish within 1 s" in run.output


def test_the_default_timeout_is_ten_seconds() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'workshop_timeout = "10"' in text


def test_a_run_spanning_two_lessons_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "lessons/00", "lessons/01"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 4
    assert "One lesson per run" in done.stderr
    assert "uv run pytest lessons/00" in done.stderr


def test_a_lessons_own_test_suite_is_not_a_check_and_runs_as_plain_pytest(tmp_path: Path) -> None:
    folder = _synthetic_lesson(tmp_path)
    (folder / "checks" / "test_synthetic.py").write_text("def test_a_check():\n    assert True\n")
    (folder / "app" / "thing.py").write_text("VALUE = 1\n")
    suite = folder / "tests"
    suite.mkdir()
    (suite / "test_own.py").write_text(
        "import pytest\n\n\n"
        "def test_uses_the_suites_fixture(value):\n    assert value == 1\n\n\n"
        "def test_sees_none_of_the_engines_fixtures(request):\n"
        "    with pytest.raises(pytest.FixtureLookupError):\n        request.getfixturevalue('db_session')\n"
    )
    # A learner's broken conftest.py in their suite cannot break the run of the lesson's checks.
    (suite / "conftest.py").write_text("def value(:\n")
    run = run_checks(folder)
    assert [check.name for check in run.checks] == ["test_a_check"], run.output
    assert run.report.collection_errors == [] and "Lesson 42: 1/1 checks pass" in run.output

    # Run on its own, the suite imports `app` at the top of its conftest, and reports as plain pytest does.
    (suite / "conftest.py").write_text(
        "import pytest\n\nfrom app.thing import VALUE\n\n\n@pytest.fixture\ndef value():\n    return VALUE\n"
    )
    done = _plain_pytest(suite, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "scorecard" not in done.stdout and "Lesson 42" not in done.stdout


ORDERED = """
import pytest

from workshop.grading import load

pytestmark = pytest.mark.step(2)


def test_b_written_first_in_the_file_but_step_two():
    assert False, "Lesson 42: step two is not done (step 2)"


@pytest.mark.step(1)
def test_a_step_one_check():
    pytest.fail("Lesson 42: step one is not done (step 1)")


@pytest.mark.step(1)
def test_a_refused_transfer():
    errors = load("app.errors")
    raise errors.InsufficientFunds("account 7 holds 100, less than the 101 requested")


@pytest.mark.step(3)
def test_a_database_refusal():
    from sqlalchemy.exc import IntegrityError

    raise IntegrityError("INSERT …", {}, Exception('violates check constraint "ck_accounts_balance_not_negative"'))


@pytest.mark.step(3)
def test_passes():
    pass
"""

DOMAIN_ERRORS = """
class DomainError(Exception):
    pass


class InsufficientFunds(DomainError):
    pass
"""


def _ordered_lesson(tmp_path: Path) -> Path:
    folder = _synthetic_lesson(tmp_path)
    (folder / "checks" / "test_synthetic.py").unlink()
    (folder / "checks" / "test_ordered.py").write_text(ORDERED)
    (folder / "app" / "errors.py").write_text(DOMAIN_ERRORS)
    return folder


def test_checks_run_in_step_order_and_next_is_the_lowest_failing_step(tmp_path: Path) -> None:
    run = run_checks(_ordered_lesson(tmp_path))
    assert [(check.name, check.step) for check in run.checks] == [
        ("test_a_step_one_check", 1),
        ("test_a_refused_transfer", 1),
        ("test_b_written_first_in_the_file_but_step_two", 2),
        ("test_a_database_refusal", 3),
        ("test_passes", 3),
    ]
    assert "Next: a step one check (step 1)" in run.output
    assert "Then: a refused transfer (step 1); b written first in the file but step two (step 2)" in run.output


def test_pytest_fail_with_a_lesson_message_and_unexpected_errors_teach(tmp_path: Path) -> None:
    run = run_checks(_ordered_lesson(tmp_path))
    checks = {check.name: check for check in run.checks}
    assert checks["test_a_step_one_check"].kind == "teaching"
    refused = checks["test_a_refused_transfer"]
    assert refused.kind == "teaching", run.output
    # Raised in the check itself here, so no learner file:line comes first.
    assert refused.message == (
        "Lesson 42: expected a refused transfer, but your code raised InsufficientFunds: "
        "account 7 holds 100, less than the 101 requested (step 1)"
    )
    database = checks["test_a_database_refusal"]
    assert database.kind == "teaching"
    assert "the database refused a statement with IntegrityError" in database.message
    assert "ck_accounts_balance_not_negative" in database.message and database.message.endswith("(step 3)")


def test_a_narrowed_run_says_so_and_never_says_well_done(tmp_path: Path) -> None:
    folder = _ordered_lesson(tmp_path)
    one = run_checks(folder / "checks" / "test_ordered.py", "-k", "passes")
    assert "Lesson 42: 1/1 selected checks pass (5 in lesson 42)" in one.output
    assert "Well done" not in one.output and "Now the whole lesson: uv run pytest lessons/42" in one.output
    check = run_checks(folder, "--workshop-checks", "test_passes,test_a_step_one_check")
    assert [c.name for c in check.checks] == ["test_a_step_one_check", "test_passes"]
    assert "Lesson 42: 1/2 selected checks pass (5 in lesson 42)" in check.output
    node = run_checks(Path(f"{folder}/checks/test_ordered.py::test_passes"))
    assert "1/1 selected checks pass (5 in lesson 42)" in node.output, node.output


def test_a_graded_suite_cannot_read_the_graders_files(tmp_path: Path) -> None:
    from workshop import guard, runner

    folder = _synthetic_lesson(tmp_path)
    secret = tmp_path / "grader" / "bugs.py"
    secret.parent.mkdir()
    secret.write_text("SEEDED_BUGS = []\n")
    suite = folder / "tests"
    suite.mkdir()
    (suite / "test_own.py").write_text(
        "import subprocess\nfrom pathlib import Path\n\n\n"
        f"def test_reads_the_grader():\n    Path({str(secret)!r}).read_text()\n\n\n"
        f"def test_runs_a_program_on_the_grader():\n    subprocess.run(['cat', {str(secret)!r}], check=True)\n\n\n"
        "def test_reads_its_own_app():\n    assert (Path(__file__).parents[1] / 'app' / '__init__.py').is_file()\n"
        "    (Path(__file__).parents[1] / 'app' / '__init__.py').read_text()\n"
    )
    log = tmp_path / "reads.txt"
    env = {**os.environ, guard.ENV: guard.settings([str(secret.parent)], str(log))}
    done = runner.run_pytest(
        [str(suite), "-c", str(REPO / "pyproject.toml"), "-p", "no:cacheprovider", "-q"], cwd=tmp_path, env=env
    )
    assert "2 failed, 1 passed" in done.output, done.output
    assert "the workshop's own files are not for your tests to read" in done.output
    assert guard.tries(log) == [str(secret.resolve())], "each file tried is noted once, whatever the way"


def test_an_app_that_logs_to_the_captured_output_leaves_no_logging_error_after_the_scorecard(tmp_path: Path) -> None:
    """Lesson 10's app puts a handler on the root logger; at exit, a library logging its last words
    (the embedded PostgreSQL's cleanup does) must not reach that handler's closed stream."""
    folder = _synthetic_lesson(tmp_path)
    (folder / "checks" / "conftest.py").write_text(
        "import atexit\nimport logging\n\n"
        "atexit.register(lambda: logging.getLogger('library').warning('last words at exit'))\n"
    )
    (folder / "checks" / "test_synthetic.py").write_text(
        "import logging\nimport sys\n\n\n"
        "def test_the_app_configures_its_logging():\n"
        "    logging.getLogger().addHandler(logging.StreamHandler(sys.stdout))  # pytest's capture, closed at exit\n"
    )
    done = _plain_pytest(folder, tmp_path)
    assert "1/1 checks pass" in done.stdout, done.stdout + done.stderr
    assert "Logging error" not in done.stdout + done.stderr


def test_a_migration_that_fails_is_named_by_its_error_not_by_sqlalchemys_link(tmp_path: Path) -> None:
    folder = write_solution_tree(lesson("03"), tmp_path)
    migration = folder / "migrations" / "versions" / "0001_create_accounts_and_entries.py"
    text = migration.read_text()
    opening = '    """Create both tables, their constraints (named as the naming convention would) and indexes."""\n'
    migration.write_text(text.replace(opening, opening + '    op.execute("DROP TABLE no_such_table")\n', 1))
    run = run_checks(folder, "-k", "test_the_migrated_schema_matches_the_models")
    (check,) = run.report.checks
    assert check.kind == "teaching", run.output
    assert 'table "no_such_table" does not exist' in check.message, check.message
    assert "sqlalche.me" not in check.message
