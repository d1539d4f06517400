"""The grading plugin, loaded for every pytest run from pyproject.toml.

It finds the lesson being checked and puts its `app` package on the path, refuses a run that
spans two lessons, stops a hung check, sorts every failure into todo / teaching / bug, and
ends the run with a scorecard. The database fixtures live in `workshop.fixtures`.

From lesson 07 on, `lessons/NN/tests` is the learner's own test suite, not checks: a run of the
lesson (`pytest lessons/07`) never collects it, and a run of the suite (`pytest lessons/07/tests`)
gets the lesson's `app` on the path and nothing else: plain pytest output, no scorecard, no
timeouts, none of the engine's fixtures (the suite brings its own, in its conftest.py).
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from workshop import grading, guard
from workshop.classroom import client as classroom
from workshop.grading import CheckTimeout, classify
from workshop.lessons import LESSONS, lesson_of_path
from workshop.results import CheckResult, Kind, Outcome, RunReport, save, stamp

_LESSON = pytest.StashKey[str]()
_SUITE = pytest.StashKey[bool]()  # this run runs a lesson's own test suite (lessons/NN/tests)
_REPORT = pytest.StashKey[RunReport]()  # what this run found, check by check
_SELECTORS = pytest.StashKey[list[tuple[Path, tuple[str, ...]]]]()  # what the learner named, inside a lesson
_COUNTS = pytest.StashKey[dict[str, int]]()  # "total" checks in the lesson, "selected" for this run
_ROOT_HANDLERS = pytest.StashKey[list[logging.Handler]]()  # the root logger's handlers before the run
_KIND = "workshop_kind"
NO_STEP = 99  # a check without a step marker runs last (the suite requires every check to have one)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("workshop_timeout", "seconds before a hung check fails", default="10")
    parser.addoption(
        "--workshop-report",
        metavar="PATH",
        help="write each check's outcome and failure kind (todo/teaching/bug) as JSON",
    )
    parser.addoption(
        "--workshop-checks",
        metavar="NAMES",
        help="run only these checks (comma-separated names, `test_x` or `test_x[param]`); the rest count as not run",
    )


def _lesson_folder(config: pytest.Config, args: list[str] | None = None) -> Path | None:
    """The one lesson folder this run checks; refuse runs that span two lessons."""
    base = config.invocation_params.dir
    targets = [base / str(arg).split("::")[0] for arg in (config.args if args is None else args)] or [base]
    folders: dict[str, Path] = {}
    for target in targets:
        number = lesson_of_path(target)
        if number is not None:
            resolved = target.resolve()
            index = resolved.parts.index("lessons")
            folders[number] = Path(*resolved.parts[: index + 2])
    if len(folders) > 1:
        numbers = sorted(folders)
        raise pytest.UsageError(
            f"One lesson per run, please: you asked for lessons {', '.join(numbers)}.\n"
            f"Each lesson has its own `app` package, so run them one after another:\n"
            + "\n".join(f"    uv run pytest lessons/{n}" for n in numbers)
        )
    return next(iter(folders.values()), None)


def _in_suite(path: Path) -> bool:
    """True for `lessons/NN/tests` and everything in it: a lesson's own test suite."""
    parts = path.resolve().parts
    return any(
        parts[index] == "lessons" and lesson_of_path(Path(*parts[: index + 2])) and parts[index + 2] == "tests"
        for index in range(len(parts) - 2)
    )


