"""No workshop command loses a learner's work: anything about to be overwritten is saved first."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from workshop.authoring.build import Drift, write
from workshop.lessons import REPO, SAVED


def save(paths: list[Path], label: str) -> Path | None:
    """Copy the existing files among `paths` under .workshop/saved/<time>-<label>/; return it."""
    existing = [path for path in paths if path.is_file()]
    if not existing:
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = SAVED / f"{stamp}-{label}"
    for path in existing:
        relative = path.resolve().relative_to(REPO)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    return target


def replace_files(drifts: list[Drift], label: str) -> Path | None:
    """Write the generator's files over `drifts`, after saving what stood there; return the save."""
    saved = save([found.path for found in drifts if found.actual is not None], label)
    write(drifts)
    return saved
