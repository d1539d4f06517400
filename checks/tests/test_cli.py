"""The CLI on a learner's clone: clear errors, progress, and never a lost file."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from workshop.authoring.verify import run_checks
from workshop.results import RunReport

Workshop = Callable[..., subprocess.CompletedProcess[str]]  # the `workshop` fixture of conftest.py
CONFIG = Path("lessons/01/app/core/config.py")
EDIT = "\n# my work in progress: keep me\n"


def _branch(root: Path) -> str:
    return subprocess.run(["git", "branch", "--show-current"], cwd=root, capture_output=True, text=True).stdout.strip()


def test_the_dashboard_shows_the_lessons_and_the_next_step(workshop: Workshop) -> None:
    done = workshop()
    assert done.returncode == 0, done.stderr
    assert "00" in done.stdout and "01" in done.stdout
    assert "Next: read lessons/00/README.md" in done.stdout


def test_the_dashboard_counts_the_checks_of_a_lesson_run(workshop: Workshop, repo_copy: Path) -> None:
    workshop("check", "00")
    report = RunReport.from_json((repo_copy / ".workshop" / "results" / "00.json").read_text())
    assert report.total > 0, "the run recorded no checks"
    done = workshop()
    assert f"0/{report.total}" in done.stdout and "in progress" in done.stdout


def test_a_wrong_lesson_number_is_one_clear_line(workshop: Workshop, repo_copy: Path) -> None:
    done = workshop("check", "42")
    assert done.returncode == 2
    known = ", ".join(sorted(p.name for p in (repo_copy / "lessons").iterdir() if p.name.isdigit()))
    assert done.stdout.strip() == f"✗ There is no lesson '42'. Lessons: {known}."


def test_reset_saves_the_learners_files_before_restoring_the_starter(workshop: Workshop, repo_copy: Path) -> None:
    starter = (repo_copy / CONFIG).read_text()
    (repo_copy / CONFIG).write_text(starter + EDIT)
    done = workshop("reset", "01")
    assert done.returncode == 0, done.stdout + done.stderr
    saved_line = next(line for line in done.stdout.splitlines() if "Saved your files" in line)
    saved = repo_copy / saved_line.split(" to ")[1].strip()
    assert (saved / CONFIG).read_text() == starter + EDIT
    assert (repo_copy / CONFIG).read_text() == starter


def test_solution_branch_refuses_to_run_over_uncommitted_work(workshop: Workshop, repo_copy: Path) -> None:
    (repo_copy / CONFIG).write_text((repo_copy / CONFIG).read_text() + EDIT)
    done = workshop("solution", "01", "--branch")
    assert done.returncode == 1
    assert "uncommitted changes; nothing was touched" in done.stdout
    assert (repo_copy / CONFIG).read_text().endswith(EDIT)
    assert _branch(repo_copy) == "main"


def test_the_checks_pass_on_the_solution_branch(workshop: Workshop, repo_copy: Path) -> None:
    done = workshop("solution", "01", "--branch")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _branch(repo_copy) == "solution/01"
    run = run_checks(repo_copy / "lessons" / "01")
    assert run.problems_as_solution() == [], run.output
    main = subprocess.run(["git", "show", f"main:{CONFIG.as_posix()}"], cwd=repo_copy, capture_output=True, text=True)
    assert "NotImplementedError" in main.stdout, "main keeps the starter"


def test_solution_branch_outside_git_says_why(workshop: Workshop, repo_copy: Path) -> None:
    shutil.rmtree(repo_copy / ".git")
    done = workshop("solution", "01", "--branch")
    assert done.returncode == 1
    assert "not a git checkout" in done.stdout


def test_build_check_shows_drift_and_build_saves_what_it_replaces(workshop: Workshop, repo_copy: Path) -> None:
    edited = (repo_copy / CONFIG).read_text() + EDIT
    (repo_copy / CONFIG).write_text(edited)
    check = workshop("build", "--check")
    assert check.returncode == 1
    assert "my work in progress" in check.stdout
    done = workshop("build")
    assert done.returncode == 0
    saved_line = next(line for line in done.stdout.splitlines() if "saved in" in line)
    assert (repo_copy / saved_line.split("saved in ")[1].strip() / CONFIG).read_text() == edited


def test_a_database_that_is_down_gets_a_fix_not_a_traceback(workshop: Workshop) -> None:
    down = {"WORKSHOP_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/postgres"}
    doctor = workshop("doctor", env=down)
    assert doctor.returncode == 1
    assert "✗ PostgreSQL: Cannot connect to PostgreSQL at" in doctor.stdout
    assert "fix:" in doctor.stdout and "Traceback" not in doctor.stdout + doctor.stderr
    url = workshop("db", "url", env=down)
    assert url.returncode == 1 and url.stdout.startswith("✗ Cannot connect")


def test_only_a_whole_lesson_run_counts_as_progress(repo_copy: Path) -> None:
    env = {**os.environ, "WORKSHOP_ROOT": str(repo_copy)}
    one_file = next((repo_copy / "lessons/00/checks").glob("test_*.py"))
    progress = repo_copy / ".workshop/results/00.json"
    # A narrowed run (one check, -k) deselects checks of the lesson: it is not the lesson's progress.
    for target in ([f"{one_file}::test_the_module_exposes_app_for_uvicorn"], ["lessons/00", "-k", "health"]):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", *target, "-p", "no:cacheprovider"],
            cwd=repo_copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert re.search(r"selected checks pass \(\d+ in lesson 00\)", done.stdout), done.stdout
        assert not progress.exists(), f"`pytest {' '.join(target)}` recorded progress"
    subprocess.run(
        [sys.executable, "-m", "pytest", "lessons/00", "-p", "no:cacheprovider"],
        cwd=repo_copy,
        env=env,
        capture_output=True,
        timeout=300,
    )
    recorded = RunReport.from_json(progress.read_text())
    assert (recorded.lesson, recorded.narrowed) == ("00", False)
    assert recorded.total == len(recorded.checks) > 0


def test_verify_records_no_learner_progress(repo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_ROOT", str(repo_copy))
    run = run_checks(repo_copy / "lessons" / "00")  # as `workshop verify` and the invariants run a starter
    assert run.checks, run.output
    assert not (repo_copy / ".workshop/results").exists()


def test_hint_reveals_one_more_level_each_time(workshop: Workshop, repo_copy: Path) -> None:
    (repo_copy / "lessons/00/checks/hints.py").write_text(
        'HINTS = {"test_each_layer_is_a_package_with_a_docstring[core]": ["Look at the table.", "mkdir app/core"]}\n'
    )
    first = workshop("hint", "00")
    assert "Hint 1 of 2: Look at the table." in first.stdout, first.stdout
    assert "mkdir app/core" not in first.stdout and "again shows the next one" in first.stdout
    second = workshop("hint", "00")
    assert "Hint 1 of 2" in second.stdout and "Hint 2 of 2: mkdir app/core" in second.stdout
    assert "again shows the next one" not in second.stdout
    assert "Hint 2 of 2" in workshop("hint", "00").stdout, "the last level stays shown"


BLOCK_DEV_IMPORTS = """
import sys
import tomllib
from importlib.abc import MetaPathFinder

