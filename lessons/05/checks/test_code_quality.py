"""Lesson 05 check: your code meets the bar the reference meets, ruff clean and `mypy --strict` clean.

The tools run with the workshop's configuration (pyproject.toml). mypy's first run fills its cache
under .workshop/ and takes several seconds; later runs take about one.
"""

import pytest

from workshop.graders import quality

pytestmark = [pytest.mark.step(4), pytest.mark.workshop_timeout(180)]


def test_your_code_is_ruff_and_mypy_strict_clean() -> None:
    """Hint: run both yourself: `uv run ruff check lessons/05/app`
    and `cd lessons/05 && uv run mypy --strict -p app`.
    """
    quality.require_clean(["app"], step=4)
