"""The class server: `uv run workshop class serve`.

Laid out the way the lessons build Ledger, one module per layer: `config` (settings), `database`
(engine, sessions, migrations), `models`, `schemas` (the API's DTOs), `crud` (queries; they never
commit), `services` (the rules, the group-commit recorder and the room), `dependencies`
(sessions and tokens for the routes), `routers` (the API and the instructor's page, which
`page` renders) and `main` (the app and its lifespan). `serve` is the command.
"""
