"""The instructor's page, rendered on the server: plain HTML, one stylesheet, one small script.

`room_html` is the part that changes; the page's script replaces it whenever the server sends a
new one (Server-Sent Events). Every text that comes from a learner passes through `escape`.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from workshop.classroom.protocol import INSTRUCTOR
from workshop.classroom.server.schemas import LearnerOut, RoomOut, StandingOut
from workshop.results import CheckResult

STUCK_SHOWN = 5  # learners in the "stuck longest" list
FAILING_SHOWN = 10  # checks in the "failing now" list
EVENTS = f"{INSTRUCTOR}/events"
STYLESHEET = f"{INSTRUCTOR}/room.css"
SCRIPT = f"{INSTRUCTOR}/live.js"


def sentence(check: str) -> str:
    """test_a_transfer_is_refused[0] → "a transfer is refused [0]", as the scorecard says it."""
    return CheckResult(nodeid="", name=check, step=0).sentence


def minutes(value: float) -> str:
    whole = int(value)
    if whole < 1:
        return "just now"
    if whole < 60:
        return f"{whole} min"
    return f"{whole // 60} h {whole % 60:02d} min"


def _working_on(standing: StandingOut | None) -> str:
    if standing is None:
        return '<span class="quiet">no run yet</span>'
    if standing.next_check is None:
        return f"lesson {escape(standing.lesson)}: all {standing.graded} checks pass"
    step = f" (step {standing.next_step})" if standing.next_step is not None else ""
    return (
        f'lesson {escape(standing.lesson)} · <span class="check">{escape(sentence(standing.next_check))}</span>'
        f"{escape(step)}"
    )


def _cell(lesson: str, standing: StandingOut | None) -> str:
    if standing is None:
        return f'<td class="cell none" data-lesson="{escape(lesson)}" title="not started">·</td>'
    if standing.graded and standing.passed == standing.graded:
        state = "done"
    elif standing.passed:
        state = "partial"
    else:
        state = "started"
    title = "every check passes" if state == "done" else f"next: {sentence(standing.next_check or '')}"
    return (
        f'<td class="cell {state}" data-lesson="{escape(lesson)}" title="{escape(title)}">'
        f"{standing.passed}/{standing.graded}</td>"
    )


def _row(learner: LearnerOut, lessons: list[str]) -> str:
    cells = "".join(_cell(lesson, learner.lessons.get(lesson)) for lesson in lessons)
    return (
        f'<tr data-learner="{escape(learner.name)}"><th scope="row">{escape(learner.name)}</th>'
        f'<td class="current">{_working_on(learner.current)}</td>'
        f'<td class="minutes">{minutes(learner.minutes_since_progress)}</td>{cells}</tr>'
    )


def _stuck(room: RoomOut) -> str:
    if not room.stuck:
        return '<p class="quiet">Nobody has been on the same check for long.</p>'
    by_name = {learner.name: learner for learner in room.learners}
    items = "".join(
        f'<li><b>{escape(name)}</b> <span class="minutes">{minutes(by_name[name].stuck_minutes or 0)}</span> '
        f"on {_working_on(by_name[name].current)}</li>"
        for name in room.stuck[:STUCK_SHOWN]
    )
    return f"<ol>{items}</ol>"


def _failing(room: RoomOut) -> str:
    if not room.failing:
        return '<p class="quiet">No check fails in anybody\'s latest run.</p>'
    rows = "".join(
        f"<tr><td>{escape(item.lesson)}</td><td>{escape(sentence(item.check))}</td><td>{item.step}</td>"
        f'<td class="count">{item.next_for or ""}</td>'
        # optimum 0: the browser draws a share over `high` (half the room) red, over `low` (a quarter) amber.
        f'<td class="share"><meter min="0" max="{item.of}" low="{item.of / 4:g}" high="{item.of / 2:g}" optimum="0" '
        f'value="{item.failing}"></meter> {item.failing} of {item.of}</td></tr>'
        for item in room.failing[:FAILING_SHOWN]
    )
    return (
        '<table class="failing"><thead><tr><th>lesson</th><th>check</th><th>step</th>'
        '<th title="learners whose next failing check it is">held up</th><th>fail it</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def room_html(room: RoomOut) -> str:
    """The part of the page that changes: the panels and the grid."""
    header = "".join(f'<th scope="col">{escape(lesson)}</th>' for lesson in room.lessons)
    rows = "".join(_row(learner, room.lessons) for learner in room.learners)
    if not rows:
        rows = (
            f'<tr><td colspan="{len(room.lessons) + 3}" class="quiet">Nobody has joined yet. Learners run '
            "<code>uv run workshop class join URL CODE --name NAME</code> with the address and code "
            "<code>workshop class serve</code> printed.</td></tr>"
        )
    joined = len(room.learners)
    return (
        f'<div id="room" data-at="{room.at.isoformat()}">'
        f'<p class="summary">{joined} learner{"" if joined == 1 else "s"} · updated {_clock(room.at)}</p>'
        '<div class="panels">'
        f'<section class="panel" id="stuck"><h2>Stuck longest on one check</h2>{_stuck(room)}</section>'
        f'<section class="panel" id="failing"><h2>Failing now</h2>{_failing(room)}</section>'
        "</div>"
        '<table id="grid"><thead><tr><th scope="col">learner</th><th scope="col">working on</th>'
        f'<th scope="col">since progress</th>{header}</tr></thead><tbody>{rows}</tbody></table>'
        "</div>"
    )


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M:%S UTC")


def page_html(room: RoomOut) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(room.title)} · the room</title>"
        f'<link rel="stylesheet" href="{STYLESHEET}"><script src="{SCRIPT}" defer></script>'
        '<noscript><meta http-equiv="refresh" content="15"></noscript></head>'
        f'<body><header><h1>{escape(room.title)}</h1><span id="live" class="live">connecting…</span></header>'
        f"<main>{room_html(room)}</main></body></html>\n"
    )


def message_html(title: str, text: str) -> str:
    """A page that only says something (a wrong or missing key)."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="{STYLESHEET}"></head>'
        f"<body><header><h1>{escape(title)}</h1></header><main><p>{text}</p></main></body></html>\n"
    )


