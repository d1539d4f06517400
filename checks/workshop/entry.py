"""`uv run workshop …`: the front door. The hot path, `workshop check NN`, runs without loading the
full CLI (typer and rich cost a third of a second), so a save is graded as soon as possible.
Everything else goes to `workshop.cli`.
"""

from __future__ import annotations

import sys


def main() -> None:
    words = sys.argv[1:]
    if len(words) == 2 and words[0] == "check" and not words[1].startswith("-"):
        from workshop.lessons import REPO, LessonNotFound, lesson

        try:
            found = lesson(words[1])
        except LessonNotFound as error:
            print(f"✗ {error}")
            sys.exit(2)
        from workshop import worker

        try:
            sys.exit(worker.run([str(found.path.relative_to(REPO))], cwd=REPO))
        except KeyboardInterrupt:
            sys.exit(130)
    from workshop.cli import main as cli

    cli()
