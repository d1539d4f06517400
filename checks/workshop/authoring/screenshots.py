"""The instructor guide's pictures of the class view, made from a real class server.

    uv run python -m workshop.authoring.screenshots

Starts `workshop class serve` on a database of its own, runs the checks of lessons 00 to 03 on
their starters (real check names, steps and messages), seats a room of learners at different
points of those lessons, opens the instructor's page in Debian's Chromium (headless, through
Playwright, as the docs' browser test does) and saves docs/images/classroom-room.png and
docs/images/classroom-panels.png.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workshop.authoring.verify import run_checks
from workshop.classroom import client, protocol
from workshop.lessons import REPO, lesson
from workshop.results import Kind, Outcome, RunReport

CHROMIUM = Path(os.environ.get("WORKSHOP_CHROMIUM", "/usr/bin/chromium"))
# FIELD-NOTES "Browsers": without the networking flags Chromium floods a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IMAGES = REPO / "docs" / "images"
# name → (lesson, checks passing, minutes ago their run ended, minutes on their current check)
ROOM = {
    "Ada": ("03", 99, 2, 0),
    "Alan": ("02", 4, 1, 3),
    "Barbara": ("03", 3, 1, 6),
    "Edsger": ("02", 1, 2, 24),
    "Frances": ("03", 5, 3, 9),
    "Grace": ("02", 1, 1, 31),
    "Ken": ("01", 7, 4, 12),
    "Margaret": ("03", 3, 1, 2),
    "Radia": ("02", 6, 1, 4),
}


def progressed(starter: RunReport, passing: int, at: datetime) -> RunReport:
    """A learner's run: the starter's run with its first `passing` checks passing."""
    checks = [
        replace(check, outcome=Outcome.PASSED, kind=None, message="") if index < passing else check
        for index, check in enumerate(starter.checks)
    ]
    for check in checks:
        if check.outcome == Outcome.FAILED and check.kind == Kind.TODO:
            check.kind = Kind.TEACHING
    return replace(starter, checks=checks, at=at.isoformat(timespec="seconds"))


def posts(starters: dict[str, RunReport]) -> list[tuple[str, dict[str, Any]]]:
    """(learner, body) in the order they are sent: first where each learner got stuck, then their latest run."""
    now = datetime.now(UTC)
    sent: list[tuple[str, dict[str, Any]]] = []
    for name, (number, passing, minutes_ago, stuck_for) in ROOM.items():
        latest = progressed(starters[number], passing, now - timedelta(minutes=minutes_ago))
        if stuck_for > minutes_ago:
            earlier = replace(latest, at=(now - timedelta(minutes=stuck_for)).isoformat(timespec="seconds"))
            sent.append((name, {"run_id": str(uuid.uuid4()), "result": client.trimmed(earlier)}))
        sent.append((name, {"run_id": str(uuid.uuid4()), "result": client.trimmed(latest)}))
    return sent


async def seat_the_room(url: str, code: str, starters: dict[str, RunReport]) -> None:
    from loadtest.classroom import send

    tokens = {}
    for name in ROOM:
        status, body, _ = await send(url, "POST", protocol.JOIN, {"code": code, "name": name})
        assert status == 201, body
        tokens[name] = body["token"]
    for name, body in posts(starters):
        status, answer, _ = await send(url, "POST", protocol.RESULTS, body, tokens[name])
        assert status == 201, answer


def main() -> None:
    from loadtest.classroom import class_server

    starters = {number: run_checks(lesson(number).path).report for number in sorted({v[0] for v in ROOM.values()})}
    IMAGES.mkdir(parents=True, exist_ok=True)
    with class_server(title="Ledger workshop, day 1") as server:
        asyncio.run(seat_the_room(server.url, server.code, starters))
        photograph(server.instructor_link)
    print(f"wrote {IMAGES / 'classroom-room.png'} and {IMAGES / 'classroom-panels.png'}")


def photograph(link: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 900}, device_scale_factor=1)
            page.goto(link)
            page.wait_for_selector("#live.on", timeout=15_000)
            page.screenshot(path=str(IMAGES / "classroom-room.png"), full_page=True)
            page.locator(".panels").screenshot(path=str(IMAGES / "classroom-panels.png"))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
