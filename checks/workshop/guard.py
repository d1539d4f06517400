"""Keep a learner's own test suite away from the grader's files while it is graded (lesson 07 on).

A suite must test the app's behaviour. One that reads the workshop's checks (the seeded bugs),
the reference solutions or the learner's real checkout could pass the grading without testing
anything. The grader sets WORKSHOP_GUARD for the suite's process; the plugin then calls
`install()` before the suite's conftest.py is imported, and every attempt to open a file under a
guarded folder (or to run a program naming one) fails and is noted in a log the grader reads.
"""

from __future__ import annotations

import json
import os
import sys

ENV = "WORKSHOP_GUARD"  # JSON: {"roots": [folders], "log": file}


def settings(roots: list[str], log: str) -> str:
    """The value of WORKSHOP_GUARD for a suite that may not read `roots`; tries are noted in `log`."""
    return json.dumps({"roots": roots, "log": log})


def install() -> None:
    """Guard this process as WORKSHOP_GUARD says (and forget the variable); nothing when it is unset."""
    raw = os.environ.pop(ENV, "")
    if not raw:
        return
    config = json.loads(raw)
    prefixes = tuple(os.path.join(os.path.realpath(root), "") for root in config["roots"])
    log = str(config["log"])

    def refused(target: str) -> None:
        with open(log, "a", encoding="utf-8") as record:  # the log lies outside every guarded folder
            record.write(target + "\n")
        raise PermissionError(f"the workshop's own files are not for your tests to read: {target}")

    def hook(event: str, arguments: tuple[object, ...]) -> None:
        if event == "open" and arguments and isinstance(arguments[0], str | bytes | os.PathLike):
            target = os.path.realpath(os.fsdecode(arguments[0]))
            if os.path.join(target, "").startswith(prefixes):
                refused(target)
        elif event == "subprocess.Popen" and len(arguments) > 1:
            words = arguments[1] if isinstance(arguments[1], list | tuple) else [arguments[1]]
            for word in words:
                text = os.fsdecode(word) if isinstance(word, str | bytes | os.PathLike) else ""
                if any(prefix.rstrip(os.sep) in text for prefix in prefixes):
                    refused(text)

    sys.addaudithook(hook)


def tries(log: str | os.PathLike[str]) -> list[str]:
    """The guarded files a suite tried to open, in order, once each."""
    try:
        with open(log, encoding="utf-8") as record:
            lines = [line.strip() for line in record if line.strip()]
    except OSError:
        return []
    return list(dict.fromkeys(lines))
