"""Grading a learner's own test suite with seeded bugs (lesson 07 on).

A seeded bug is a hand-written find/replace on the lesson's app: one realistic mistake, with a
message that says what the learner's tests did not notice (the symptom, never the change). The
learner's suite (`tests/`) runs in processes of its own, each on a throwaway copy of the lesson
and a database of its own cloned from the lesson's migrated template:

* on the app as given, under coverage: it must pass;
* on a rewrite of the app that does the same thing in other words (renamed locals, reordered
  statements, an extracted helper): it must pass too, so a suite that checks the source text
  instead of the behaviour fails;
* once per seeded bug, with that bug planted: it must fail. Only the tests that ran the lines the
  bug changes (coverage contexts of the run as given) run again: the others would run exactly as
  they did, so the verdict is the same, in a fraction of the time. The test that caught a bug in
  the last grading runs alone first, beside the run as given: when it fails again, that is the
  verdict, and the bug costs one test;
* without LEDGER_TEST_DATABASE_URL, with LEDGER_DATABASE_URL on a database holding a row: it must
  refuse to run, and leave that row alone (a suite that falls back to the app's own database
  would empty it).

While it runs, the suite may not read the workshop's checks, the solutions or the learner's real
checkout (`workshop.guard`). The learner's files are only ever read.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from xml.etree import ElementTree

from workshop import contexts, database, guard, runner
from workshop.edits import Edit, EditDoesNotApply, apply_all
from workshop.lessons import REPO, SOLUTIONS, STATE, is_generated

TEST_DATABASE = "LEDGER_TEST_DATABASE_URL"
COVERAGE_SOURCE = "app"  # measured while the suite runs on the app as given; checks hold parts of it to floors
REFERENCE_TIMEOUT = 120.0  # seconds for the suite on the app as given; bug runs get a multiple of its time
EARLY_TIMEOUT = 30.0  # seconds for a bug's last catching test alone, started before the run as given has a time
CAUGHT = STATE / "seeded"  # NN.json: bug name → the learner's test that caught it in the last grading


class BugDoesNotApply(AssertionError):
    """A bug's `find` does not occur exactly once in its file; the message starts with `Lesson NN:`."""


@dataclass(frozen=True)
class SeededBug:
    """One planted mistake.

    `missed` completes "your tests did not notice when …" with the symptom a user would see, never
    the code change; `hints` are revealed one by one by `uv run workshop hint 07`: where to look
    first, then what a test would do. Neither names the test to write in code.
    """

    name: str  # the check's id, e.g. "transfer-overdraws"
    step: int  # the README step whose tests should catch it
    path: str  # the file it changes, relative to the lesson folder
    find: str  # occurs exactly once in that file (so a changed reference cannot silently defuse the bug)
    replace: str
    missed: str
    hints: tuple[str, ...]

    def plant(self, lesson: Path, number: str) -> str:
        """The text of `path` with this bug in it."""
        target = lesson / self.path
        text = target.read_text(encoding="utf-8") if target.is_file() else ""
        count = text.count(self.find)
        if count != 1:
            raise BugDoesNotApply(
                f"Lesson {number}: the seeded bug {self.name!r} cannot be planted: the text it changes occurs "
                f"{count} times in lessons/{number}/{self.path}, not once. Lesson {number} grades your tests "
                f"against the app as the workshop gives it: undo your changes there (`git diff lessons/{number}/app`)."
            )
        return text.replace(self.find, self.replace)


@dataclass
class SuiteRun:
    """One run of the learner's suite."""

    returncode: int | None  # None: stopped after its timeout
    seconds: float
    output: str
    tests: int = 0
    failures: list[str] = field(default_factory=list)  # "tests/test_x.py::test_y: first line of the error"
    order: list[str] = field(default_factory=list)  # every test as "tests/test_x.py::test_y", in the order run

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and self.tests > 0


