"""Lesson 05 check: the services stay in their layer, read from your files without running them.

A service reaches the database only through the repositories (no SQLAlchemy queries of its own)
and knows nothing of HTTP (no FastAPI, no HTTPException): the same rules answer over HTTP, from a
command-line tool or from a worker. `workshop.graders.architecture` reads the imports, with file and line.
"""

import pytest

from workshop import grading
from workshop.graders import architecture

pytestmark = pytest.mark.step(3)


def test_the_services_import_no_queries_and_nothing_of_http() -> None:
    """Hint: what a service needs from the database, a repository method gives it; what it refuses, a
    domain error says. The route decides the status.
    """
    grading.require_finished(["app/services"], "the layer rules grade your services", step=3)
    app_dir = grading.folder() / "app"
    messages = [
        found.message(grading.lesson(), grading.folder()) for found in architecture.violations(app_dir, ["services"])
    ]
    assert not messages, "\n".join(messages[:3]) + " (steps 1-3)"