def _runs_a_suite(config: pytest.Config, args: list[str] | None = None) -> bool:
    """Every path this run names lies in a lesson's `tests/`: the learner runs their own tests."""
    base, args = config.invocation_params.dir, config.args if args is None else args
    return bool(args) and all(_in_suite(base / str(arg).split("::")[0]) for arg in args)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before pytest loads the conftest.py files of the folders a run names (and of their `test*` folders)."""
    namespace = early_config.known_args_namespace
    args = [str(arg) for arg in namespace.file_or_dir or []]
    if _runs_a_suite(early_config, args):
        guard.install()  # a suite under grading may not read the grader's files (set by workshop.seeded)
        # The suite's conftest.py imports `app` at its top: the lesson goes on the path first.
        folder = _lesson_folder(early_config, args)
        if folder is not None:
            sys.path.insert(0, str(folder))
        return
    # `pytest lessons/07` would load lessons/07/tests/conftest.py too (a `test*` folder): a run of
    # the checks loads the conftest files of its checks, never the learner's suite's.
    namespace.file_or_dir, _ = _whole_lessons(early_config.invocation_params.dir, args)


def _whole_lessons(base: Path, args: list[str]) -> tuple[list[str], list[tuple[Path, tuple[str, ...]]]]:
    """The args with each path inside a lesson widened to the lesson's checks folder, and what was named.

    A run of the checks always collects the lesson's whole checks folder, so that the scorecard can
    say "4/4 selected checks pass (34 in lesson 05)" for a narrowed run; what the learner named (a
    file, a check) is kept as a selector, and pytest_collection_modifyitems deselects the rest.
    """
    selectors: list[tuple[Path, tuple[str, ...]]] = []
    rewritten: list[str] = []
    for arg in args:
        path_text, *names = arg.split("::")
        target = (base / path_text).resolve()
        checks = _checks_folder(target)
        if checks is None:
            rewritten.append(arg)
            continue
        whole = target in (checks, checks.parent) and not names
        selectors.append((checks, ()) if whole else (target, tuple(names)))
        if str(checks) not in rewritten:
            rewritten.append(str(checks))
    return rewritten, selectors


def _checks_folder(target: Path) -> Path | None:
    """The `checks` folder of the lesson `target` lies in (not inside its own test suite), else None."""
    if lesson_of_path(target) is None or _in_suite(target):
        return None
    parts = target.parts
    index = max(i for i in range(len(parts) - 1) if parts[i] == "lessons" and re.fullmatch(r"\d{2}", parts[i + 1]))
    checks = Path(*parts[: index + 2]) / "checks"
    return checks if checks.is_dir() else None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A lesson's checks never collect the lesson's own test suite: those are the learner's tests."""
    if not config.stash.get(_SUITE, False) and collection_path.name == "tests" and _in_suite(collection_path):
        return True
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_REPORT] = RunReport(lesson="", workshop=_workshop_version())
    config.stash[_ROOT_HANDLERS] = list(logging.getLogger().handlers)
    config.addinivalue_line(
        "markers", "workshop_timeout(seconds): this check may take longer than the workshop_timeout ini value"
    )
    config.addinivalue_line("markers", "step(n): the README step this check grades; checks run in step order")
    config.addinivalue_line(
        "markers", "together(name): checks sharing the costly session fixture `name` run in one process"
    )
    config.addinivalue_line(
        "markers", "engine_gated: needs a Docker engine; the one kind of check that may skip (saying why) without one"
    )
    suite = _runs_a_suite(config)
    config.stash[_SUITE] = suite
    if not suite:
        config.pluginmanager.import_plugin("workshop.fixtures")
    folder = _lesson_folder(config)
    if folder is None:
        return
    grading.CURRENT.update(lesson=folder.name, folder=folder, base=config.invocation_params.dir)
    if not suite:
        config.args, config.stash[_SELECTORS] = _whole_lessons(config.invocation_params.dir, list(config.args))
    if suite:
        return  # the learner's own tests (already on the path): no scorecard, timeouts or classification
    # The lesson's own `app` package wins over any other on the path.
    sys.path.insert(0, str(folder))
    config.stash[_LESSON] = folder.name
    config.pluginmanager.import_plugin("workshop.shards")  # two cores, two processes


# --- selection and order -------------------------------------------------------------------


def step_of(item: pytest.Item) -> int:
    """The README step a check grades: its `step` marker (a check's own wins over its module's)."""
    marker = item.get_closest_marker("step")
    return int(marker.args[0]) if marker and marker.args else NO_STEP


