"""The one-source generator: markers, stubs, and clear errors for malformed solution files."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    ("name", "text", "line", "words"),
    [
        ("a.py", "x = 1\n### BEGIN SOLUTION do it\ny = 2\n", 2, "never closed"),
        ("a.py", "### BEGIN SOLUTION a\n### BEGIN SOLUTION b\n### END SOLUTION\n", 2, "cannot nest"),
        ("a.py", "x = 1\n### END SOLUTION\n", 2, "without a BEGIN"),
        ("a.py", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", 1, "teaching message"),
        ("notes.rst", "text\n.. BEGIN SOLUTION fill in\n", 2, "file type"),
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
