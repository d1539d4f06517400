"""The one-source generator: stages and starters are composed from `solutions/`.

`solutions/NN` holds what lesson NN adds or changes, finished. Regions the learner writes sit
between markers in the file's own comment syntax::

    ### BEGIN SOLUTION implement get_settings() with a cache
    ...reference code...
    ### END SOLUTION

* the stage after lesson NN is stage NN-1 with `solutions/NN` laid over it, markers removed;
* the starter `lessons/NN` is stage NN-1 with `solutions/NN` laid over it, each Python region
  replaced by `raise NotImplementedError("Lesson NN: <message>")` and each region of another
  file type by a `TODO Lesson NN: <message>` comment;
* a region that spans a whole file means "the learner creates this file": the starter omits it.

A region whose code runs on every call of something earlier steps need (a validator that every
`Settings()` runs, the class body that makes a model importable) says what its stub does instead of
raising, in `STUB` lines right after its BEGIN line::

    ### BEGIN SOLUTION default debug to True in development only (step 5)
    ### STUB return data
    ...reference code...
    ### END SOLUTION

The starter gets the teaching message as a comment, with the stub's code below it::

    # TODO Lesson 01: default debug to True in development only (step 5)
    return data

* each `STUB` line is one line of the stub's code, at the marker's indentation (the text after
  `STUB ` is kept as written, so a line can indent further than the first);
* `STUB` alone adds no code: the starter keeps the TODO comment only (where Python needs no
  statement, as in a class body that has others);
* the finished file drops the STUB lines with the markers; a Python starter that does not compile
  is a MarkerError;
* `grading.stubs_left` finds such a stub by its `# TODO Lesson NN:` line, as it finds the others by
  their NotImplementedError: the learner deletes the TODO line when writing the code.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from workshop.grading import first_step
from workshop.lessons import LESSONS, SOLUTIONS, all_lessons, generated_roots, is_generated, is_ignored

# Comment syntax per file type; a marker in any other file type is an error.
_HASH = "#"
_COMMENT_BY_SUFFIX = {
    ".py": "###",
    ".toml": _HASH,
    ".yml": _HASH,
    ".yaml": _HASH,
    ".ini": _HASH,
    ".cfg": _HASH,
    ".sh": _HASH,
    ".mako": _HASH,
    ".example": _HASH,
    ".env": _HASH,
    ".sql": "--",
}
_COMMENT_BY_NAME = {"Dockerfile": _HASH, ".dockerignore": _HASH, ".env": _HASH}
_ANY_MARKER = re.compile(r"\b(BEGIN|END) SOLUTION\b")


class MarkerError(ValueError):
    """A malformed solution file; the message starts with file:line."""


def comment_prefix(path: Path) -> str | None:
    if path.name in _COMMENT_BY_NAME or path.name.startswith("Dockerfile"):
        return _COMMENT_BY_NAME.get(path.name, _HASH)
    return _COMMENT_BY_SUFFIX.get(path.suffix)


@dataclass(frozen=True)
class Region:
    begin: int  # 0-based index of the BEGIN line
    end: int  # 0-based index of the END line
    indent: str
    message: str
    # The code of its STUB lines, one item a line ("" for a bare STUB); None: the stub raises.
    stub: tuple[str, ...] | None = None

    @property
    def code(self) -> int:
        """0-based index of the region's first line of code, after its BEGIN and STUB lines."""
        return self.begin + 1 + len(self.stub or ())


def parse_regions(path: Path, text: str) -> list[Region]:
    """The marked regions of one file, or a MarkerError naming file and line."""
    lines = text.splitlines()
    prefix = comment_prefix(path)
    if prefix is None:
        for number, line in enumerate(lines, 1):
            if _ANY_MARKER.search(line):
                raise MarkerError(
                    f"{path}:{number}: solution marker in a file type the generator does not know "
                    f"({path.suffix or path.name}); add its comment syntax to workshop/build.py"
                )
        return []
    begin_marker, end_marker = f"{prefix} BEGIN SOLUTION", f"{prefix} END SOLUTION"
    stub_marker = f"{prefix} STUB"
    regions: list[Region] = []
    open_at: int | None = None
    stub: list[str] | None = None  # the STUB lines of the open region, while they come right after BEGIN
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == stub_marker or stripped.startswith(stub_marker + " "):
            if open_at is None:
                raise MarkerError(
                    f"{path}:{index + 1}: STUB outside a region; put it right after `{begin_marker} <message>`"
                )
            if index != open_at + 1 + len(stub or []):
                raise MarkerError(
                    f"{path}:{index + 1}: STUB after the region's code; every STUB line goes right after the "
                    f"BEGIN SOLUTION of line {open_at + 1}"
                )
            stub = [*(stub or []), stripped[len(stub_marker) + 1 :]]
            continue
        if stripped.startswith(begin_marker):
            if open_at is not None:
                raise MarkerError(
                    f"{path}:{index + 1}: BEGIN SOLUTION inside the region opened at line "
                    f"{open_at + 1}; regions cannot nest"
                )
            message = stripped[len(begin_marker) :].strip()
            if not message:
                raise MarkerError(
                    f"{path}:{index + 1}: BEGIN SOLUTION needs a teaching message, "
                    f"e.g. `{begin_marker} implement get_settings() with a cache`"
                )
            open_at, stub = index, None
        elif stripped.startswith(end_marker):
            if open_at is None:
                raise MarkerError(f"{path}:{index + 1}: END SOLUTION without a BEGIN SOLUTION")
            begin_line = lines[open_at]
            indent = begin_line[: len(begin_line) - len(begin_line.lstrip())]
            message = begin_line.strip()[len(begin_marker) :].strip()
            regions.append(Region(open_at, index, indent, message, None if stub is None else tuple(stub)))
            open_at = None
        elif _ANY_MARKER.search(line) and stripped.startswith(prefix[0]):
            raise MarkerError(
                f"{path}:{index + 1}: malformed marker; write `{begin_marker} <message>` or `{end_marker}`"
            )
    if open_at is not None:
        raise MarkerError(f"{path}:{open_at + 1}: BEGIN SOLUTION is never closed by END SOLUTION")
    return regions


