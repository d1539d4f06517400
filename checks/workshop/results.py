"""What a run of a lesson's checks found, in one typed shape, from the plugin to the CLI and the class view.

The plugin builds a `RunReport` while the checks run and, for a run of a whole lesson, writes it
to `.workshop/results/NN.json` (`save`): that file is the learner's progress on the lesson, read
by the dashboard (`latest`), posted to the class server (`workshop.classroom`) and uploaded by the
grading workflow of a learner's fork. Everything in the workshop that reads a run (verify, hint,
the dashboard, the class view) reads this module's types, never dicts.

The file's format is versioned (`schema`) and described for other programs by the JSON Schema
`results.schema.json` beside this module (`SCHEMA_FILE`); the suite validates real runs against it.
Version history: 1, undocumented, had no totals; 2 adds `passed`, `failed` and `skipped`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from workshop.lessons import STATE

SCHEMA_VERSION = 2
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")  # the format, for programs that are not Python
RESULTS = STATE / "results"  # one file per lesson: NN.json, the last whole-lesson run


class Kind(StrEnum):
    """Why a check failed."""

    TODO = "todo"  # a stub of the starter still raises NotImplementedError
    TEACHING = "teaching"  # a `Lesson NN:` message: the learner's code does something wrong
    ENVIRONMENT = "environment"  # the machine, not the code: the database is down
    BUG = "bug"  # anything else: shown with its traceback


LESSON_KINDS = (Kind.TODO, Kind.TEACHING)


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class CheckResult:
    nodeid: str
    name: str  # test_x or test_x[param]
    step: int  # the README step it grades
    outcome: Outcome = Outcome.PASSED
    kind: Kind | None = None  # when failed
    message: str = ""  # one line: the lesson message, the skip reason, or the error's first line
    hint: str = ""  # the check's docstring
    engine_gated: bool = False  # may skip where no Docker engine runs
    seconds: float = 0.0

    @property
    def sentence(self) -> str:
        """The check's name as the sentence it reads: test_a_transfer_is_refused[0] → "a transfer is refused [0]"."""
        base, _, parameter = self.name.partition("[")
        text = base.removeprefix("test_").replace("_", " ")
        return f"{text} [{parameter}" if parameter else text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        kind = data.get("kind")
        return cls(**{**data, "outcome": Outcome(data["outcome"]), "kind": Kind(kind) if kind else None})


@dataclass
class RunReport:
    """One run of a lesson's checks."""

    lesson: str
    checks: list[CheckResult] = field(default_factory=list)  # in the order they ran: README step order
    total: int = 0  # checks in the lesson
    selected: int = 0  # checks this run selected (fewer than total: a narrowed run)
    exitstatus: int = 0
    collection_errors: list[str] = field(default_factory=list)
    at: str = ""  # ISO time, UTC, when the run ended
    workshop: str = ""  # the workshop's version
    schema: int = SCHEMA_VERSION

    @property
    def narrowed(self) -> bool:
        return self.selected < self.total

    @property
    def graded(self) -> list[CheckResult]:
        """The checks that count: all but the skipped (only an engine-gated check may skip)."""
        return [check for check in self.checks if check.outcome != Outcome.SKIPPED]

    @property
    def passed(self) -> int:
        return sum(1 for check in self.checks if check.outcome == Outcome.PASSED)

    @property
    def skipped(self) -> list[CheckResult]:
        return [check for check in self.checks if check.outcome == Outcome.SKIPPED]

    @property
    def failing(self) -> list[CheckResult]:
        """The failing checks, lowest README step first."""
        return [check for check in self.checks if check.outcome == Outcome.FAILED]

    def next_failing(self) -> CheckResult | None:
        """The check to work on next: the first failing one, in step order."""
        failing = self.failing
        return failing[0] if failing else None

    @property
    def done(self) -> bool:
        return bool(self.graded) and self.passed == len(self.graded) and not self.narrowed

    def to_dict(self) -> dict[str, Any]:
        """The results file's content: every field, and the totals for readers that are not this module."""
        totals = {"passed": self.passed, "failed": len(self.failing), "skipped": len(self.skipped)}
        return {**asdict(self), **totals}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> RunReport:
        data: dict[str, Any] = json.loads(text)
        checks = [CheckResult.from_dict(check) for check in data.pop("checks", [])]
        # The totals are derived from the checks; a field of a later version is ignored.
        known = set(cls.__dataclass_fields__)
        return cls(checks=checks, **{key: value for key, value in data.items() if key in known})


def stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save(report: RunReport, folder: Path = RESULTS) -> Path:
    """Write the report of a whole-lesson run as the lesson's latest result."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{report.lesson}.json"
    path.write_text(report.to_json(), encoding="utf-8")
    return path


def latest(folder: Path = RESULTS) -> dict[str, RunReport]:
    """lesson number → its last whole-lesson run; a file that cannot be read counts as no run."""
    found: dict[str, RunReport] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            found[path.stem] = RunReport.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return found
