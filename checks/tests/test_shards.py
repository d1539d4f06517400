"""Two processes for one run (workshop.shards): the same verdicts, scorecard and failures as one process."""

from __future__ import annotations

import os
import re
from pathlib import Path

from workshop.authoring.verify import run_checks

# Each check notes the process it ran in; check 3 fails as a lesson failure, check 6 as a bug.
CHECKS = """
import os
from pathlib import Path

import pytest

from . import run_state


def ran(name):
    with open(Path(run_state.__file__).parent / "pids.txt", "a") as log:
        log.write(f"{name} {os.getpid()}\\n")


@pytest.mark.parametrize("number", range(12))
def test_numbered(number):
    ran(f"numbered{number}")
    if run_state.DOOMED and os.getpid() != run_state.MAIN:
        os._exit(3)  # the second process dies at its first check
    assert number != 3, "Lesson 42: three is not allowed (step 1)"
    assert number != 6


@pytest.mark.together("shared")
@pytest.mark.parametrize("number", range(4))
def test_together(number):
    ran(f"together{number}")
"""

STATE = """
import os

MAIN = os.getpid()  # imported at collection, before the run forks: the pid of the run the learner sees
DOOMED = {doomed}
"""


def _lesson(tmp_path: Path, doomed: bool = False) -> Path:
    folder = tmp_path / "lessons" / "42"
    (folder / "checks").mkdir(parents=True)
    (folder / "app").mkdir()
    (folder / "app" / "__init__.py").write_text("")
    (folder / "checks" / "run_state.py").write_text(STATE.format(doomed=doomed))
    (folder / "checks" / "test_numbers.py").write_text(CHECKS)
    return folder


def _pids(folder: Path) -> dict[str, int]:
    lines = (folder / "checks" / "pids.txt").read_text().split("\n")
    pids = {name: int(pid) for name, pid in (line.split() for line in lines if line)}
    (folder / "checks" / "pids.txt").unlink()
    return pids


def _without_times(output: str) -> str:
    return re.sub(r"in [0-9.]+s", "in Xs", output)


def test_two_processes_give_the_verdicts_scorecard_and_failures_of_one(tmp_path: Path) -> None:
    folder = _lesson(tmp_path)
    two = run_checks(folder, "-p", "no:randomly", env={**os.environ, "WORKSHOP_SHARDS": "2"})
    pids = _pids(folder)
    one = run_checks(folder, env={**os.environ, "WORKSHOP_SHARDS": "1"})
    assert len(set(_pids(folder).values())) == 1, "WORKSHOP_SHARDS=1 runs every check in one process"
    assert len(set(pids.values())) == 2, f"16 checks on two cores ran in one process: {pids}"
    assert len({pids[f"together{number}"] for number in range(4)}) == 1, "checks marked together were split"
    verdicts = [(check.nodeid, check.outcome, check.kind, check.message) for check in two.report.checks]
    assert verdicts == [(check.nodeid, check.outcome, check.kind, check.message) for check in one.report.checks]
    assert two.returncode == one.returncode == 1
    scorecard = two.output[two.output.index("Lesson 42 scorecard") :]
    assert _without_times(scorecard) == _without_times(one.output[one.output.index("Lesson 42 scorecard") :])
    assert "Lesson 42: 14/16 checks pass" in scorecard
    sections = re.findall(r"^_+ (test_\S+) _+$", two.output, re.MULTILINE)
    assert sections == ["test_numbered[3]", "test_numbered[6]"], "failures are listed in the order the checks run"
    assert "2 failed, 14 passed" in two.output


def test_a_run_that_stops_at_the_first_failure_stays_in_one_process(tmp_path: Path) -> None:
    folder = _lesson(tmp_path)
    run = run_checks(folder, "-x", env={**os.environ, "WORKSHOP_SHARDS": "2"})
    assert len(set(_pids(folder).values())) == 1
    assert "stopping after 1 failures" in run.output


def test_checks_the_second_process_never_finished_fail_saying_why(tmp_path: Path) -> None:
    folder = _lesson(tmp_path, doomed=True)
    run = run_checks(folder, env={**os.environ, "WORKSHOP_SHARDS": "2"})
    pids = _pids(folder)
    lost = [check for check in run.report.checks if "did not finish" in check.message]
    assert lost, f"the second process died, yet no check says so:\n{run.output}"
    assert len(run.report.checks) == 16, "every check is in the report, run or not"
    assert all(check.outcome == "failed" and check.kind == "bug" for check in lost)
    assert "the second process that ran it stopped" in run.output
    assert run.returncode == 1
    assert len(set(pids.values())) == 2
