"""Lesson 05 check: nothing in an `async def` of your services and repositories blocks the event loop.

One process serves every request on one thread, by switching between them at each `await`. A
call that blocks (time.sleep, a synchronous HTTP client, open()) stops every other request for as
long as it takes: a transfer that sleeps "to give the other request a moment" freezes them all.
`workshop.graders.architecture` reads your files and names each such call with its file and line.
"""

import re

import pytest

from workshop import grading
from workshop.graders import architecture

pytestmark = pytest.mark.step(4)

# The README step that teaches each function: a blocking call is reported with the step of its code.
STEPS = {
    ("app/services/accounts.py", "open"): "step 1",
    ("app/services/accounts.py", "get"): "step 1",
    ("app/services/accounts.py", "list"): "step 1",
    ("app/services/accounts.py", "deposit"): "step 2",
    ("app/services/accounts.py", "statement"): "step 2",
    ("app/services/transfers.py", "_lock_both"): "step 3",
    ("app/services/transfers.py", "transfer"): "steps 3-4",
}

SLEEP = (
    "it blocks the event loop inside `async def {function}`: while it sleeps, this process serves no other "
    "request. Nothing here needs to sleep: PostgreSQL makes a transfer wait for a row lock or a key by "
    "itself, and a sleep before a retry cannot help inside the transaction, which a database error has already "
    "aborted. Remove the sleep, and any retry around it: a database error goes up to get_session"
)


def message(call: architecture.Violation) -> str:
    """The grader's message for one blocking call, with the step of the code it is in."""
    where = call.path.relative_to(grading.folder()).as_posix()
    function = re.search(r"`async def (\w+)`", call.reason)
    name = function.group(1) if function else "?"
    step = STEPS.get((where, name), "step 4")
    if call.found == "time.sleep()":
        said = SLEEP.format(function=name)
        return f"Lesson {grading.lesson()}: {where}:{call.line} calls time.sleep(): {said} ({step})"
    return f"{call.message(grading.lesson(), grading.folder())} ({step})"


def test_no_async_function_blocks_the_event_loop() -> None:
    """Hint: inside `async def`, wait with `await`. To wait for another transaction, let PostgreSQL make you wait."""
    grading.require_finished(["app/services", "app/crud"], "async all the way is graded on your services", 4)
    found = [message(call) for call in architecture.blocking_calls(grading.folder() / "app")]
    assert not found, found[0] + (f" ({len(found) - 1} more)" if len(found) > 1 else "")