@dataclass
class Coverage:
    """Line coverage of the app by the suite's run on the app as given, file by file."""

    files: dict[str, tuple[int, int, str]]  # file relative to the lesson → (statements, missed, "12-14, 20")
    # file → line → node ids of the tests that ran it (contexts.OUTSIDE_TESTS: run at import)
    contexts: dict[str, dict[int, set[str]]] = field(default_factory=dict)

    def tests_running(self, path: str, lines: set[int]) -> set[str] | None:
        """The tests that ran any of `lines` of `path`; None when one of those lines ran outside any
        test (at import), so that every test may depend on it."""
        ran = self.contexts.get(path, {})
        tests: set[str] = set()
        for line in lines:
            if contexts.OUTSIDE_TESTS in ran.get(line, set()):
                return None
            tests |= ran.get(line, set())
        return tests

    def of(self, prefix: str) -> tuple[float, dict[str, str]]:
        """(percent of the lines run, file → its lines never run) for the files under `prefix`."""
        chosen = {
            path: counts for path, counts in self.files.items() if path == prefix or path.startswith(prefix + "/")
        }
        statements = sum(total for total, _, _ in chosen.values())
        missed = sum(count for _, count, _ in chosen.values())
        percent = 100.0 * (statements - missed) / statements if statements else 100.0
        return percent, {path: lines for path, (_, count, lines) in chosen.items() if count}


@dataclass
class Fallback:
    """The suite run without LEDGER_TEST_DATABASE_URL, with the app's database holding one row."""

    run: SuiteRun
    row_kept: bool  # the app's database still holds its row afterwards


@dataclass
class Grading:
    reference: SuiteRun
    coverage: Coverage | None
    runs: dict[str, SuiteRun]  # by bug name; empty when the suite failed on the app as given
    rewritten: SuiteRun | None = None  # on the rewrite of the app; None when not asked, or it failed as given
    fallback: Fallback | None = None
    reads: list[str] = field(default_factory=list)  # guarded files the suite tried to read, in any run


def copy_lesson(folder: Path, root: Path) -> Path:
    """root/lessons/NN: the lesson's code and tests, without its checks, texts or the learner's `.env`."""
    target = root / "lessons" / folder.name
    for source in sorted(folder.rglob("*")):
        relative = source.relative_to(folder)
        if source.is_file() and is_generated(relative):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / relative)
    return target


def _test_id(case: ElementTree.Element) -> str:
    """junit's classname (lessons.07.tests.test_x[.Class]) and name as `tests/test_x.py::[Class::]name`."""
    classname, name = case.get("classname") or "", case.get("name") or ""
    if not classname:  # a collection error: the name is the module
        classname, name = name, ""
    parts = classname.split(".")
    if "tests" in parts[:-1]:
        at = parts.index("tests")
        parts = [f"tests/{parts[at + 1]}.py", *parts[at + 2 :]]
    return "::".join(part for part in [*parts, name] if part)


def _first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0][:300] if lines else "(no message)"


def read_junit(path: Path) -> tuple[list[str], list[str]]:
    """The tests a junit XML report holds, in the order they ran, and one line per failing or erroring test."""
    if not path.is_file():
        return [], []
    order, failures = [], []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        order.append(_test_id(case))
        for problem in [*case.iter("failure"), *case.iter("error")]:
            failures.append(f"{_test_id(case)}: {_first_line(problem.get('message') or problem.text)}")
    return order, failures


def read_coverage(data_file: Path, lesson: Path, source: str) -> Coverage | None:
    """Statement coverage of each lesson/source/**.py from a coverage data file (None when there is none)."""
    if not data_file.is_file():
        return None
    import coverage

    measured = coverage.Coverage(data_file=str(data_file))
    measured.load()
    data = measured.get_data()
    files: dict[str, tuple[int, int, str]] = {}
    by_file: dict[str, dict[int, set[str]]] = {}
    for path in sorted((lesson / source).rglob("*.py")):
        _, lines, _, not_run, formatted = measured.analysis2(str(path))
        relative = path.relative_to(lesson).as_posix()
        files[relative] = (len(lines), len(not_run), formatted)
        by_file[relative] = {line: set(tests) for line, tests in data.contexts_by_lineno(str(path)).items()}
    return Coverage(files, by_file)


def changed_lines(text: str, find: str) -> set[int] | None:
    """The lines a find/replace of `find` in `text` changes the meaning of: the whole of each simple
    statement it touches, and the header (decorators and all) of each compound one whose header it
    touches; None when it touches no statement (then every test must run)."""
    start = text.index(find)
    first = text.count("\n", 0, start) + 1
    last = first + find.rstrip("\n").count("\n")
    lines: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.stmt | ast.ExceptHandler):
            continue
        top = min([node.lineno, *(decorator.lineno for decorator in getattr(node, "decorator_list", []))])
        body = getattr(node, "body", None)
        bottom = max(node.lineno, body[0].lineno - 1) if isinstance(body, list) and body else node.end_lineno
        if bottom is not None and top <= last and bottom >= first:
            lines.update(range(top, bottom + 1))
    return lines or None