SCRIPT_TEXT = """\
// The room, live: the server sends the redrawn room whenever a result arrives (Server-Sent Events),
// and the browser reconnects by itself when the connection drops.
const live = document.getElementById("live");
const source = new EventSource("EVENTS");
source.addEventListener("open", () => {
  live.textContent = "live";
  live.className = "live on";
});
source.addEventListener("error", () => {
  live.textContent = "reconnecting…";
  live.className = "live off";
});
source.addEventListener("room", (event) => {
  document.getElementById("room").outerHTML = event.data;
});
""".replace("EVENTS", EVENTS)

STYLESHEET_TEXT = """\
:root { color-scheme: light dark; --done: #2e7d32; --partial: #f9a825; --started: #c62828; --none: #9e9e9e; }
body { font-family: system-ui, sans-serif; margin: 0 1.5rem 2rem; }
header { display: flex; align-items: baseline; gap: 1rem; }
h1 { font-size: 1.4rem; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
.live { font-size: .85rem; padding: .1rem .5rem; border-radius: 1rem; border: 1px solid var(--none); }
.live.on { color: var(--done); border-color: var(--done); }
.live.off { color: var(--started); border-color: var(--started); }
.summary, .quiet { color: #777; }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(24rem, 1fr)); gap: 1rem; margin-bottom: 1rem; }
.panel { border: 1px solid #ccc5; border-radius: .5rem; padding: .75rem 1rem; }
.panel ol { margin: 0; padding-left: 1.25rem; }
.panel li { margin: .2rem 0; }
table { border-collapse: collapse; }
th, td { padding: .3rem .5rem; text-align: left; border-bottom: 1px solid #ccc5; }
#grid thead th { position: sticky; top: 0; background: Canvas; }
.cell { text-align: center; min-width: 3rem; font-variant-numeric: tabular-nums; color: white; }
.cell { border: 2px solid Canvas; }
.cell.done { background: var(--done); }
.cell.partial { background: var(--partial); color: black; }
.cell.started { background: var(--started); }
.cell.none { background: transparent; color: var(--none); }
.minutes { font-variant-numeric: tabular-nums; white-space: nowrap; color: #777; }
.check { font-style: italic; }
meter { width: 5rem; }
.share { white-space: nowrap; }
.count { text-align: right; font-variant-numeric: tabular-nums; }
"""
