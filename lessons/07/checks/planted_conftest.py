"""Planted by lesson 07's grader as conftest.py beside tests/ in the watcher's throwaway copy, never in yours.

pytest loads it with your tests' own conftest.py. It notes in the watcher's log each test that one of
its fixtures skipped ("skip", with the fixture's name): the starter's `client` and `live_client` skip
the tests that use them until you write them, and a skipped test passes whatever the app does. It
changes nothing else. The checks process never imports this file: it is text to plant.
"""

import json
import os
from collections.abc import Generator
from typing import Any

import pytest

LOG = "__WATCHER_LOG__"


def current_test() -> str:
    """The running test as `tests/test_x.py::test_y`."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    return test[test.find("tests/") :] if "tests/" in test else test


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    try:
        return (yield)
    except pytest.skip.Exception:
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"kind": "skip", "test": current_test(), "detail": fixturedef.argname}) + "\n")
        raise