def tests_for(
    bug: SeededBug, folder: Path, reference: SuiteRun, measured: Coverage | None, first: str | None = None
) -> list[str] | None:
    """Node ids of the tests to run with `bug` planted, in the order they ran as given, but `first` (the test
    that caught the bug last time, `tests/test_x.py::name`) first; None: all of them."""
    if measured is None or not measured.contexts:
        return None
    lines = changed_lines((folder / bug.path).read_text(encoding="utf-8"), bug.find)
    chosen = measured.tests_running(bug.path, lines) if lines is not None else None
    if chosen is None:
        return None
    ran = {test: index for index, test in enumerate(reference.order)}

    def position(node_id: str) -> tuple[bool, int, str]:
        relative = node_id.split("/", 2)[-1]  # lessons/07/tests/… → tests/…
        return relative != first, ran.get(relative, len(ran)), node_id

    return sorted(chosen, key=position)


class Catch(NamedTuple):
    """The test that caught a bug in a grading (`tests/test_x.py::name`), and how long that bug's run took."""

    test: str
    seconds: float


def caught_before(number: str) -> dict[str, Catch]:
    """Bug name → how this lesson's last grading caught it.

    A bug run stops at its first failing test (-x), so running that test first usually ends the run
    after one test: the grading of the next save takes seconds less. Only the order changes, never
    which tests run, so a suite that no longer catches the bug is graded exactly as before. The
    slowest runs start first, so that none of them is left to run alone at the end.
    """
    try:
        found = json.loads((CAUGHT / f"{number}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    catches = {}
    for bug, catch in found.items():
        if isinstance(catch, str):  # written before the runs' times were kept
            catches[str(bug)] = Catch(catch, 0.0)
        elif isinstance(catch, dict) and isinstance(catch.get("test"), str):
            seconds = catch.get("seconds")
            catches[str(bug)] = Catch(catch["test"], float(seconds) if isinstance(seconds, int | float) else 0.0)
    return catches


def remember_catches(number: str, runs: dict[str, SuiteRun]) -> None:
    """Keep, for each bug a run caught, the test that failed first and the run's time (see `caught_before`)."""
    known = {bug: catch._asdict() for bug, catch in caught_before(number).items()}
    for bug, run in runs.items():
        if run.failures:
            known[bug] = Catch(run.failures[0].split(": ", 1)[0], round(run.seconds, 2))._asdict()
    CAUGHT.mkdir(parents=True, exist_ok=True)
    scratch = CAUGHT / f"{number}.json.{os.getpid()}"
    scratch.write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")
    scratch.replace(CAUGHT / f"{number}.json")  # whole or not at all, should two gradings end together


NOT_RUN = "(not run: none of your tests runs the code this bug changes, so they pass as they did on the app as given)"


def _pytest_args(lesson: Path, report: Path, stop_at_first_failure: bool, tests: list[str] | None) -> list[str]:
    root = lesson.parents[1]
    return [
        *([str(root / test) for test in tests] if tests is not None else [str(lesson / "tests")]),
        "-c",
        str(REPO / "pyproject.toml"),
        "--rootdir",
        str(root),
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        f"--junitxml={report}",
        *(["-x"] if stop_at_first_failure else []),
    ]


async def run_suite(
    lesson: Path,
    database_url: str | None,
    *,
    timeout: float,
    stop_at_first_failure: bool = False,
    coverage_data: Path | None = None,
    coverage_source: str = COVERAGE_SOURCE,
    fork: bool = True,
    app_database_url: str | None = None,
    guarded: list[Path] | None = None,
    tests: list[str] | None = None,
) -> SuiteRun:
    """Run `pytest lesson/tests` in a new process, with the workshop's configuration, on `database_url`.

    Forked from a fork server with the libraries preloaded where there is one; else a fresh Python.
    `database_url` None: LEDGER_TEST_DATABASE_URL is left unset (and LEDGER_DATABASE_URL is
    `app_database_url`). `guarded`: folders the suite may not read; its tries land in reads.txt
    beside the lesson. `tests`: node ids (relative to the copy's root) to run instead of all of them.
    """
    report = lesson.parent / f"junit-{lesson.name}-{os.urandom(3).hex()}.xml"
    args = _pytest_args(lesson, report, stop_at_first_failure, tests)
    env = {name: value for name, value in os.environ.items() if not name.startswith("LEDGER_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if database_url is not None:
        env[TEST_DATABASE] = database_url
    if app_database_url is not None:
        env["LEDGER_DATABASE_URL"] = app_database_url
    if guarded:
        env[guard.ENV] = guard.settings([str(root) for root in guarded], str(lesson.parent / "reads.txt"))
    started_at = time.monotonic()
    started = runner.Started(
        args,
        cwd=lesson.parents[1],  # no learner's .env on the way
        env=env,
        fork=fork,
        coverage_source=lesson / coverage_source if coverage_data is not None else None,
        coverage_data=coverage_data,
    )
    ended = False
    try:
        ended = await asyncio.to_thread(started.join, timeout)
    finally:
        started.kill()  # over its time, cancelled, or the check's own timeout struck
    done = started.result(killed=not ended)
    order, failures = read_junit(report)
    return SuiteRun(done.returncode, time.monotonic() - started_at, done.output, len(order), failures, order)


def guarded_folders(folder: Path) -> list[Path]:
    """What a suite under grading may not read: the workshop's lessons, solutions and state, and the graded folder."""
    return [REPO / "lessons", SOLUTIONS, STATE, folder.resolve()]


SENTINEL_OWNER = "Sentinel: a row of the app database that tests must never touch"


async def _sentinel_database(server: database.Server, name: str, template: str | None) -> None:
    """A database like the app's, holding one account the suite must leave alone."""
    await database.create_database(server, name, template=template)
    await database.execute(
        server.dsn(name),
        "INSERT INTO accounts (id, owner, currency, balance) "
        f"VALUES (gen_random_uuid(), '{SENTINEL_OWNER}', 'EUR', 4242)",
    )


async def _sentinel_kept(server: database.Server, name: str) -> bool:
    (rows,) = await database.execute(
        server.dsn(name), f"SELECT count(*) FROM accounts WHERE owner = '{SENTINEL_OWNER}' AND balance = 4242"
    )
    return bool(rows and rows[0][0] == 1)


REWRITTEN = "\n# Rewritten by the workshop's grader: the same behaviour, in other words.\n"


def edit_copy(lesson: Path, number: str, edits: list[Edit]) -> None:
    """Apply the grader's `edits` to the copy at `lesson`; BugDoesNotApply when the learner changed the app."""
    try:
        apply_all(lesson, edits, allowed=[])
    except (EditDoesNotApply, KeyError) as error:
        raise BugDoesNotApply(
            f"Lesson {number}: the app of lessons/{number} is not the one the workshop gives ({error}); lesson "
            f"{number} grades your tests against the app as given: undo your changes there "
            f"(`git diff lessons/{number}/app`)."
        ) from None


def rewrite(lesson: Path, number: str, edits: list[Edit]) -> None:
    """Apply the behaviour-preserving rewrites to the copy at `lesson`; end every app file with a comment."""
    edit_copy(lesson, number, edits)
    for path in sorted((lesson / "app").rglob("*.py")):
        path.write_text(path.read_text(encoding="utf-8") + REWRITTEN, encoding="utf-8")


async def grade(
    folder: Path,
    number: str,
    bugs: list[SeededBug],
    *,
    server: database.Server,
    template: str | None,
    rewrites: list[Edit] | None = None,
    fallback: bool = False,
    workers: int | None = None,
    select: bool = True,
) -> Grading:
    """Run the learner's suite on the app as given (under coverage), each bug's last catching test, the
    rewrite and without a test database, in parallel; then the tests each bug not yet caught needs.
    `rewrites` None: no rewrite run. `select` False: each bug runs the whole suite (the workshop's own
    tests compare both ways)."""
    planted = {bug.name: bug.plant(folder, number) for bug in bugs}  # every bug must apply before anything runs
    guarded = guarded_folders(folder)
    # One run more than cores: each run spends part of its time waiting on the database.
    parallel = asyncio.Semaphore(workers or min(4, (os.cpu_count() or 1) + 1))
    with tempfile.TemporaryDirectory(prefix=f"workshop-seeded-{number}-") as scratch:
        reads: list[str] = []

        async def run(
            label: str,
            timeout: float,
            bug: SeededBug | None = None,
            edits: list[Edit] | None = None,
            tests: list[str] | None = None,
        ) -> tuple[SuiteRun, Coverage | None]:
            async with parallel:
                lesson = copy_lesson(folder, Path(scratch) / label)
                if bug is not None:
                    (lesson / bug.path).write_text(planted[bug.name], encoding="utf-8")
                if edits is not None:
                    rewrite(lesson, number, edits)
                name = database.run_database_name(f"{number}_{label}")
                await database.create_database(server, name, template=template)
                data = lesson.parent / "coverage.data" if label == "reference" else None
                try:
                    done = await run_suite(
                        lesson,
                        server.database_url(name),
                        timeout=timeout,
                        stop_at_first_failure=bug is not None,
                        coverage_data=data,
                        guarded=guarded,
                        tests=tests,
                    )
                finally:
                    await database.drop_database(server, name)
                    reads.extend(guard.tries(lesson.parent / "reads.txt"))
                return done, read_coverage(data, lesson, COVERAGE_SOURCE) if data else None

        async def without_test_database() -> Fallback:
            async with parallel:
                lesson = copy_lesson(folder, Path(scratch) / "fallback")
                name = database.run_database_name(f"{number}_app")
                await _sentinel_database(server, name, template)
                try:
                    done = await run_suite(
                        lesson,
                        None,
                        timeout=REFERENCE_TIMEOUT,
                        stop_at_first_failure=True,
                        app_database_url=server.database_url(name),
                        guarded=guarded,
                    )
                    kept = await _sentinel_kept(server, name)
                finally:
                    await database.drop_database(server, name)
                    reads.extend(guard.tries(lesson.parent / "reads.txt"))
                return Fallback(done, kept)

        refusal = asyncio.ensure_future(without_test_database()) if fallback else None
        as_given = asyncio.ensure_future(run("reference", REFERENCE_TIMEOUT))
        # Neither the rewrite nor a bug's last catching test waits for the coverage of the run as given:
        # they start beside it, on the cores it leaves idle. Their verdicts count only once it has passed.
        rewritten = (
            asyncio.ensure_future(run("rewritten", REFERENCE_TIMEOUT, edits=rewrites)) if rewrites is not None else None
        )
        earlier = caught_before(number) if select else {}
        early = {  # the slowest first
            bug.name: asyncio.ensure_future(
                run(f"early{index}", EARLY_TIMEOUT, bug=bug, tests=[f"lessons/{folder.name}/{earlier[bug.name].test}"])
            )
            for index, bug in sorted(
                ((index, bug) for index, bug in enumerate(bugs) if bug.name in earlier),
                key=lambda pair: -earlier[pair[1].name].seconds,
            )
        }
        started = [task for task in (refusal, as_given, rewritten, *early.values()) if task is not None]
        try:
            reference, measured = await as_given
            grading = Grading(reference, measured, {})
            if reference.passed:
                timeout = 3 * reference.seconds + 30

                async def graded_bug(index: int, bug: SeededBug) -> SuiteRun:
                    first = earlier[bug.name].test if bug.name in earlier else None
                    if bug.name in early:
                        result, _ = await early[bug.name]
                        # Caught: that one test failed with the bug in. Anything else (it passed, it is gone
                        # from the suite, it ran out of time) leaves the verdict to the tests chosen below.
                        if result.returncode == 1 and result.failures and first in reference.order:
                            return result
                    tests = tests_for(bug, folder, reference, measured, first) if select else None
                    if tests == []:
                        return SuiteRun(0, 0.0, NOT_RUN, reference.tests, [], reference.order)
                    return (await run(f"bug{index}", timeout, bug=bug, tests=tests))[0]

                done = await asyncio.gather(*(graded_bug(index, bug) for index, bug in enumerate(bugs)))
                grading.runs = {bug.name: result for bug, result in zip(bugs, done, strict=True)}
                if select:
                    remember_catches(number, grading.runs)
                if rewritten is not None:
                    grading.rewritten = (await rewritten)[0]
            if refusal is not None:
                grading.fallback = await refusal
        finally:
            for task in started:  # the run as given failed, or the check's own timeout struck
                if not task.done():
                    task.cancel()
            await asyncio.gather(*started, return_exceptions=True)
        grading.reads = list(dict.fromkeys(reads))
    return grading
