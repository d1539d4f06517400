"""What checks use to reach the learner's code and to explain failures.

A check imports learner modules through `load()` inside the test, never at the top of the
check file: a missing or broken learner file then fails that check with a lesson message
instead of stopping collection.
"""

from __future__ import annotations

import importlib
import re
import traceback
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from workshop.lessons import lesson_of_path
from workshop.results import Kind

# Set by the plugin for the running lesson.
CURRENT: dict[str, object] = {"lesson": "??", "folder": None, "base": None}


class LessonError(AssertionError):
    """A failure that teaches: its message starts with `Lesson NN:`."""


class CheckTimeout(BaseException):
    """Raised by the timer when a check hangs. A BaseException, so `except Exception` cannot eat it."""


def lesson() -> str:
    return str(CURRENT["lesson"])


def folder() -> Path:
    found = CURRENT["folder"]
    if not isinstance(found, Path):
        raise RuntimeError("workshop.grading used outside a lesson run")
    return found


def _relative(path: str | Path) -> str:
    """A path as the learner typed it: relative to where pytest was started (checks may chdir)."""
    base = CURRENT["base"] if isinstance(CURRENT["base"], Path) else Path.cwd()
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _is_learner_file(path: str | None) -> bool:
    if not path:
        return False
    resolved = Path(path).resolve()
    return lesson_of_path(resolved) is not None and "checks" not in resolved.parts


def load(module: str) -> ModuleType:
    """Import `module` from the lesson's code, turning a missing or broken file into a lesson message."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        missing = error.name or module
        if not (module == missing or module.startswith(missing + ".")):
            raise  # a third-party import inside the learner's code: a real bug, keep the traceback
        wanted = missing.replace(".", "/")
        raise LessonError(
            f"Lesson {lesson()}: cannot import {missing}: create {wanted}.py "
            f"(or the package {wanted}/ with an __init__.py) in lessons/{lesson()}/ — "
            f"see lessons/{lesson()}/README.md"
        ) from None
    except SyntaxError as error:
        raise LessonError(
            f"Lesson {lesson()}: {_relative(error.filename or module)}:{error.lineno}: "
            f"Python cannot read this file: {error.msg}"
        ) from None


def _leaves(error: BaseException) -> list[BaseException]:
    """The exceptions at the bottom of groups and of `raise … from …` chains."""
    found: list[BaseException] = []
    pending = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        else:
            found.append(current)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return found


def _raise_site(error: BaseException) -> str:
    tb: TracebackType | None = error.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return ""
    return f"{_relative(last.tb_frame.f_code.co_filename)}:{last.tb_lineno}: "


def _check_site(error: BaseException) -> str:
    """The innermost frame inside a check file: where the teaching assertion stands."""
    site = ""
    for frame, line in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename)
        if path.name.startswith("test_") and "checks" in path.parts:
            site = f"{_relative(path)}:{line}: "
    return site


def _group_leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside groups and `raise … from …` causes (not the implicit __context__)."""
    found: list[BaseException] = []
    pending = [error]
    while pending and len(found) < 50:
        current = pending.pop()
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
            continue
        found.append(current)
        if current.__cause__ is not None:
            pending.append(current.__cause__)
    return found


def _learner_site(error: BaseException) -> str:
    """`app/x.py:12: `, the innermost frame of the learner's code the error passed through; else ""."""
    site = ""
    for frame, line in traceback.walk_tb(error.__traceback__):
        if _is_learner_file(frame.f_code.co_filename):
            site = f"{_relative(frame.f_code.co_filename)}:{line}: "
    return site


def _first(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:240] if lines else ""


def unexpected_outcome(error: BaseException) -> str | None:
    """What an error says when the learner's code raised it where a check expected another outcome.

    A domain error, an HTTPException or a database error is not a bug in the check: it is the
    learner's code refusing what the check expected to succeed (or failing another way).
    """
    kind = type(error)
    names = {cls.__name__ for cls in kind.__mro__}
    if "DomainError" in names and kind.__module__.startswith("app."):
        return f"your code raised {kind.__name__}: {_first(str(error))}"
    if "HTTPException" in names and kind.__module__.split(".")[0] in ("fastapi", "starlette"):
        detail = getattr(error, "detail", "")
        return f"your code raised HTTPException({getattr(error, 'status_code', '?')}, {detail!r})"
    if kind.__name__ == "ResponseValidationError" and kind.__module__.startswith("fastapi"):
        errors: list[dict[str, Any]] = getattr(error, "errors", lambda: [])()
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return (
            f"a route returned a value that does not match its declared response type "
            f"({where}: {first.get('msg', '?')}, got {str(first.get('input', '?'))[:80]!r})"
        )
    if "DBAPIError" in names and kind.__module__.startswith("sqlalchemy"):
        original = getattr(error, "orig", None)
        said = _first(str(original)) if original is not None else _first(str(error))
        return f"the database refused a statement with {kind.__name__}: {said}"
    return None


