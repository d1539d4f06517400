"""Lesson 03 check: the models import no other layer of the app.

Tables are the bottom of the stack: repositories, services and migrations import them, so they
import nothing of those (nor the settings, nor FastAPI). `workshop.graders.architecture` reads the imports
of app/models, with file and line.
"""

import pytest

from workshop import grading
from workshop.graders import architecture

pytestmark = pytest.mark.step(3)


def test_the_models_import_no_other_layer() -> None:
    """Hint: a model holds columns and constraints; a value that depends on settings or a request is decided above."""
    grading.require_finished(["app/models"], "the layer rules grade your models", 3)
    found = architecture.violations(grading.folder() / "app", ["models"])
    messages = [violation.message(grading.lesson(), grading.folder()) for violation in found]
    assert not messages, f"{messages[0]} (steps 3-4)"
