"""Lesson 10 checks, step 7: the layer rules hold, nothing blocks the event loop, and ruff and mypy --strict pass."""

import pytest

from workshop import grading
from workshop.graders import architecture, quality

pytestmark = pytest.mark.step(7)


def test_the_layers_hold() -> None:
    """Hint: the rate client and the cache live in core/, quote rules in services/, HTTP statuses in routers/."""
    grading.require_finished(["app"], "the layer rules are graded", 7)
    app_dir = grading.folder() / "app"
    found = [v.message(grading.lesson(), grading.folder()) for v in architecture.violations(app_dir)]
    assert not found, "\n".join(found) + " (step 7)"


def test_no_async_function_blocks_the_event_loop() -> None:
    """Hint: inside `async def`, the rate service is asked with `await client.get(...)`, never requests or httpx.get."""
    grading.require_finished(["app"], "async all the way is graded", 7)
    app_dir = grading.folder() / "app"
    found = [call.message(grading.lesson(), grading.folder()) for call in architecture.blocking_calls(app_dir)]
    assert not found, f"{found[0]} (step 7)" + (f" ({len(found) - 1} more)" if len(found) > 1 else "")


@pytest.mark.workshop_timeout(180)
def test_your_code_is_ruff_and_mypy_strict_clean() -> None:
    """Hint: run both yourself: `uv run ruff check lessons/10/app`
    and `cd lessons/10 && uv run --project ../.. mypy --strict -p app`.
    """
    quality.require_clean(["app"], step=7)
