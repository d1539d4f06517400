"""The learner's side of the classroom: join once, then every whole-lesson run is queued and sent.

    uv run workshop class join http://10.0.0.5:8002 K7QM-4XPD --name "Ada"

`join` trades the class code for a token of the learner's own, kept in `.workshop/class.json`
(readable by the learner only). From then on the plugin calls `after_run` at the end of each
whole-lesson run: it writes the RunReport to `.workshop/outbox/` and starts a detached sender
(`python -m workshop.classroom.sender`) that posts the queue, oldest first, with a short timeout.
The run itself never waits for the network: queueing is a file write and a process start. A
report that could not be sent (the server is down, slow or unreachable) stays queued, and the
sender of a later run sends it. Each queued report has a run id, so a report sent twice is
recorded once.

Standard library only (urllib): this module runs inside every learner's pytest process.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workshop.classroom import protocol
from workshop.lessons import REPO, STATE
from workshop.results import RunReport

MEMBERSHIP = STATE / "class.json"
OUTBOX = STATE / "outbox"
REJECTED = "rejected"  # outbox/rejected/: reports the server refused for good (kept, never resent)
LAST_ERROR = "last-error.txt"  # outbox/last-error.txt: why the last send stopped
LOCK = ".sending"  # outbox/.sending: one sender at a time
SEND_TIMEOUT = 3.0  # seconds for one post, in the detached sender
JOIN_TIMEOUT = 10.0
MAX_QUEUED = 200  # the oldest queued reports beyond this are dropped (a class server gone for good)
SENDER_BUDGET = 60.0  # seconds one sender may run; a lock older than this is stale


class ClassError(Exception):
    """Joining or sending failed; the message says why and what to do."""


@dataclass(frozen=True)
class Membership:
    """What `class join` keeps: the server, the learner's name and their token."""

    url: str
    name: str
    learner_id: str
    token: str
    title: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> Membership | None:
        path = path or MEMBERSHIP
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            fields = {key: str(data[key]) for key in ("url", "name", "learner_id", "token")}
            return cls(**fields, title=str(data.get("title", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path | None = None) -> None:
        path = path or MEMBERSHIP
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created readable by the learner only: the token is theirs.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(asdict(self), file, indent=2)


# --- talking to the server --------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (unreachable, timed out)
    body: dict[str, Any]
    error: str = ""


def _request(
    method: str, url: str, payload: object | None, token: str | None = None, timeout: float = SEND_TIMEOUT
) -> Answer:
    import urllib.error
    import urllib.request

    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, _json(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _json(error.read()), f"HTTP {error.code}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Answer(0, {}, protocol.redact(str(reason)))


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _detail(answer: Answer) -> str:
    detail = answer.body.get("detail")
    if isinstance(detail, list):  # FastAPI's validation errors
        return "; ".join(str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail)
    return str(detail or answer.error or f"HTTP {answer.status}")


def server_url(url: str) -> str:
    """The class server's base URL as a learner may type it: `10.0.0.5:8002` → `http://10.0.0.5:8002`."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    if not url.startswith(("http://", "https://")):
        raise ClassError(f"{url} is not a web address: give the one the instructor shows, like http://10.0.0.5:8002")
    return url


def join(url: str, code: str, name: str, timeout: float = JOIN_TIMEOUT) -> Membership:
    """Join the class at `url` with its code, under `name`; the membership is saved in .workshop/class.json."""
    url, name = server_url(url), " ".join(name.split())
    if not protocol.valid_name(name):
        raise ClassError(
            f"{name!r} cannot be a name here: 1 to {protocol.MAX_NAME} letters, digits, spaces, dots, "
            "dashes or apostrophes, starting with a letter or digit."
        )
    answer = _request("POST", url + protocol.JOIN, {"code": code, "name": name}, timeout=timeout)
    if answer.status == 0:
        raise ClassError(f"Cannot reach the class server at {url}: {answer.error}. Check the address and your network.")
    if answer.status != 201:
        raise ClassError(f"The class server refused to let you join: {_detail(answer)}")
    membership = Membership(
        url=url,
        name=str(answer.body["name"]),
        learner_id=str(answer.body["learner_id"]),
        token=str(answer.body["token"]),
        title=str(answer.body.get("title", "")),
    )
    membership.save()
    return membership


def leave() -> Membership | None:
    """Forget the class: the membership and the queue; the results files stay."""
    membership = Membership.load()
    MEMBERSHIP.unlink(missing_ok=True)
    for path in _queued():
        path.unlink(missing_ok=True)
    return membership


# --- the queue ---------------------------------------------------------------------------------


def trimmed(report: RunReport) -> dict[str, Any]:
    """The report as it is posted: the results file's content, long texts cut to the server's limits."""
    data = report.to_dict()
    for check in data["checks"][: protocol.MAX_CHECKS]:
        check["message"] = _cut(check["message"], protocol.MAX_MESSAGE)
        check["hint"] = _cut(check["hint"], protocol.MAX_HINT)
        check["name"] = _cut(check["name"], protocol.MAX_CHECK_NAME)
        check["nodeid"] = _cut(check["nodeid"], protocol.MAX_NODEID)
    data["collection_errors"] = [
        _cut(nodeid, protocol.MAX_NODEID) for nodeid in data["collection_errors"][: protocol.MAX_COLLECTION_ERRORS]
    ]
    return data


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def enqueue(report: RunReport, folder: Path | None = None) -> Path:
    """Queue a report for the class server; the oldest beyond MAX_QUEUED are dropped."""
    folder = folder or OUTBOX
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"run_id": str(uuid.uuid4()), "result": trimmed(report)}
    path = folder / f"{time.time_ns():020d}-{report.lesson}.json"
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(entry), encoding="utf-8")
    scratch.replace(path)  # whole or not at all: a sender never reads half a report
    for old in _queued(folder)[:-MAX_QUEUED]:
        old.unlink(missing_ok=True)
    return path


def _queued(folder: Path | None = None) -> list[Path]:
    folder = folder or OUTBOX
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def queued() -> int:
    return len(_queued())


def after_run(report: RunReport) -> None:
    """The plugin's hook after a whole-lesson run: queue the report and start a sender, if joined.

    Never raises and never waits on the network: the learner's run must not notice the classroom.
    """
    try:
        if not MEMBERSHIP.is_file():
            return
        enqueue(report)
        start_sender()
    except Exception:  # nothing here may break or slow a learner's run; the results file has the run anyway
        return


def start_sender() -> None:
    """`python -m workshop.classroom.sender` in a process of its own that outlives this one."""
    detached: dict[str, Any] = {"start_new_session": True}
    if sys.platform == "win32":
        flags = ("DETACHED_PROCESS", "CREATE_NEW_PROCESS_GROUP", "CREATE_NO_WINDOW")
        detached = {"creationflags": sum(getattr(subprocess, flag, 0) for flag in flags)}
    subprocess.Popen(
        [sys.executable, "-m", "workshop.classroom.sender"],
        cwd=REPO,
        env={**os.environ, "WORKSHOP_ROOT": str(REPO)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        **detached,
    )


# --- sending -------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one pass over the queue did."""

    sent: int = 0
    rejected: int = 0
    left: int = 0
    error: str = ""  # why it stopped early, if it did
    busy: bool = False  # another sender holds the queue


@contextlib.contextmanager
def _sending(folder: Path) -> Iterator[bool]:
    """Hold the queue's lock (a file made with O_EXCL); yield False if another live sender holds it."""
    lock = folder / LOCK
    try:
        if time.time() - lock.stat().st_mtime > SENDER_BUDGET:
            lock.unlink(missing_ok=True)  # left by a sender that died
    except OSError:
        pass
    try:
        descriptor = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        yield False
        return
    os.write(descriptor, str(os.getpid()).encode())
    os.close(descriptor)
    try:
        yield True
    finally:
        lock.unlink(missing_ok=True)


def deliver(timeout: float = SEND_TIMEOUT, folder: Path | None = None) -> Delivery:
    """Post the queued reports, oldest first; stop at the first that cannot be sent now."""
    folder = folder or OUTBOX
    membership = Membership.load()
    done = Delivery()
    if membership is None or not folder.is_dir():
        done.left = len(_queued(folder))
        return done
    started = time.monotonic()
    with _sending(folder) as mine:
        if not mine:
            done.busy, done.left = True, len(_queued(folder))
            return done
        pending = _queued(folder)
        for index, path in enumerate(pending):
            if time.monotonic() - started > SENDER_BUDGET - timeout:
                done.left = len(pending) - index
                break
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                path.unlink(missing_ok=True)  # half a file cannot be sent; the results file still has the run
                continue
            answer = _request("POST", membership.url + protocol.RESULTS, entry, membership.token, timeout)
            if answer.status in (200, 201):
                path.unlink(missing_ok=True)
                done.sent += 1
            elif 400 <= answer.status < 500 and answer.status not in (401, 403, 408, 429):
                # Refused for good (a lesson the server does not know, a report it cannot read): keep it aside.
                (folder / REJECTED).mkdir(exist_ok=True)
                path.replace(folder / REJECTED / path.name)
                done.rejected += 1
                done.error = f"the server refused {path.name}: {_detail(answer)}"
            else:
                # Down, slow, or not accepting this token now (401/403: a server reset): keep it for later.
                done.left = len(pending) - index
                done.error = (
                    f"{membership.url}: {_detail(answer)}" if answer.status else f"{membership.url}: {answer.error}"
                )
                break
        if done.error:
            (folder / LAST_ERROR).write_text(protocol.redact(done.error), encoding="utf-8")
        else:
            (folder / LAST_ERROR).unlink(missing_ok=True)
    return done


def last_error() -> str:
    try:
        return (OUTBOX / LAST_ERROR).read_text(encoding="utf-8")
    except OSError:
        return ""
