### BEGIN SOLUTION write the contract test: v1's part of the app's OpenAPI document (its paths and every schema they reference) equals tests/contracts/v1-openapi.json (step 5)
"""v1's contract is frozen: its part of the OpenAPI document equals the committed snapshot.

v1 is deprecated and will be switched off, but until its Sunset its clients rely on every path,
parameter, status and field it documents. This test fails on any change to that part: a field
added to a shared DTO, a limit changed, an error answered differently. Such a change belongs in v2.

A deliberate change of v1 (there should be none) updates the snapshot in the same commit, where a
reviewer sees it:

    uv run python -m tests.test_v1_contract > tests/contracts/v1-openapi.json
"""

import json
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from app.core.config import Environment, Settings
from app.main import create_app

SNAPSHOT = Path(__file__).parent / "contracts" / "v1-openapi.json"
V1 = "/api/v1/"


def references(node: Any) -> set[str]:
    """The names of the component schemas `node` refers to ($ref), directly."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(references(value) for value in node))
    return set()


def v1_contract(document: dict[str, Any]) -> dict[str, Any]:
    """v1's paths, and every component schema they reach, however indirectly."""
    paths = {path: item for path, item in document["paths"].items() if path.startswith(V1)}
    schemas = document.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    todo = references(paths)
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo |= references(schemas.get(name, {}))
    return {"paths": paths, "schemas": {name: schemas[name] for name in sorted(reached) if name in schemas}}


def current_contract() -> dict[str, Any]:
    """v1's contract as the app documents it now. Building the app connects to nothing."""
    settings = Settings(environment=Environment.TEST, secret_key=SecretStr("tests-only-not-a-secret-but-32-bytes-long"))
    return v1_contract(create_app(settings).openapi())


def test_v1s_contract_is_the_committed_snapshot() -> None:
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    current = current_contract()
    changed = sorted(
        f"{kind} {name}"
        for kind in ("paths", "schemas")
        for name in set(snapshot[kind]) | set(current[kind])
        if snapshot[kind].get(name) != current[kind].get(name)
    )
    assert current == snapshot, f"v1's contract changed: {', '.join(changed)}. Make the change in v2."


if __name__ == "__main__":
    print(json.dumps(current_contract(), indent=2, sort_keys=True))
### END SOLUTION
