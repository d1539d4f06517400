"""The one-source generator: markers, stubs, and clear errors for malformed solution files."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop import grading
from workshop.authoring.build import MarkerError, parse_regions, solved, starter

SOURCE = '''def total(a: int, b: int) -> int:
    """Add."""
    ### BEGIN SOLUTION add the two numbers
    return a + b
    ### END SOLUTION
'''


def test_a_python_region_becomes_a_stub_with_the_lesson_message() -> None:
    text = starter(Path("app/x.py"), SOURCE, "05")
    assert text is not None
    assert '    raise NotImplementedError("Lesson 05: add the two numbers")\n' in text
    assert "return a + b" not in text and "BEGIN SOLUTION" not in text
    compile(text, "x.py", "exec")


def test_the_solution_keeps_the_code_and_drops_the_markers() -> None:
    assert solved(Path("app/x.py"), SOURCE) == SOURCE.replace(
        "    ### BEGIN SOLUTION add the two numbers\n", ""
    ).replace("    ### END SOLUTION\n", "")


def test_a_region_in_another_file_type_becomes_a_todo_comment() -> None:
    text = "FROM python:3.12-slim\n# BEGIN SOLUTION run as a non-root user\nUSER app\n# END SOLUTION\n"
    expected = "FROM python:3.12-slim\n# TODO Lesson 08: run as a non-root user\n"
    assert starter(Path("Dockerfile"), text, "08") == expected


def test_a_region_spanning_the_whole_file_means_the_learner_creates_it() -> None:
    text = '### BEGIN SOLUTION create the package\n"""Docs."""\n### END SOLUTION\n'
    assert starter(Path("app/core/__init__.py"), text, "00") is None


PASS_THROUGH = '''class Settings:
    def defaults(self, data: dict[str, object]) -> dict[str, object]:
        """Fill the defaults."""
        ### BEGIN SOLUTION default debug to True in development only (step 5)
        ### STUB return data
        data.setdefault("debug", True)
        return data
        ### END SOLUTION
'''


def test_a_region_with_a_stub_line_gets_that_code_under_its_todo_line_instead_of_a_raise() -> None:
    text = starter(Path("app/x.py"), PASS_THROUGH, "01")
    assert text is not None
    assert text.endswith(
        '''        """Fill the defaults."""
        # TODO Lesson 01: default debug to True in development only (step 5)
        return data
'''
    ), text
    assert "NotImplementedError" not in text and "STUB" not in text and "setdefault" not in text
    namespace: dict[str, object] = {}
    exec(compile(text, "x.py", "exec"), namespace)
    assert namespace["Settings"]().defaults({"a": 1}) == {"a": 1}  # type: ignore[operator]


def test_the_solution_and_a_written_region_drop_the_stub_lines() -> None:
    expected = PASS_THROUGH.replace(
        "        ### BEGIN SOLUTION default debug to True in development only (step 5)\n", ""
    )
    expected = expected.replace("        ### STUB return data\n", "").replace("        ### END SOLUTION\n", "")
    assert solved(Path("app/x.py"), PASS_THROUGH) == expected
    assert starter(Path("app/x.py"), PASS_THROUGH, "01", done=lambda region: True) == expected


def test_stub_lines_keep_their_indentation_and_a_bare_stub_leaves_the_todo_line_alone() -> None:
    text = """class Account:
    id = 1

    ### BEGIN SOLUTION link the entries (step 4)
    ### STUB
    entries = []
    ### END SOLUTION

    def total(self, x: int) -> int:
        ### BEGIN SOLUTION add them up (step 5)
        ### STUB if x:
        ### STUB     return x
        ### STUB return 0
        return sum(self.entries) + x
        ### END SOLUTION
"""
    assert (
        starter(Path("app/x.py"), text, "03")
        == """class Account:
    id = 1

    # TODO Lesson 03: link the entries (step 4)

    def total(self, x: int) -> int:
        # TODO Lesson 03: add them up (step 5)
        if x:
            return x
        return 0
