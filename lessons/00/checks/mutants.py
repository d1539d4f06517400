"""Lesson 00's mutants: wrong solutions a reviewer would reject, each caught by the checks it names.

`uv run workshop verify 00` plants each one in a copy of the solution and proves that the named
checks fail with a `Lesson 00:` message containing `says`.
"""

from workshop.mutants import Mutant

MUTANTS = [
    Mutant(
        "core-package-without-docstring",
        path="app/core/__init__.py",
        find='"""Cross-cutting parts every layer may use: settings, logging, security helpers."""\n',
        replace="",
        killed_by=["test_each_layer_is_a_package_with_a_docstring[core]"],
        says="no docstring",
        why="an empty __init__.py says nothing of what the layer may hold",
    ),
    Mutant(
        "health-answers-a-string",
        find='    return {"status": "ok"}\n',
        replace='    return "ok"  # type: ignore[return-value]\n',
        killed_by=["test_health_answers_200_with_status_ok"],
        says='{"status": "ok"}',
        why="a bare string is not the JSON object load balancers and colleagues expect",
    ),
]
