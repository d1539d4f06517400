"""Lesson 02 check: the database setup in app/core knows nothing of HTTP.

The engine and the sessionmaker serve any program: the app, Alembic, a script, a worker. Only the
per-request session is FastAPI's business, and it lives in app/dependencies. `workshop.graders.architecture`
reads the imports of app/core, with file and line.
"""

import pytest

from workshop import grading
from workshop.graders import architecture

pytestmark = pytest.mark.step(3)


def test_the_database_setup_knows_nothing_of_http() -> None:
    """Hint: what needs a Request or Depends belongs in app/dependencies/session.py."""
    grading.require_finished(["app/core", "app/dependencies"], "the layer rules grade your database setup", 3)
    found = architecture.violations(grading.folder() / "app", ["core"])
    messages = [violation.message(grading.lesson(), grading.folder()) for violation in found]
    assert not messages, f"{messages[0]} (step 3)"
