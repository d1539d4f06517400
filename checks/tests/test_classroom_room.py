"""The classroom as a room uses it: `workshop class serve` as a process, learners' clones that join
it and run real lesson checks, the instructor's page read back, in a browser too; a class server
that is down or slow; twenty learners posting at once.

The server is the session's `class_server` (conftest.py): one process, one database, for the run.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from loadtest.classroom import ClassServer, load, report
from loadtest.stack import free_port

from workshop.authoring.verify import write_solution_tree
from workshop.classroom import client, protocol
from workshop.lessons import STATE, all_lessons, lesson
from workshop.results import RunReport

Clone = Callable[[str], Path]
CHROMIUM = Path(os.environ.get("WORKSHOP_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = STATE / "classroom" / "room.png"


def workshop(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`uv run workshop ARGS` in a learner's clone."""
    return subprocess.run(
        [sys.executable, "-c", "from workshop.cli import main; main()", *args],
        cwd=root,
        env={**os.environ, "WORKSHOP_ROOT": str(root), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def pytest_in(root: Path, number: str) -> subprocess.Popen[str]:
    """`uv run pytest lessons/NN` in a learner's clone, started (not waited for)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", f"lessons/{number}", "-p", "no:cacheprovider"],
        cwd=root,
        env={**os.environ, "WORKSHOP_ROOT": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def room_json(server: ClassServer) -> dict[str, Any]:
    request = urllib.request.Request(
        server.url + protocol.ROOM, headers={"Authorization": f"Bearer {server.instructor_token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        room: dict[str, Any] = json.load(answer)
        return room


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}")
        time.sleep(0.2)


def learners_in(server: ClassServer) -> dict[str, dict[str, Any]]:
    return {learner["name"]: learner for learner in room_json(server)["learners"]}


class Grid(HTMLParser):
    """The instructor page's grid: learner → (their "working on" text, lesson → "passed/graded")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, tuple[str, dict[str, str]]] = {}
        self._learner: str | None = None
        self._cell: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("data-learner"):
            self._learner = str(values["data-learner"])
            self.rows[self._learner] = ("", {})
        elif tag == "td" and self._learner is not None:
            if values.get("data-lesson"):
                self._cell = (str(values["data-lesson"]), [])
            elif values.get("class") == "current":
                self._cell = ("current", [])

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._learner is not None:
            key, text = self._cell
            _, cells = self.rows[self._learner]
            if key == "current":
                self.rows[self._learner] = ("".join(text), cells)
            else:
                cells[key] = "".join(text)
            self._cell = None
        elif tag == "tr":
            self._learner = None


def instructor_page(server: ClassServer) -> str:
    """The page as the instructor's browser gets it: the link once (a cookie), then the page."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(server.instructor_link, timeout=10) as answer:  # follows the redirect, with the cookie
        assert answer.url == server.url + protocol.INSTRUCTOR, "the token stays out of the page's address"
        return str(answer.read().decode("utf-8"))


# --- the room ----------------------------------------------------------------------------------------


def test_three_learners_join_run_real_checks_and_the_instructor_sees_the_grid(
    class_server: ClassServer, clone: Clone
) -> None:
    ada, grace, linus = clone("ada"), clone("grace"), clone("linus")
    for root, name in ((ada, "Ada"), (grace, "Grace"), (linus, "Linus")):
        joined = workshop(root, "class", "join", class_server.url, class_server.code, "--name", name)
        assert joined.returncode == 0, joined.stdout + joined.stderr
        assert f"You joined Tuesday's class as {name}" in joined.stdout
    write_solution_tree(lesson("00"), grace)  # Grace has finished lesson 00
    runs = [pytest_in(ada, "00"), pytest_in(grace, "00"), pytest_in(linus, "01")]
    for run in runs:
        output, _ = run.communicate(timeout=300)
        assert "scorecard" in output, output
    wait_for(
        lambda: all(learners_in(class_server).get(name, {}).get("current") for name in ("Ada", "Grace", "Linus")),
        "the three learners' results on the class server",
    )
    results = {
        name: RunReport.from_json((root / ".workshop/results" / f"{number}.json").read_text())
        for name, root, number in (("Ada", ada, "00"), ("Grace", grace, "00"), ("Linus", linus, "01"))
    }
    grid = Grid()
    grid.feed(instructor_page(class_server))
    for name, run in results.items():
        working_on, cells = grid.rows[name]
        assert cells[run.lesson] == f"{run.passed}/{len(run.graded)}", f"{name}: {cells}"
        assert set(cells) == {found.number for found in all_lessons()}, "a column per lesson"
        first = run.next_failing()
        if first is None:
            assert f"all {len(run.graded)} checks pass" in working_on
        else:
            assert f"lesson {run.lesson} · {first.sentence} (step {first.step})" in working_on, working_on
    assert results["Grace"].done and results["Ada"].passed == 0 and not results["Linus"].done
    # Nothing of the learners' tokens in the server's output; the instructor's only in its own banner.
    output = class_server.output()
    for root in (ada, grace, linus):
        token = json.loads((root / ".workshop/class.json").read_text())["token"]
        assert token not in output
        assert oct((root / ".workshop/class.json").stat().st_mode)[-3:] == "600", "the token is the learner's only"
    assert output.count(class_server.instructor_token) == 1, "the instructor's token appears in the banner only"
    assert "token=" not in output.replace(class_server.instructor_link, ""), "a query string reached a log"


# --- a class server that is down, slow, then back -------------------------------------------------------


@contextmanager
def joined_clone(clone: Clone, server: ClassServer, name: str) -> Iterator[tuple[Path, client.Membership]]:
    """A learner's clone that joined `server`, with this process's client pointed at it."""
    root = clone(name.lower())
    joined = workshop(root, "class", "join", server.url, server.code, "--name", name)
    assert joined.returncode == 0, joined.stdout + joined.stderr
    paths = {"MEMBERSHIP": root / ".workshop/class.json", "OUTBOX": root / ".workshop/outbox", "REPO": root}
    saved = {key: getattr(client, key) for key in paths}
    for key, value in paths.items():
        setattr(client, key, value)
    try:
        membership = client.Membership.load()
        assert membership is not None
        yield root, membership
    finally:
        for key, value in saved.items():
            setattr(client, key, value)


def sender_done(outbox: Path, timeout: float = client.SEND_TIMEOUT + 10) -> None:
    time.sleep(0.3)  # the detached sender takes the lock
    wait_for(lambda: not (outbox / client.LOCK).exists(), "the detached sender to finish", timeout)


def timed_after_run(passed: int) -> float:
    started = time.perf_counter()
    client.after_run(RunReport.from_json(json.dumps(report("00", passed))))
    return time.perf_counter() - started


def test_a_class_server_down_or_slow_never_slows_a_run_and_loses_nothing(
    class_server: ClassServer, clone: Clone
) -> None:
    with joined_clone(clone, class_server, "Kim") as (root, membership):
        outbox = root / ".workshop/outbox"
        down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        client.Membership(**{**membership.__dict__, "url": down}).save(client.MEMBERSHIP)
        assert timed_after_run(1) < 0.2, "queueing a result must not slow the run"
        sender_done(outbox)
        assert len(client._queued(outbox)) == 1 and down in client.last_error()

        with socket.socket() as slow:  # accepts connections and never answers
            slow.bind(("127.0.0.1", 0))
            slow.listen(8)
            address = f"http://127.0.0.1:{slow.getsockname()[1]}"
            client.Membership(**{**membership.__dict__, "url": address}).save(client.MEMBERSHIP)
            assert timed_after_run(2) < 0.2, "a slow class server must not slow the run"
            sender_done(outbox)
        assert len(client._queued(outbox)) == 2 and "timed out" in client.last_error()

        membership.save(client.MEMBERSHIP)  # the server is back: the next run sends everything queued
        assert timed_after_run(3) < 0.2
        sender_done(outbox)
        assert client._queued(outbox) == [] and client.last_error() == ""
    kim = learners_in(class_server)["Kim"]
    assert kim["lessons"]["00"]["passed"] == 3, "the runs arrive in order: the last one stands"
    (rows,) = _database_rows(
        class_server,
        "SELECT count(*) FROM classroom_results r JOIN classroom_learners l "
        "ON l.id = r.learner_id WHERE l.name = 'Kim'",
    )
    assert rows == [(3,)], "every queued run was recorded, once"


def _database_rows(server: ClassServer, sql: str) -> list[list[tuple[object, ...]]]:
    from workshop import database

    return database.run(database.execute(server.dsn, sql))


def test_a_whole_run_with_the_class_server_unreachable_ends_as_usual(clone: Clone) -> None:
    root = clone("offline")
    down = f"http://127.0.0.1:{free_port()}"
    client.Membership(down, "Offline", "0", protocol.LEARNER_PREFIX + "x" * 43).save(root / ".workshop/class.json")
    run = pytest_in(root, "00")
    output, _ = run.communicate(timeout=300)
    assert run.returncode == 1 and "Lesson 00: 0/" in output, output
    assert (root / ".workshop/results/00.json").is_file()
    sender_done(root / ".workshop/outbox")
    assert len(list((root / ".workshop/outbox").glob("*.json"))) == 1, "the result waits for the class server"


# --- load -------------------------------------------------------------------------------------------------


async def test_twenty_learners_posting_at_once_lose_nothing(class_server: ClassServer) -> None:
    # The full run is `uv run python -m loadtest.classroom` (200 learners); here, a small room.
    result = await load(class_server, learners=20, bursts=2, pause=0.1, prefix="Burst")
    print(f"classroom load, 20 learners x 2 bursts: {result.summary()}")
    assert result.problems(max_p99_ms=5000) == [], result.summary()


# --- the page in a browser --------------------------------------------------------------------------------


def test_the_instructors_page_shows_a_new_result_without_a_reload(class_server: ClassServer) -> None:
    from playwright.sync_api import sync_playwright

    from workshop.authoring.screenshots import CHROMIUM_ARGS

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is missing ({CHROMIUM}): `apt-get install chromium`, or set WORKSHOP_CHROMIUM.")
    status, joined = post_json(class_server.url + protocol.JOIN, {"code": class_server.code, "name": "Yoko"})
    assert status == 201, joined
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(class_server.instructor_link)
            assert page.url == class_server.url + protocol.INSTRUCTOR
            page.wait_for_selector("#live.on", timeout=15_000)
            page.evaluate("window.notReloaded = true")
            cell = page.locator('tr[data-learner="Yoko"] td[data-lesson="01"]')
            assert cell.inner_text() == "·", "Yoko has no result yet"
            body = {"run_id": "6f1f0f8e-1111-4a7e-9a57-3c7e4b7e2d11", "result": report("01", 9)}
            status, answer = post_json(class_server.url + protocol.RESULTS, body, joined["token"])
            assert status == 201, answer
            page.wait_for_function(
                '() => document.querySelector(\'tr[data-learner="Yoko"] td[data-lesson="01"]\')'
                "?.textContent === '9/14'",
                timeout=10_000,
            )
            assert page.evaluate("window.notReloaded") is True, "the page was reloaded"
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
    print(f"classroom screenshot: {SCREENSHOT}")


def post_json(url: str, payload: object, token: str = "") -> tuple[int, dict[str, Any]]:
    """A POST as the learners' client makes it (urllib); (status, JSON answer)."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, json.load(answer)


def test_the_instructor_guide_shows_the_room_with_its_screenshots() -> None:
    from workshop.lessons import REPO

    guide = (REPO / "docs" / "instructor.md").read_text(encoding="utf-8")
    assert "\n## Running the room\n" in guide
    section = guide.split("\n## Running the room\n")[1].split("\n## ")[0]
    images = [line.split("](")[1].split(")")[0] for line in section.splitlines() if line.startswith("![")]
    assert len(images) >= 2, "the section shows the room"
    for image in images:
        path = REPO / "docs" / image
        assert path.suffix == ".png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{image} is not a PNG"
        # Made by `uv run python -m workshop.authoring.screenshots` from a real class server.
