"""One more run of your suite, on a copy of the app with a watcher planted in it: how do your fixtures drive the app?

The seeded bugs grade what your tests assert. Some mistakes in fixtures change no assertion and
still break the promise of a suite: a session that joins the test's transaction without
SAVEPOINTs, an engine built for every test, a client whose app never ran its lifespan, an
override of get_session that commits a failed request, rows that outlive their test, a fixture that
skips the tests that ask for it. The watcher (planted_watcher.py, written into the copy as
app/_workshop_watcher.py, and planted_conftest.py, written beside its tests/ as conftest.py) notes
each in a log; it changes nothing the app or the tests do. This run happens even when your suite
fails on the app as given, so that the checks can say when your fixtures are why.

This file is the grader's: your tests may not read it (they are stopped if they try).
"""

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from workshop import database
from workshop.edits import Edit
from workshop.graders import seeded

WATCHER = Path(__file__).with_name("planted_watcher.py")
SKIPS = Path(__file__).with_name("planted_conftest.py")  # notes the tests a fixture skips
SERVICES = "app/dependencies/services.py"

# The service dependencies tell the watcher which app serves each request, and which requests fail.
EDITS = [
    Edit(
        "from typing import Annotated\n\nfrom fastapi import Depends\n",
        "from collections.abc import AsyncIterator\nfrom typing import Annotated\n\n"
        "from fastapi import Depends, Request\n\nfrom app import _workshop_watcher as watcher\n",
        SERVICES,
    ),
    Edit(
        "async def get_account_service(session: SessionDep) -> AccountService:\n"
        '    """The account service of this request."""\n'
        "    return AccountService(session)\n",
        "async def get_account_service(request: Request, session: SessionDep) -> AsyncIterator[AccountService]:\n"
        "    watcher.request_served(request, session)\n"
        "    try:\n"
        "        yield AccountService(session)\n"
        "    except Exception:\n"
        "        watcher.request_failed(session)\n"
        "        raise\n",
        SERVICES,
    ),
    Edit(
        "async def get_transfer_service(session: SessionDep) -> TransferService:\n"
        '    """The transfer service of this request."""\n'
        "    return TransferService(session)\n",
        "async def get_transfer_service(request: Request, session: SessionDep) -> AsyncIterator[TransferService]:\n"
        "    watcher.request_served(request, session)\n"
        "    try:\n"
        "        yield TransferService(session)\n"
        "    except Exception:\n"
        "        watcher.request_failed(session)\n"
        "        raise\n",
        SERVICES,
    ),
    Edit(
        "Depends(get_account_service)]\n",
        'Depends(get_account_service, scope="function")]\n',
        SERVICES,
    ),
    Edit(
        "Depends(get_transfer_service)]\n",
        'Depends(get_transfer_service, scope="function")]\n',
        SERVICES,
    ),
]


@dataclass(frozen=True)
class Seen:
    """One thing the watcher noted, in the test that was running."""

    kind: str
    test: str
    detail: str = ""
    previous: str = ""  # "leftover": the test that used the database before this one
    previous_live: bool = False  # … and whether it used the app's own sessions (live_client)
    live: bool = False  # "settings": the request ran on the app's own sessions


@dataclass
class Watched:
    run: seeded.SuiteRun
    seen: list[Seen] = field(default_factory=list)

    def of(self, kind: str) -> list[Seen]:
        return [one for one in self.seen if one.kind == kind]


def plant(lesson: Path, number: str, log: Path) -> None:
    """Write the watcher into the copy at `lesson` and have the service dependencies call it."""
    seeded.edit_copy(lesson, number, EDITS)
    text = WATCHER.read_text(encoding="utf-8").replace("__WATCHER_LOG__", str(log))
    (lesson / "app" / "_workshop_watcher.py").write_text(text, encoding="utf-8")
    # Beside tests/, so that pytest loads it with the suite's own conftest.py.
    text = SKIPS.read_text(encoding="utf-8").replace("__WATCHER_LOG__", str(log))
    (lesson / "conftest.py").write_text(text, encoding="utf-8")


def read_log(log: Path) -> list[Seen]:
    if not log.is_file():
        return []
    return [Seen(**json.loads(line)) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


async def watch(folder: Path, number: str, *, server: database.Server, template: str | None) -> Watched:
    """Run the suite once on a copy of the app with the watcher planted; what it saw."""
    with tempfile.TemporaryDirectory(prefix=f"workshop-watched-{number}-") as scratch:
        lesson = seeded.copy_lesson(folder, Path(scratch))
        log = Path(scratch) / "watcher.jsonl"
        plant(lesson, number, log)
        name = database.run_database_name(f"{number}_watched")
        await database.create_database(server, name, template=template)
        try:
            run = await seeded.run_suite(
                lesson,
                server.database_url(name),
                timeout=seeded.REFERENCE_TIMEOUT,
                guarded=seeded.guarded_folders(folder),
            )
        finally:
            await database.drop_database(server, name)
        return Watched(run, read_log(log))