def classify(error: BaseException, *, expected: str | None = None, step: int | None = None) -> tuple[Kind, str]:
    """A failure's kind and, for lesson failures, the one line the learner sees.

    `expected` is what the check expected, in words (its name as a sentence); `step` its README step.
    """
    import pytest

    leaves = _leaves(error)
    for leaf in leaves:
        if isinstance(leaf, NotImplementedError):
            return Kind.TODO, f"{_raise_site(leaf) or _raise_site(error)}{leaf}"
    for leaf in [error, *leaves]:
        if isinstance(leaf, CheckTimeout):
            return Kind.TEACHING, f"{_check_site(leaf) or _raise_site(leaf)}{leaf}"
        if isinstance(leaf, AssertionError | pytest.fail.Exception) and str(leaf).startswith("Lesson "):
            if isinstance(leaf, LessonError):
                return Kind.TEACHING, str(leaf)
            return Kind.TEACHING, f"{_check_site(leaf)}{str(leaf).splitlines()[0]}"
        if isinstance(leaf, SyntaxError) and _is_learner_file(leaf.filename):
            return Kind.TEACHING, (
                f"{_relative(leaf.filename or '')}:{leaf.lineno}: Lesson {lesson()}: "
                f"Python cannot read this file: {leaf.msg}"
            )
    for leaf in _group_leaves(error):
        said = unexpected_outcome(leaf)
        if said is not None:
            wanted = f"expected {expected}, but " if expected else ""
            where = f" (step {step})" if step is not None else ""
            return Kind.TEACHING, f"{_learner_site(leaf)}Lesson {lesson()}: {wanted}{said}{where}"
    return Kind.BUG, ""


_STUB = re.compile(r"raise NotImplementedError\(\s*[\"']Lesson \d{2}:")
# A stub that does something instead of raising (`### STUB return data` in solutions/): the generator
# writes its teaching message on the line above, as a comment that only a finished file has lost.
_TODO_STUB = re.compile(r"^\s*# TODO Lesson \d{2}:")


def first_step(message: str) -> int | None:
    """The first README step a message names (`… (step 3)`, `… (steps 2-5)`), or None."""
    found = re.findall(r"\(steps? (\d+)", message)
    return min(int(number) for number in found) if found else None


def stubs_left(paths: list[str], through: int | None = None) -> list[str]:
    """`app/x.py:12` for every stub of the workshop still in these folders or files of the lesson: its
    `raise NotImplementedError("Lesson NN: …")`, or in a Python file the `# TODO Lesson NN: …` line above a
    stub that does not raise; with `through`, only the stubs of steps 1 to `through` (a stub that names no
    step always counts)."""
    base = folder()
    found = []
    for relative in paths:
        target = base / relative
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target] if target.is_file() else []
        for path in files:
            python = path.suffix == ".py"
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if not (_STUB.search(line) or (python and _TODO_STUB.match(line))):
                    continue
                step = first_step(line)
                if through is None or step is None or step <= through:
                    found.append(f"{path.relative_to(base).as_posix()}:{number}")
    return found


def require_finished(paths: list[str], what: str, step: int) -> None:
    """Fail with a lesson message while `paths` still hold stubs of steps 1 to `step`: `what` grades code once
    it is written, and a learner at step `step` has not written the later steps yet (their stubs may stay)."""
    left = stubs_left(paths, through=step)
    if left:
        raise LessonError(
            f"Lesson {lesson()}: {what} once it is written, and {len(left)} stub(s) are still there (a "
            f"`raise NotImplementedError`, or a `# TODO Lesson {lesson()}` line to delete once its code is written; "
            f"first: lessons/{lesson()}/{left[0]}) (step {step})"
        )