def _selected(item: pytest.Item, selectors: list[tuple[Path, tuple[str, ...]]]) -> bool:
    path = Path(str(item.path)).resolve()
    names = item.nodeid.split("::")[1:]
    for target, wanted in selectors:
        if not (path == target or target in path.parents):
            continue
        if len(wanted) > len(names):
            continue
        if all(
            have == want or (index == len(wanted) - 1 and "[" not in want and have.split("[")[0] == want)
            for index, (have, want) in enumerate(zip(names, wanted, strict=False))
        ):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Checks in README step order; what the learner did not name is deselected (and counted)."""
    if config.stash.get(_LESSON, None) is None:
        return
    items.sort(key=step_of)  # stable: within a step, the order of the files and of the checks in them
    config.stash[_COUNTS] = {"total": len(items)}
    selectors = config.stash.get(_SELECTORS, [])
    names = {name.strip() for name in (config.getoption("--workshop-checks") or "").split(",") if name.strip()}
    keep = [
        item
        for item in items
        if (not selectors or _selected(item, selectors))
        and (not names or item.name in names or item.name.split("[")[0] in names)
    ]
    if len(keep) < len(items):
        kept = {id(item) for item in keep}
        dropped = [item for item in items if id(item) not in kept]
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    counts = session.config.stash.get(_COUNTS, None)
    if counts is not None:
        counts["selected"] = len(session.items)


def _narrowed(config: pytest.Config) -> bool:
    """True when this run checks only part of its lesson (a file, a check, -k, --lf …)."""
    counts = config.stash.get(_COUNTS, {})
    return counts.get("selected", 0) < counts.get("total", 0)


# --- timeouts -------------------------------------------------------------------------------


def _timer_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _with_timeout(item, "check"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _with_timeout(item, "setup of the check"))


def timeout_of(item: pytest.Item) -> float:
    """The seconds a check may take: its `workshop_timeout` marker (a check that honestly needs longer
    says so), else the ini value."""
    marker = item.get_closest_marker("workshop_timeout")
    return float(marker.args[0]) if marker else float(item.config.getini("workshop_timeout"))


def _with_timeout(item: pytest.Item, what: str) -> Generator[None, object, object]:
    seconds = timeout_of(item)
    lesson = item.config.stash.get(_LESSON, None)
    if lesson is None or seconds <= 0 or not _timer_available():
        return (yield)  # only a lesson's checks are timed; the workshop's own suite is not

    def expire(signum: int, frame: object) -> None:
        raise CheckTimeout(
            f"Lesson {lesson}: the {what} did not finish within {seconds:g} s. Look for an "
            "infinite loop, an await that never returns, or two transactions waiting on each "
            "other's locks."
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return (yield)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- classification -------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if item.config.stash.get(_SUITE, False):
        return report  # the learner's own tests report as plain pytest does
    run = item.config.stash[_REPORT]
    # A check's setup, call and teardown report one after another: its result is the last one, if any.
    check = run.checks[-1] if run.checks and run.checks[-1].nodeid == item.nodeid else None
    if check is None:
        check = new_check(item)
        run.checks.append(check)
    check.seconds += report.duration
    if report.skipped and check.outcome == Outcome.PASSED:
        check.outcome = Outcome.SKIPPED
        check.message = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    if report.when == "setup":
        # For --junitxml: pytest's junit writer reads the properties of the teardown report, which
        # copies the item's; so they go on the item (and on this report, for other plugins).
        _add_property(item, report, "workshop_step", str(check.step))
    if report.failed and call.excinfo is not None and check.outcome != Outcome.FAILED:
        kind, line = _classify(call.excinfo.value, item)
        check.outcome, check.kind, check.message = Outcome.FAILED, kind, line or _first_line(call.excinfo)
        _add_property(item, report, _KIND, str(kind))
        if kind != Kind.BUG:
            report.longrepr = line  # one line with the location; bugs keep their traceback
    return report


def new_check(item: pytest.Item) -> CheckResult:
    """The result of `item` before it has run: passed until a report says otherwise."""
    return CheckResult(
        nodeid=item.nodeid,
        name=item.name,
        step=step_of(item),
        hint=_hint(item),
        engine_gated=item.get_closest_marker("engine_gated") is not None,
    )


def report_of(config: pytest.Config) -> RunReport:
    """What this run has found so far, check by check."""
    return config.stash[_REPORT]


def merge_checks(config: pytest.Config, checks: list[CheckResult], items: list[pytest.Item]) -> None:
    """Add the results another process found for this run (workshop.shards), in the run's order."""
    run = config.stash[_REPORT]
    order = {item.nodeid: index for index, item in enumerate(items)}
    run.checks.extend(checks)
    run.checks.sort(key=lambda check: order.get(check.nodeid, len(order)))


def _add_property(item: pytest.Item, report: pytest.TestReport, name: str, value: str) -> None:
    item.user_properties.append((name, value))
    report.user_properties.append((name, value))


def _classify(error: BaseException, item: pytest.Item) -> tuple[Kind, str]:
    from workshop.database import DatabaseUnavailable, MigrationFailed
    from workshop.redis_server import RedisUnavailable

    if isinstance(error, DatabaseUnavailable | RedisUnavailable):
        return Kind.ENVIRONMENT, f"{error}".splitlines()[0] + "  (run `uv run workshop doctor`)"
    if isinstance(error, MigrationFailed):
        lesson = grading.lesson()
        return Kind.TEACHING, (
            f"Lesson {lesson}: `alembic upgrade head` failed on a fresh database; run it yourself "
            f"in lessons/{lesson} to see why. It said: {_error_line(str(error))}"
        )
    return classify(
        error,
        expected=CheckResult(item.nodeid, item.name, 0).sentence,
        step=step_of(item) if step_of(item) != NO_STEP else None,
    )


