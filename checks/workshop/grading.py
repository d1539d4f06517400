"""What checks use to reach the learner's code and to explain failures.

A check imports learner modules through `load()` inside the test, never at the top of the
check file: a missing or broken learner file then fails that check with a lesson message
instead of stopping collection.
"""

from __future__ import annotations

import importlib
import traceback
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Literal

from workshop.lessons import lesson_of_path

Kind = Literal["todo", "teaching", "bug"]

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


def classify(error: BaseException) -> tuple[Kind, str]:
    """A failure's kind and, for lesson failures, the one line the learner sees."""
    leaves = _leaves(error)
    for leaf in leaves:
        if isinstance(leaf, NotImplementedError):
            return "todo", f"{_raise_site(leaf) or _raise_site(error)}{leaf}"
    for leaf in [error, *leaves]:
        if isinstance(leaf, CheckTimeout):
            return "teaching", f"{_check_site(leaf) or _raise_site(leaf)}{leaf}"
        if isinstance(leaf, AssertionError) and str(leaf).startswith("Lesson "):
            if isinstance(leaf, LessonError):
                return "teaching", str(leaf)
            return "teaching", f"{_check_site(leaf)}{str(leaf).splitlines()[0]}"
        if isinstance(leaf, SyntaxError) and _is_learner_file(leaf.filename):
            return "teaching", (
                f"{_relative(leaf.filename or '')}:{leaf.lineno}: Lesson {lesson()}: "
                f"Python cannot read this file: {leaf.msg}"
            )
    return "bug", ""