"""
    )
    ini = (
        "[alembic]\n# BEGIN SOLUTION point at the scripts (step 5)\n# STUB script_location = TODO\n"
        "script_location = x\n# END SOLUTION\n"
    )
    assert starter(Path("alembic.ini"), ini, "03") == (
        "[alembic]\n# TODO Lesson 03: point at the scripts (step 5)\nscript_location = TODO\n"
    )


def test_a_stub_that_leaves_no_valid_python_is_a_marker_error() -> None:
    text = (
        "def f() -> int:\n    ### BEGIN SOLUTION return one (step 2)\n    ### STUB\n"
        "    return 1\n    ### END SOLUTION\n"
    )  # the starter: `def f() -> int:` with a comment for its body
    with pytest.raises(MarkerError, match=r"^app/x\.py: .*not valid Python"):
        starter(Path("app/x.py"), text, "02")


def test_stubs_left_finds_the_todo_line_of_a_stub_that_does_not_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = starter(Path("app/x.py"), PASS_THROUGH, "01")
    assert text is not None
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "x.py").write_text(text, encoding="utf-8")
    (tmp_path / "Dockerfile").write_text("# TODO Lesson 01: not Python, not a stub of a Python file\n")
    monkeypatch.setitem(grading.CURRENT, "folder", tmp_path)
    assert grading.stubs_left(["app", "Dockerfile"]) == ["app/x.py:4"]
    assert grading.stubs_left(["app"], through=4) == []  # a stub of step 5 waits for step 5
    assert grading.stubs_left(["app"], through=5) == ["app/x.py:4"]
    (tmp_path / "app" / "x.py").write_text(solved(Path("app/x.py"), PASS_THROUGH), encoding="utf-8")
    assert grading.stubs_left(["app"]) == []


@pytest.mark.parametrize(
    ("name", "text", "line", "words"),
    [
        ("a.py", "x = 1\n### BEGIN SOLUTION do it\ny = 2\n", 2, "never closed"),
        ("a.py", "### BEGIN SOLUTION a\n### BEGIN SOLUTION b\n### END SOLUTION\n", 2, "cannot nest"),
        ("a.py", "x = 1\n### END SOLUTION\n", 2, "without a BEGIN"),
        ("a.py", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", 1, "teaching message"),
        ("notes.rst", "text\n.. BEGIN SOLUTION fill in\n", 2, "file type"),
        ("a.py", "x = 1\n### STUB return x\n", 2, "STUB outside a region"),
        ("a.py", "### BEGIN SOLUTION a\nx = 1\n### STUB x = 0\n### END SOLUTION\n", 3, "STUB after the region's code"),
    ],
)
def test_a_marker_error_names_file_and_line(name: str, text: str, line: int, words: str) -> None:
    with pytest.raises(MarkerError, match=rf"^{name}:{line}: .*{words}"):
        parse_regions(Path(name), text)


def test_no_lesson_hands_out_an_earlier_lessons_exercise_again() -> None:
    """A file of solutions/NN that replaces an earlier lesson's version carries that version's code as
    given: an earlier region left in it would make the learner write lesson MM's code again, under
    lesson NN's name and with lesson MM's step numbers (lesson 11's lifespan once did)."""
    from workshop.lessons import SOLUTIONS

    first_seen: dict[tuple[str, str], str] = {}
    inherited = []
    for folder in sorted(path for path in SOLUTIONS.iterdir() if path.is_dir()):
        for path in sorted(file for file in folder.rglob("*") if file.is_file()):
            relative = path.relative_to(folder).as_posix()
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except UnicodeDecodeError:
                continue
            for marker in (line.strip() for line in lines if "BEGIN SOLUTION" in line):
                earlier = first_seen.setdefault((relative, marker), folder.name)
                if earlier != folder.name:
                    inherited.append(f"solutions/{folder.name}/{relative}: lesson {earlier}'s region: {marker[:90]}")
    assert not inherited, "remove these markers (keep the code): \n" + "\n".join(inherited)