def _error_line(output: str) -> str:
    """The line of a command's output that names its error: the last `SomeError: …` line, else the last line.

    SQLAlchemy ends its errors with `[SQL: …]` and a "Background on this error" link, which say nothing
    about what went wrong."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b[^:]*: ", line)]
    found = errors[-1] if errors else (lines[-1] if lines else "(no output)")
    return found if len(found) <= 400 else found[:400] + " …"


def _first_line(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    text = excinfo.exconly().strip()
    return text.splitlines()[0] if text else excinfo.typename


def _hint(item: pytest.Item) -> str:
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    return " ".join(doc.strip().split("\n\n")[0].split()).removeprefix("Hint:").strip()


# --- scorecard and reports ------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lesson = config.stash.get(_LESSON, None)
    run = config.stash[_REPORT]
    if lesson is None or not run.checks:
        return
    _finish(config)
    graded = run.graded
    write = terminalreporter.write_line
    terminalreporter.section(f"Lesson {lesson} scorecard", sep="─", bold=True)
    everything = run.passed == len(graded)
    if run.narrowed:
        write(
            f"Lesson {lesson}: {run.passed}/{len(graded)} selected checks pass ({run.total} in lesson {lesson})",
            bold=True,
            green=everything,
        )
    else:
        write(f"Lesson {lesson}: {run.passed}/{len(graded)} checks pass", bold=True, green=everything)
    # A skipped check (only an engine-gated one, where no Docker engine runs) counts neither way; it says why.
    for check in run.skipped:
        write(f"  Skipped, not counted: {check.sentence}: {check.message.removeprefix('Skipped: ')}", yellow=True)
    # The checks ran in README step order, so the first failure is the lowest step.
    failing = run.failing
    if failing:
        first = failing[0]
        write("")
        write(f"Next: {first.sentence}{_step_label(first)}", bold=True)
        write(f"  {first.message}")
        if first.hint:
            write(f"  Hint: {first.hint}", cyan=True)
        then = failing[1:4]
        if then:
            more = f" and {len(failing) - 4} more" if len(failing) > 4 else ""
            write(f"  Then: {'; '.join(check.sentence + _step_label(check) for check in then)}{more}")
        write(f"  Read: lessons/{lesson}/README.md   ·   more help: uv run workshop hint {lesson}")
    elif run.narrowed:
        write(f"Now the whole lesson: uv run pytest lessons/{lesson}")
    elif everything:
        following = f"{int(lesson) + 1:02d}"
        if (LESSONS / following).is_dir():
            write(f"Well done. Next: lessons/{following}/README.md, then `uv run pytest lessons/{following}`")
        else:
            write("Well done: that was the last lesson.")


def _step_label(check: CheckResult) -> str:
    return f" (step {check.step})" if check.step != NO_STEP else ""


def _finish(config: pytest.Config) -> RunReport:
    """Complete the run's report with what only the session knows (once; later calls return it)."""
    run = config.stash[_REPORT]
    if not run.at:
        counts = config.stash.get(_COUNTS, {})
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        errors = reporter.stats.get("error", []) if reporter is not None else []
        run.lesson = config.stash.get(_LESSON, "") or ""
        run.total, run.selected = counts.get("total", 0), counts.get("selected", 0)
        run.collection_errors = [str(report.nodeid) for report in errors if not hasattr(report, "when")]
        run.at = stamp()
    return run


def _workshop_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ledger-workshop")
    except PackageNotFoundError:
        return "unknown"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if config.stash.get(_LESSON, None) is None or _REPORT not in config.stash:
        return
    run = _finish(config)
    run.exitstatus = int(exitstatus)
    report_path = config.getoption("--workshop-report")
    if report_path:
        Path(report_path).write_text(run.to_json(), encoding="utf-8")
    # A report run is the machinery's (verify, the workshop's own suite), not the learner's progress.
    elif run.checks and _is_whole_lesson_run(config):
        save(run)
        # A learner who joined a class: the result is queued and sent by a detached process.
        classroom.after_run(run)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The learner's app may log through handlers of its own on the root logger (lesson 10 on): they
    write to streams pytest has closed by now, and a library's last words at exit would print a
    "--- Logging error ---" under the scorecard. The root logger gets its handlers back."""
    root = logging.getLogger()
    before = config.stash.get(_ROOT_HANDLERS, root.handlers)
    for handler in [handler for handler in root.handlers if handler not in before]:
        root.removeHandler(handler)


def _is_whole_lesson_run(config: pytest.Config) -> bool:
    """Progress counts only runs of a whole lesson of this checkout (nothing deselected)."""
    folder = grading.CURRENT["folder"]
    if not (isinstance(folder, Path) and folder.parent.resolve() == LESSONS.resolve()):
        return False
    return not _narrowed(config)
