"""What every pytest run imports anyway, loaded once by a process that forks the runs.

Both the warm worker (`workshop.worker`) and the fork server of graded suites (`workshop.runner`)
import these before they fork. Never the learner's `app`: every run imports the code it checks afresh.
The second half is what a run would otherwise import after the fork, each time (measured with
`sys.modules` before and after a one-test run of lesson 07's suite): about 30 ms per run.
"""

STACK = (
    "asyncpg",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "alembic.command",
    "alembic.config",
    "alembic.ddl.postgresql",
    "fastapi",
    "pydantic_settings",
    "httpx",
    "asgi_lifespan",
    "coverage",
    "pytest",
    "pytest_asyncio",
    "workshop.plugin",
    "workshop.fixtures",
    # imported by every run after it has started: pytest's own plugins, the event loop backend of
    # httpx's transport, the junit report lesson 07's grading reads (not pydantic.v1: it warns on 3.14)
    "_pytest.junitxml",
    "_pytest.skipping",
    "_pytest.unittest",
    "pdb",
    "anyio._backends._asyncio",
    "logging.config",
    "packaging.version",
    "fastapi.middleware.cors",
)
