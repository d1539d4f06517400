"""Lesson 05 check: nothing in an `async def` of your services and repositories blocks the event loop.

One process serves every request on one thread, by switching between them at each `await`. A
call that blocks (time.sleep, a synchronous HTTP client, open()) stops every other request for as
long as it takes: a transfer that sleeps "to give the other request a moment" freezes them all.
`workshop.graders.architecture` reads your files and names each such call with its file and line.
"""

import pytest

from workshop import grading
from workshop.graders import architecture

pytestmark = pytest.mark.step(4)


def test_no_async_function_blocks_the_event_loop() -> None:
    """Hint: inside `async def`, wait with `await`. To wait for another transaction, let PostgreSQL make you wait."""
    grading.require_finished(["app/services", "app/crud"], "async all the way is graded on your services", 4)
    app_dir = grading.folder() / "app"
    found = [call.message(grading.lesson(), grading.folder()) for call in architecture.blocking_calls(app_dir)]
    assert not found, f"{found[0]} (step 4)" + (f" ({len(found) - 1} more)" if len(found) > 1 else "")