def _spans_whole_file(lines: list[str], region: Region) -> bool:
    return region.stub is None and not any(line.strip() for line in lines[: region.begin] + lines[region.end + 1 :])


def _stub(path: Path, region: Region, lesson: str) -> list[str]:
    text = f"Lesson {lesson}: {region.message}"
    if region.stub is not None:  # the teaching message as a TODO comment, then the code the region says
        todo = f"{region.indent}{'#' if path.suffix == '.py' else comment_prefix(path)} TODO {text}"
        return [todo, *(f"{region.indent}{code}" for code in region.stub if code.strip())]
    if path.suffix == ".py":
        return [f"{region.indent}raise NotImplementedError({json.dumps(text, ensure_ascii=False)})"]
    return [f"{region.indent}{comment_prefix(path)} TODO {text}"]


def solved(path: Path, text: str) -> str:
    """The finished file: markers (and STUB lines) removed, code kept."""
    regions = parse_regions(path, text)
    marker_lines = {index for r in regions for index in (*range(r.begin, r.code), r.end)}
    lines = text.splitlines(keepends=True)
    return "".join(line for index, line in enumerate(lines) if index not in marker_lines)


def step_of(region: Region) -> int | None:
    """The README step at which the learner starts writing a region: the first step its message names
    (`(step 3)`, `(steps 2-5)`), or None. A region that spans steps counts as written at its first."""
    return first_step(region.message)


def starter(path: Path, text: str, lesson: str, done: Callable[[Region], bool] | None = None) -> str | None:
    """The learner's file: each region stubbed; None when the learner creates the whole file.

    `done`: the regions the learner has written already (kept, markers removed), for a learner
    half-way through the lesson (`workshop.authoring.steps`)."""
    regions = parse_regions(path, text)
    lines = text.splitlines()
    if len(regions) == 1 and _spans_whole_file(lines, regions[0]):
        return solved(path, text) if done is not None and done(regions[0]) else None
    out: list[str] = []
    cursor = 0
    for region in regions:
        out.extend(lines[cursor : region.begin])
        if done is not None and done(region):
            out.extend(lines[region.code : region.end])
        else:
            out.extend(_stub(path, region, lesson))
        cursor = region.end + 1
    out.extend(lines[cursor:])
    result = "\n".join(out) + ("\n" if text.endswith("\n") else "")
    if path.suffix == ".py" and any(region.stub is not None for region in regions):
        try:
            compile(result, str(path), "exec", dont_inherit=True)
        except SyntaxError as error:
            raise MarkerError(
                f"{path}: with its STUB code the starter is not valid Python ({error.msg}, line {error.lineno} "
                "of the starter); give the region a STUB line of code, `pass` say"
            ) from None
    return result


def _solution_sources(number: str) -> dict[Path, tuple[Path, str]]:
    root = SOLUTIONS / number
    if not root.is_dir():
        return {}
    found = {}
    for source in sorted(root.rglob("*")):
        relative = source.relative_to(root)
        if source.is_file() and not is_ignored(relative):
            found[relative] = (source, source.read_text(encoding="utf-8"))
    return found


def _numbers() -> list[str]:
    numbers = {lesson.number for lesson in all_lessons()}
    if SOLUTIONS.is_dir():
        numbers |= {p.name for p in SOLUTIONS.iterdir() if p.is_dir() and p.name.isdigit()}
    return sorted(numbers)


@cache
def stage(number: str) -> dict[Path, str]:
    """Every code file of the finished service after lesson `number`, relative to its folder."""
    files: dict[Path, str] = {}
    for earlier in _numbers():
        if earlier > number:
            break
        for relative, (source, text) in _solution_sources(earlier).items():
            files[relative] = solved(source, text)
    return files


