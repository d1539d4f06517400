"""Lesson 09 checks, step 6: the layer rules hold, nothing blocks the event loop, and ruff and mypy --strict pass.

The rules are read from your files without running them (`workshop.graders.architecture`), so a
broken one is reported with its file and line. ruff and mypy run with the workshop's configuration.
"""

import pytest

from workshop import grading
from workshop.graders import architecture, quality

pytestmark = pytest.mark.step(6)


def test_the_layers_hold() -> None:
    """Hint: JWT and hashing live in core/, the rules in services/, HTTP (401, headers) only in routers/."""
    grading.require_finished(["app"], "the layer rules are graded", 6)
    app_dir = grading.folder() / "app"
    found = [v.message(grading.lesson(), grading.folder()) for v in architecture.violations(app_dir)]
    assert not found, "\n".join(found) + " (step 6)"


def test_no_async_function_blocks_the_event_loop() -> None:
    """Hint: inside `async def`, wait with `await`; CPU work such as Argon2 goes to `asyncio.to_thread`."""
    grading.require_finished(["app"], "async all the way is graded", 6)
    app_dir = grading.folder() / "app"
    found = [call.message(grading.lesson(), grading.folder()) for call in architecture.blocking_calls(app_dir)]
    assert not found, f"{found[0]} (step 6)" + (f" ({len(found) - 1} more)" if len(found) > 1 else "")


@pytest.mark.workshop_timeout(180)
def test_your_code_is_ruff_and_mypy_strict_clean() -> None:
    """Hint: run both yourself: `uv run ruff check lessons/09/app`
    and `cd lessons/09 && uv run --project ../.. mypy --strict -p app`.
    """
    quality.require_clean(["app"], step=6)
