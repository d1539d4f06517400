"""Lesson 06 check, step 3: nothing in an `async def` of the app blocks the event loop.

One process serves every request on one thread, by switching between them at each `await`. A
call that blocks (time.sleep, requests, open(), subprocess.run, a synchronous database driver)
stops every other request for as long as it takes. `workshop.graders.architecture` reads your files and
names each such call with its file and line.
"""

import pytest

from workshop import grading
from workshop.graders import architecture

pytestmark = pytest.mark.step(3)


def test_no_async_function_blocks_the_event_loop() -> None:
    """Hint: inside `async def`, wait with `await`: asyncio.sleep, httpx.AsyncClient, anyio.Path, the async engine."""
    grading.require_finished(["app/routers", "app/dependencies"], "async all the way is graded on your routes", 3)
    app_dir = grading.folder() / "app"
    found = [call.message(grading.lesson(), grading.folder()) for call in architecture.blocking_calls(app_dir)]
    assert not found, f"{found[0]} (step 3)" + (f" ({len(found) - 1} more)" if len(found) > 1 else "")