IMPORT_NAMES = {"pyyaml": "yaml", "dockerfile-parse": "dockerfile_parse", "psycopg[binary]": "psycopg"}
groups = tomllib.load(open(sys.argv[1], "rb"))["dependency-groups"]
names = set()
for requirement in groups["dev"]:
    name = requirement.split(">")[0].split("=")[0].split("<")[0].strip()
    names.add(IMPORT_NAMES.get(name, name.split("[")[0].replace("-", "_")))


class DevGroupBlocker(MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in names:
            raise ImportError(f"the learner's CLI imported {fullname}, from the dev group")
        return None


sys.meta_path.insert(0, DevGroupBlocker())
sys.argv = ["workshop", *sys.argv[2:]]
from workshop.cli import main

main()
"""


@pytest.mark.parametrize(
    "command",
    [[], ["--help"], ["build", "--check"], ["diff", "00"], ["db", "status"], ["class", "status"], ["grade", "--help"]],
)
def test_the_learners_cli_imports_nothing_from_the_dev_group(repo_copy: Path, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_DEV_IMPORTS, str(repo_copy / "pyproject.toml"), *command],
        cwd=repo_copy,
        env={**os.environ, "WORKSHOP_ROOT": str(repo_copy)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "from the dev group" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_runs_in_the_warm_worker_with_the_verdicts_of_plain_pytest(workshop: Workshop, repo_copy: Path) -> None:
    plain = subprocess.run(
        [sys.executable, "-m", "pytest", "lessons/00", "-p", "no:cacheprovider"],
        cwd=repo_copy,
        env={**os.environ, "WORKSHOP_ROOT": str(repo_copy)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    warm = [workshop("check", "00") for _ in range(2)]  # the first starts the worker, the second reuses it
    assert (repo_copy / ".workshop" / "worker.sock").exists(), "no warm worker listens"

    def scorecard(output: str) -> list[str]:
        return [line for line in output.splitlines() if line.startswith(("Lesson 00:", "Next:", "  Then:"))]

    assert plain.returncode == 1 and scorecard(plain.stdout), plain.stdout
    for done in warm:
        assert done.returncode == plain.returncode, done.stdout + done.stderr
        assert scorecard(done.stdout) == scorecard(plain.stdout)


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM and process groups are POSIX's")
def test_a_sigterm_to_serve_stops_the_app_it_serves() -> None:
    """An IDE's stop button, or `kill`, sends SIGTERM: uvicorn must stop with `workshop serve`, not go on serving."""
    import signal
    import socket
    import time

    from workshop.lessons import REPO

    def bound(port: int) -> bool:  # uvicorn's reloader binds the port before the app starts (or fails)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return True
            return False

    def group_alive(group: int) -> bool:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        return True

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    command = [sys.executable, "-c", "from workshop.cli import main; main()", "serve", "00", "--port", str(port)]
    served = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while not bound(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert bound(port), f"`workshop serve 00 --port {port}` never bound its port"
        served.send_signal(signal.SIGTERM)
        served.wait(timeout=30)
        deadline = time.monotonic() + 15
        while group_alive(served.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not group_alive(served.pid), "after a SIGTERM to `workshop serve`, its uvicorn went on running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(served.pid, signal.SIGKILL)  # whatever is left of it
