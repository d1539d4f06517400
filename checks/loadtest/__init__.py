"""Load and reliability tests of the finished reference service (the maintainers' tools).

    uv run python -m loadtest.bench          # reference vs raw baseline vs sync variant
    uv run python -m loadtest.storm          # >= 10,000 concurrent transfers, money conserved
    uv run python -m loadtest.fuzz           # schemathesis against /openapi.json

`stack` builds the finished service (the solution tree of the last lesson), gives it a migrated
database of its own and runs it under uvicorn; `baseline` and `sync_variant` are the two apps
it is compared with; `load` drives them with wrk (or a Python load generator) from another process.
"""
