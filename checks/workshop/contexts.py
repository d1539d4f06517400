"""A pytest plugin for a run under coverage: the lines each test runs (its fixtures included) are
recorded under its node id, so a seeded bug can be graded by the tests that run the code it changes.

Lines run outside any test (at import, during collection) keep the empty context: every test may
depend on them. Loaded with `-p workshop.contexts` by `runner` when a run is measured.
"""

from __future__ import annotations

from collections.abc import Generator

import coverage
import pytest

OUTSIDE_TESTS = ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    measured = coverage.Coverage.current()
    if measured is not None:
        measured.switch_context(item.nodeid)
    try:
        return (yield)
    finally:
        if measured is not None:
            measured.switch_context(OUTSIDE_TESTS)