@cache
def starter_files(number: str) -> dict[Path, str]:
    """The generated files of `lessons/NN`: the stage before it with this lesson's parts stubbed."""
    return partial_files(number, through=0)


def partial_files(number: str, through: int) -> dict[Path, str]:
    """Lesson NN's code with its regions of steps 1 to `through` written and the later ones stubbed."""
    earlier = [n for n in _numbers() if n < number]
    files = dict(stage(earlier[-1])) if earlier else {}

    def done(region: Region) -> bool:
        step = step_of(region)
        return step is not None and step <= through

    for relative, (source, text) in _solution_sources(number).items():
        content = starter(source, text, number, done)
        if content is None:
            files.pop(relative, None)
        else:
            files[relative] = content
    return files


@dataclass(frozen=True)
class Drift:
    path: Path  # absolute path in lessons/NN
    expected: str | None  # None: the file should not exist
    actual: str | None  # None: the file does not exist

    def diff(self) -> str:
        rel = self.path.relative_to(LESSONS.parent)
        return "".join(
            difflib.unified_diff(
                (self.actual or "").splitlines(keepends=True),
                (self.expected or "").splitlines(keepends=True),
                fromfile=f"{rel} (on disk)" if self.actual is not None else "/dev/null",
                tofile=f"{rel} (generated)" if self.expected is not None else "/dev/null",
            )
        )


def generated_files_on_disk(folder: Path) -> dict[Path, str]:
    """The files in a lesson folder that the generator owns (not README, checks, notebooks)."""
    found: dict[Path, str] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and is_generated(relative):
            try:
                found[relative] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                found[relative] = ""  # a binary stray file still counts as drift
    return found


def drift(number: str, expected: dict[Path, str] | None = None) -> list[Drift]:
    """Where `lessons/NN` differs from what the generator writes (or from `expected`)."""
    folder = LESSONS / number
    want = starter_files(number) if expected is None else expected
    have = generated_files_on_disk(folder)
    return [
        Drift(folder / relative, want.get(relative), have.get(relative))
        for relative in sorted(set(want) | set(have))
        if want.get(relative) != have.get(relative)
    ]


# Files outside the lessons that hold generated parts: a table of lessons between two markers.
LESSON_TABLES = {"README.md": False, "docs/index.md": True}  # path → link each title to its README?
TABLE = re.compile(r"(<!-- lessons:start[^>]*-->\n).*?(\n<!-- lessons:end -->)", re.DOTALL)
GITATTRIBUTES = ".gitattributes"


def lessons_table(linked: bool) -> str:
    """The table of lessons: number, title, what the learner writes; from each lesson.toml."""
    rows = ["| # | lesson | you write |", "|---|---|---|"]
    for found in all_lessons():
        title = f"[{found.title}](lessons/{found.number}/README.md)" if linked else found.title
        rows.append(f"| {found.number} | {title} | {found.metadata.summary} |")
    return "\n".join(rows)


def gitattributes() -> str:
    """Marks every generated path of every lesson, so that GitHub folds them in diffs and statistics."""
    lines = ["# Generated by `uv run workshop build`: the files of each lesson that come from solutions/."]
    folders = {path.relative_to(number).parts[0] for number in SOLUTIONS.iterdir() for path in number.rglob("*/*")}
    for root in sorted(generated_roots()):
        lines.append(
            f"lessons/*/{root}/** linguist-generated=true"
            if root in folders
            else f"lessons/*/{root} linguist-generated=true"
        )
    return "\n".join(lines) + "\n"


def repository_drift() -> list[Drift]:
    """Where the generated parts outside the lessons differ: the tables of lessons and .gitattributes."""
    found: list[Drift] = []
    for relative, linked in LESSON_TABLES.items():
        path = LESSONS.parent / relative
        actual = path.read_text(encoding="utf-8") if path.is_file() else None
        if actual is None or not TABLE.search(actual):
            continue
        table = lessons_table(linked)
        # A replacement string would read backslashes in the table as escapes: splice the match instead.
        match = TABLE.search(actual)
        assert match is not None
        expected = actual[: match.start()] + match.group(1) + table + match.group(2) + actual[match.end() :]
        if expected != actual:
            found.append(Drift(path, expected, actual))
    path = LESSONS.parent / GITATTRIBUTES
    actual = path.read_text(encoding="utf-8") if path.is_file() else None
    if actual != gitattributes():
        found.append(Drift(path, gitattributes(), actual))
    return found


def all_drift() -> list[Drift]:
    return [found for number in _numbers() for found in drift(number)] + repository_drift()


def write(drifts: list[Drift]) -> None:
    for found in drifts:
        if found.expected is None:
            found.path.unlink()
        else:
            found.path.parent.mkdir(parents=True, exist_ok=True)
            found.path.write_text(found.expected, encoding="utf-8")
