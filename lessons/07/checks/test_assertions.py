"""Lesson 07 check: your tests expect the precise error a rule raises, never any exception.

`pytest.raises(Exception)` passes when the rule is gone and something else fails in its place: the
database's CHECK constraint (an IntegrityError), an AttributeError on None, a stub's
NotImplementedError. Another test may still catch that bug today; this one never will.
"""

import ast
from pathlib import Path

import pytest

from workshop import grading
from workshop.graders import seeded

from .conftest import GRADING_TIMEOUT, passes_as_given

pytestmark = pytest.mark.workshop_timeout(GRADING_TIMEOUT)

BROAD = {"Exception", "BaseException"}


def _is_raises(call: ast.Call) -> bool:
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr == "raises" and isinstance(function.value, ast.Name) and function.value.id == "pytest"
    return isinstance(function, ast.Name) and function.id == "raises"


def _broad(expected: ast.expr) -> bool:
    if isinstance(expected, ast.Name | ast.Attribute):
        name = expected.id if isinstance(expected, ast.Name) else expected.attr
        return name in BROAD
    if isinstance(expected, ast.Tuple):
        return any(_broad(element) for element in expected.elts)
    return False


def broad_expectations(tests: Path) -> list[str]:
    """`file:line` of each pytest.raises(Exception) (or BaseException, alone or in a tuple) under `tests`."""
    found = []
    for path in sorted(tests.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError):
            continue  # the run on the app as given reports it
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not _is_raises(node):
                continue
            expected = (
                node.args[0]
                if node.args
                else next((keyword.value for keyword in node.keywords if keyword.arg == "expected_exception"), None)
            )
            if expected is not None and _broad(expected):
                found.append(f"tests/{path.relative_to(tests).as_posix()}:{node.lineno}")
    return found


@pytest.mark.step(3)
async def test_your_tests_expect_the_precise_error_not_any_exception(graded: seeded.Grading) -> None:
    """Hint: each rule raises its own domain error (AccountNotFound, InsufficientFunds, …): expect that one."""
    found = broad_expectations(grading.folder() / "tests")
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        pytest.fail(
            f"Lesson 07: {found[0]}{more} expects any exception (pytest.raises(Exception)): it passes when the rule "
            "is gone and something else fails in its place, the database's CHECK constraint, an AttributeError on "
            "None, a stub's NotImplementedError. Expect the domain error the rule raises (step 3)",
            pytrace=False,
        )
    passes_as_given(graded, "the errors your tests expect are graded")
