"""What the checks apply to a learner's work: layer rules, ruff and mypy, seeded bugs, Docker rules."""
