"""Invariant 5 (notebooks): every lesson's notebook executes on that lesson's reference solution.

Each notebook runs in a fresh kernel whose working folder is the lesson folder of a solution
tree, with LEDGER_DATABASE_URL set to a database of its own on the workshop's server, as a
learner runs it with `LEDGER_DATABASE_URL=$(uv run workshop db url) uv run jupyter lab`.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from workshop import database
from workshop.authoring.verify import write_solution_tree
from workshop.lessons import LESSONS, lesson, lesson_of_path

NOTEBOOKS = sorted(LESSONS.glob("*/*.ipynb"))

# Run first in the kernel: the lesson's own `app` package wins, as it does for a learner whose
# Jupyter starts the kernel in the notebook's folder.
SETUP = "import os, sys\nsys.path.insert(0, os.getcwd())"


def _name(path: Path) -> str:
    return path.relative_to(LESSONS).as_posix()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_name)
def test_the_notebook_is_committed_without_outputs(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    dirty = [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert dirty == [], f"{_name(notebook)}: clear the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_name)
def test_the_notebook_executes_on_the_solution(notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    number = lesson_of_path(notebook)
    assert number is not None
    folder = write_solution_tree(lesson(number), tmp_path)
    server = database.server()
    name = database.run_database_name(f"nb{number}")
    database.run(database.create_database(server, name))
    try:
        for variable in [v for v in os.environ if v.startswith("LEDGER_")]:
            monkeypatch.delenv(variable)
        monkeypatch.setenv("LEDGER_DATABASE_URL", server.database_url(name))
        nb = nbformat.read(folder / notebook.name, as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP))
        client = NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
        try:
            client.execute()
        except CellExecutionError as error:
            pytest.fail(f"{_name(notebook)}: a cell failed on the solution of lesson {number}:\n{error}")
    finally:
        database.run(database.drop_database(server, name))
