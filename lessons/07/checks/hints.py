"""Hints that `uv run workshop hint 07` reveals one at a time, per failing check: a nudge, then more."""

from .bugs import SEEDED_BUGS

HINTS = {f"test_your_tests_catch_the_seeded_bug[{bug.name}]": list(bug.hints) for bug in SEEDED_BUGS}
