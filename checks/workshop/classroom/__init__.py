"""The classroom: a live view of the room for the instructor, fed by the learners' runs.

Two sides, one protocol (`protocol`: paths, limits, names, tokens):

- the learner's (`client`, `sender`), standard library only: `uv run workshop class join URL CODE
  --name NAME` trades the class code for a token of the learner's own; from then on every
  whole-lesson run queues its RunReport in `.workshop/outbox/` and starts a detached sender that
  posts the queue with a short timeout. A run never waits for the class server, and a report that
  could not be sent stays queued for the next run. Only the RunReport travels, never code.
- the instructor's (`server`): `uv run workshop class serve`, a small service written with the
  stack the workshop teaches (FastAPI, async SQLAlchemy 2 on asyncpg, PostgreSQL, Alembic), whose
  page shows the room live.
"""
