"""Grading a learner's suite with seeded bugs: running only the tests that run a bug's lines gives
the verdicts of running them all."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from workshop import database
from workshop.authoring.verify import write_solution_tree
from workshop.graders import seeded
from workshop.lessons import lesson

SOURCE = """\
import functools


@functools.cache
def limit(
    amount: int,
) -> int:
    total = (
        amount
        + 1
    )
    if total > 10:  # too much
        return 10
    try:
        return total
    except ValueError:
        return 0
# the end
"""


def test_a_change_is_the_whole_of_each_simple_statement_it_touches() -> None:
    assert seeded.changed_lines(SOURCE, "        + 1\n") == {8, 9, 10, 11}


def test_a_change_in_a_header_is_the_header_and_not_the_body() -> None:
    assert seeded.changed_lines(SOURCE, "if total > 10:") == {12}
    assert seeded.changed_lines(SOURCE, "except ValueError:") == {16}
    assert seeded.changed_lines(SOURCE, "    amount: int,\n") == {4, 5, 6, 7}  # decorators and all


def test_a_change_in_a_body_is_its_statement_only() -> None:
    assert seeded.changed_lines(SOURCE, "        return 10\n") == {13}


def test_a_change_that_touches_no_statement_runs_every_test() -> None:
    assert seeded.changed_lines(SOURCE, "# the end") is None


def _bugs() -> list[seeded.SeededBug]:
    path = lesson("07").path / "checks" / "bugs.py"
    spec = importlib.util.spec_from_file_location("lesson07_bugs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bugs: list[seeded.SeededBug] = module.SEEDED_BUGS
    return bugs


# A suite without its transfer tests: it misses some bugs and catches others.
DROPPED = ("test_services_transfers.py", "test_api_transfers.py", "test_committed.py")
SMOKE_TEST = "tests/test_smoke.py::test_an_account_opened_over_http_can_be_read_back"


def test_running_only_the_tests_that_run_a_bugs_lines_gives_the_verdicts_of_running_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seeded, "CAUGHT", tmp_path / "caught")  # not the checkout's own memory of catches
    folder = write_solution_tree(lesson("07"), tmp_path)
    for name in DROPPED:
        (folder / "tests" / name).unlink()
    shutil.rmtree(folder / "checks", ignore_errors=True)
    bugs = _bugs()

    async def gradings() -> tuple[
        seeded.Grading, seeded.Grading, seeded.Grading, dict[str, seeded.Catch], seeded.Grading
    ]:
        server = database.server()
        template = await database.migrated_template(server, folder, "07")
        selected = await seeded.grade(folder, "07", bugs, server=server, template=template)
        whole = await seeded.grade(folder, "07", bugs, server=server, template=template, select=False)
        again = await seeded.grade(folder, "07", bugs, server=server, template=template)
        remembered = seeded.caught_before("07")
        # A memory that no longer holds: a test that catches nothing, a test that is gone.
        stale = [SMOKE_TEST, "tests/test_gone.py::test_gone"]
        memory = {bug.name: {"test": stale[index % 2], "seconds": 1.0} for index, bug in enumerate(bugs)}
        (seeded.CAUGHT / "07.json").write_text(json.dumps(memory), encoding="utf-8")
        misled = await seeded.grade(folder, "07", bugs, server=server, template=template)
        return selected, whole, again, remembered, misled

    selected, whole, again, remembered, misled = asyncio.run(gradings())
    assert selected.reference.passed, selected.reference.output[-3000:]
    assert selected.coverage is not None
    percent, not_run = selected.coverage.of("app/routers/v1/accounts.py")
    assert percent == 100, f"lines after a database call went unmeasured (coverage must follow greenlets): {not_run}"
    caught = {name: not run.passed for name, run in whole.runs.items()}
    assert any(caught.values()) and not all(caught.values()), f"the reduced suite should miss some bugs: {caught}"
    assert {name: not run.passed for name, run in selected.runs.items()} == caught
    skipped = [name for name, run in selected.runs.items() if run.output == seeded.NOT_RUN]
    fewer = [name for name in caught if 0 < selected.runs[name].tests < whole.runs[name].tests]
    assert skipped or fewer, "selection ran every test for every bug: coverage contexts were not recorded"
    # The next grading runs first the test that caught each bug last time: the same verdicts, sooner.
    assert {name: not run.passed for name, run in again.runs.items()} == caught
    reordered = [name for name in remembered if again.runs[name].tests < selected.runs[name].tests]
    assert reordered, "no bug run got shorter with its catching test first"
    for bug in bugs:
        chosen = seeded.tests_for(bug, folder, selected.reference, selected.coverage)
        if bug.name in remembered and chosen:  # a selection (all tests, the folder: no order to choose)
            assert again.runs[bug.name].order[0] == remembered[bug.name].test, f"{bug.name}: not run first"
    # A remembered test that no longer fails leaves the verdict to the tests that run the bug's lines.
    assert {name: not run.passed for name, run in misled.runs.items()} == caught


def test_a_run_without_fork_measures_the_lines_after_a_database_call(tmp_path: Path) -> None:
    """The plain-subprocess fallback (no fork: Windows) records coverage as the forked runs do."""
    folder = write_solution_tree(lesson("07"), tmp_path)
    shutil.rmtree(folder / "checks", ignore_errors=True)

    async def measured() -> tuple[seeded.SuiteRun, seeded.Coverage | None]:
        server = database.server()
        template = await database.migrated_template(server, folder, "07")
        name = database.run_database_name("07_without_fork")
        await database.create_database(server, name, template=template)
        data = tmp_path / "coverage.data"
        try:
            run = await seeded.run_suite(folder, server.database_url(name), timeout=120, coverage_data=data, fork=False)
        finally:
            await database.drop_database(server, name)
        return run, seeded.read_coverage(data, folder, seeded.COVERAGE_SOURCE)

    run, coverage = asyncio.run(measured())
    assert run.passed, run.output[-3000:]
    assert coverage is not None and coverage.contexts, "no coverage contexts were recorded"
    percent, not_run = coverage.of("app/routers/v1")
    assert percent == 100, f"lines after a database call went unmeasured (coverage must follow greenlets): {not_run}"
