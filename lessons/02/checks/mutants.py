"""Lesson 02's mutants: wrong solutions a reviewer would reject, each caught by the checks it names.

`uv run workshop verify 02` plants each one in a copy of the solution and proves that the named
checks fail with a `Lesson 02:` message containing `says`.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

DATABASE = "app/core/database.py"
SESSION = "app/dependencies/session.py"
MAIN = "app/main.py"
HEALTH = "app/routers/health.py"

MUTANTS = [
    # --- step 1: the engine and its pool ----------------------------------------------------
    Mutant(
        "pool-size-hard-coded",
        find="pool_size=settings.db_pool_size,",
        replace="pool_size=5,",
        killed_by=["test_the_engine_takes_its_pool_from_the_settings"],
        says="pool_size=5",
        why="a hard-coded pool ignores LEDGER_DB_POOL_SIZE: production cannot size it without a release",
    ),
    Mutant(
        "pool-timeout-recycle-pre-ping-dropped",
        find=(
            "        pool_timeout=settings.db_pool_timeout,\n"
            "        pool_recycle=settings.db_pool_recycle,\n"
            "        pool_pre_ping=settings.db_pool_pre_ping,\n"
        ),
        replace="",
        killed_by=["test_the_engine_takes_its_pool_from_the_settings"],
        says="pool_recycle",
        why="without recycle and pre-ping, connections dropped by a firewall fail the next request",
    ),
    Mutant(
        "echo-always-on",
        find="echo=settings.db_echo,",
        replace="echo=True,",
        killed_by=["test_the_engine_takes_its_pool_from_the_settings"],
        says="echo",
        why="SQL echo on in every environment floods the logs with statements and their parameters",
    ),
    Mutant(
        "engine-without-a-pool",
        find=(
            "    return create_async_engine(\n"
            "        settings.database_url,\n"
            "        pool_size=settings.db_pool_size,\n"
            "        max_overflow=settings.db_max_overflow,\n"
            "        pool_timeout=settings.db_pool_timeout,\n"
            "        pool_recycle=settings.db_pool_recycle,\n"
            "        pool_pre_ping=settings.db_pool_pre_ping,\n"
            "        echo=settings.db_echo,\n"
            "    )\n"
        ),
        replace=(
            '    # NullPool: avoids "attached to a different loop" errors in tests\n'
            "    return create_async_engine(settings.database_url, poolclass=NullPool, echo=settings.db_echo)\n"
        ),
        also=[
            Edit(
                find="from sqlalchemy.exc import DBAPIError\n",
                replace="from sqlalchemy.exc import DBAPIError\nfrom sqlalchemy.pool import NullPool\n",
                path=DATABASE,
            )
        ],
        killed_by=[
            "test_the_engine_takes_its_pool_from_the_settings",
            "test_the_lifespan_disposes_of_the_engine_on_shutdown",
            "test_health_uses_the_pool_of_the_apps_engine",
        ],
        says="keeps no pool of connections",
        why="a test workaround shipped: no pool at all, a new connection for every request, and the db_* settings ignored",
    ),
    Mutant(
        "sync-engine",
        find="    return create_async_engine(\n",
        replace="    return sqlalchemy.create_engine(  # type: ignore[return-value]\n",
        also=[Edit(find="import logging\n", replace="import logging\n\nimport sqlalchemy\n", path=DATABASE)],
        killed_by=["test_the_engine_takes_its_pool_from_the_settings"],
        says="create_async_engine",
        why="a synchronous engine blocks the event loop on every query (or fails with MissingGreenlet)",
    ),
    # --- step 2: the sessionmaker --------------------------------------------------------------
    Mutant(
        "expire-on-commit-left-on",
        find="return async_sessionmaker(engine, expire_on_commit=False)",
        replace="return async_sessionmaker(engine)",
        killed_by=["test_sessions_do_not_expire_objects_on_commit"],
        says="expire",
        why="after a commit, reading account.balance reloads it: MissingGreenlet under asyncio",
    ),
    Mutant(
        "sync-sessionmaker",
        find="return async_sessionmaker(engine, expire_on_commit=False)",
        replace="return sessionmaker(engine, expire_on_commit=False)  # type: ignore[call-overload,return-value]",
        also=[
            Edit(
                find="from app.core.config import Settings\n",
                replace="from sqlalchemy.orm import sessionmaker\n\nfrom app.core.config import Settings\n",
                path=DATABASE,
            )
        ],
        killed_by=["test_the_sessionmaker_makes_async_sessions_on_the_engine"],
        says="async_sessionmaker",
        why="a synchronous Session cannot be awaited: every query in an async route would block or fail",
    ),
    Mutant(
        "sessionmaker-on-its-own-engine",
        find="return async_sessionmaker(engine, expire_on_commit=False)",
        replace="return async_sessionmaker(create_async_engine(engine.url), expire_on_commit=False)",
        killed_by=["test_the_sessionmaker_makes_async_sessions_on_the_engine"],
        says="bound",
        why="a second engine means a second pool, which nobody configures and nobody disposes",
    ),
    # --- step 3: one session per request --------------------------------------------------------
    Mutant(
        "never-commits",
        find="        else:\n            await session.commit()\n",
        replace="",
        killed_by=["test_a_request_commits_its_writes_when_the_route_returns"],
        says="commit",
        why="without a commit, closing the session rolls every write back: nothing the API says it did is kept",
    ),
    Mutant(
        "commits-in-finally",
        find=(
            "        try:\n            yield session\n        except Exception:\n"
            "            await session.rollback()\n            raise\n        else:\n"
            "            await session.commit()\n"
        ),
        replace="        try:\n            yield session\n        finally:\n            await session.commit()\n",
        killed_by=["test_a_request_that_raises_rolls_back_its_writes"],
        says="roll back",
        why="a commit in `finally` keeps the half-done writes of a request that failed",
    ),
    Mutant(
        "swallows-the-error",
        find="            await session.rollback()\n            raise\n",
        replace="            await session.rollback()\n",
        killed_by=["test_a_request_that_raises_rolls_back_its_writes"],
        says="re-raise",
        why="swallowing the route's exception turns a 404 or 409 into something else for the client",
    ),
    Mutant(
        "module-level-shared-session",
        find=(
            "    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker\n"
            "    async with sessionmaker() as session:  # closing it returns the connection to the pool\n"
            "        try:\n"
        ),
        replace=(
            "    global _shared\n"
            "    if _shared is None:\n"
            "        _shared = request.app.state.sessionmaker()\n"
            "    session = _shared\n"
            "    if True:\n"
            "        try:\n"
        ),
        also=[
            Edit(
                find="async def get_session(",
                replace="_shared: AsyncSession | None = None\n\n\nasync def get_session(",
                path=SESSION,
            )
        ],
        killed_by=["test_two_concurrent_requests_never_share_a_session"],
        says="same AsyncSession",
        why="one session shared by concurrent requests mixes their transactions",
    ),
    Mutant(
        "not-closed-and-commits-only-changes",
        find=(
            "    async with sessionmaker() as session:  # closing it returns the connection to the pool\n"
            "        try:\n            yield session\n        except Exception:\n"
            "            await session.rollback()\n            raise\n        else:\n"
            "            await session.commit()\n"
        ),
        replace=(
            "    session = sessionmaker()\n"
            "    try:\n        yield session\n    except Exception:\n"
            "        await session.rollback()\n        raise\n    else:\n"
            "        if session.new or session.dirty or session.deleted:  # spare read-only requests a round trip\n"
            "            await session.commit()\n"
        ),
        killed_by=["test_the_connection_goes_back_to_the_pool_after_the_request[returns]"],
        says="still checked out",
        why="a read-only request's session is never closed: its connection stays idle in a transaction",
    ),
    Mutant(
        "not-closed-nor-rolled-back-on-error",
        find=(
            "    async with sessionmaker() as session:  # closing it returns the connection to the pool\n"
            "        try:\n            yield session\n        except Exception:\n"
            "            await session.rollback()\n            raise\n        else:\n"
            "            await session.commit()\n"
        ),
        replace=(
            "    session = sessionmaker()\n"
            "    try:\n        yield session\n    except Exception:\n"
            "        raise  # nothing was committed, so nothing to undo\n    else:\n"
            "        await session.commit()\n"
        ),
        killed_by=["test_the_connection_goes_back_to_the_pool_after_the_request[raises]"],
        says="roll back and close",
        why="a failed request keeps its connection idle in a transaction, holding its row locks, until the GC runs",
    ),
    Mutant(
        "session-dep-default-scope",
        find='Depends(get_session, scope="function")',
        replace="Depends(get_session)",
        killed_by=["test_a_commit_that_fails_is_never_answered_with_2xx"],
        says='scope="function"',
        why="the commit runs after the response is sent: the client is told 201 for writes that were lost",
    ),
    Mutant(
        "engine-per-request",
        find="    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker\n",
        replace=(
            "    sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(\n"
            "        create_engine(request.app.state.settings)\n"
            "    )\n"
        ),
        also=[
            Edit(
                find="from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n",
                replace=(
                    "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n\n"
                    "from app.core.database import create_engine, create_sessionmaker\n"
                ),
                path=SESSION,
            )
        ],
        killed_by=[
            "test_each_request_takes_its_session_from_the_apps_sessionmaker",
            "test_a_request_commits_its_writes_when_the_route_returns",
            "test_a_request_that_raises_rolls_back_its_writes",
            "test_two_concurrent_requests_never_share_a_session",
            "test_a_commit_that_fails_is_never_answered_with_2xx",
        ],
        says="request.app.state.sessionmaker",
        why="an engine per request opens a new pool (and a new connection) for every request, and never disposes it",
    ),
    Mutant(
        "session-never-closed",
        find=(
            "    async with sessionmaker() as session:  # closing it returns the connection to the pool\n"
            "        try:\n            yield session\n        except Exception:\n"
            "            await session.rollback()\n            raise\n        else:\n"
            "            await session.commit()\n"
        ),
        replace=(
            "    session = sessionmaker()\n"
            "    try:\n        yield session\n    except Exception:\n"
            "        await session.rollback()\n        raise\n    else:\n"
            "        await session.commit()\n"
        ),
        killed_by=["test_the_connection_goes_back_to_the_pool_after_the_request[commit_fails]"],
        says="never closed",
        why="a session never closed keeps its connection whenever the commit fails, until the garbage collector runs",
    ),
    # --- step 4: the lifespan ---------------------------------------------------------------------
    Mutant(
        "engine-created-in-create-app",
        find="    app.state.settings = settings if settings is not None else get_settings()\n",
        replace=(
            "    app.state.settings = settings if settings is not None else get_settings()\n"
            "    app.state.engine = create_engine(app.state.settings)\n"
        ),
        killed_by=["test_importing_the_app_opens_no_connection"],
        says="lifespan",
        why="building the app builds the pool: every import (a script, Alembic, a test) owns an engine nobody disposes",
    ),
    Mutant(
        "engine-created-at-import",
        find="@asynccontextmanager\nasync def lifespan(",
        replace="engine = create_engine(get_settings())\n\n\n@asynccontextmanager\nasync def lifespan(",
        also=[Edit(find="    engine = create_engine(app.state.settings)\n", replace="", path=MAIN)],
        killed_by=["test_importing_the_app_opens_no_connection"],
        says="import",
        why="an engine made at import ignores the settings create_app() gets, and no lifespan disposes of it",
    ),
    Mutant(
        "create-app-ignores-its-settings",
        find="    app.state.settings = settings if settings is not None else get_settings()\n",
        replace="    app.state.settings = get_settings()\n",
        killed_by=["test_the_lifespan_puts_an_engine_and_a_sessionmaker_on_app_state"],
        says="create_app(settings)",
        why="a test or a script that passes its own settings silently gets the environment's database",
    ),
    Mutant(
        "no-lifespan",
        find="        lifespan=lifespan,\n",
        replace="",
        killed_by=[
            "test_the_lifespan_puts_an_engine_and_a_sessionmaker_on_app_state",
            "test_health_uses_the_pool_of_the_apps_engine",
        ],
        says="lifespan=lifespan",
        why="without the lifespan no engine is ever created: every request fails",
    ),
    Mutant(
        "lifespan-ignores-the-apps-settings",
        find="    engine = create_engine(app.state.settings)\n",
        replace="    engine = create_engine(get_settings())\n",
        killed_by=["test_the_lifespan_puts_an_engine_and_a_sessionmaker_on_app_state"],
        says="settings",
        why="the settings a test or a script passes to create_app are silently ignored",
    ),
    Mutant(
        "sessionmaker-on-a-second-engine",
        find="    app.state.sessionmaker = create_sessionmaker(engine)\n",
        replace="    app.state.sessionmaker = create_sessionmaker(create_engine(app.state.settings))\n",
        killed_by=["test_the_lifespan_puts_an_engine_and_a_sessionmaker_on_app_state"],
        says="create_sessionmaker(engine)",
        why="the sessions use a second pool that the lifespan never disposes",
    ),
    Mutant(
        "never-disposes",
        find="        await app.state.engine.dispose()\n",
        replace="        pass\n",
        killed_by=["test_the_lifespan_disposes_of_the_engine_on_shutdown"],
        says="dispose",
        why="connections stay open after shutdown; PostgreSQL sees them vanish instead of closing",
    ),
    # --- step 5: health -----------------------------------------------------------------------------
    Mutant(
        "database-is-up-catches-everything",
        find="    except (OSError, DBAPIError) as error:",
        replace="    except Exception as error:",
        killed_by=["test_database_is_up_does_not_hide_bugs"],
        says="OSError and DBAPIError",
        why="a bug in the code then looks like an outage, and the health check hides it",
    ),
    Mutant(
        "database-is-up-never-catches",
        find=(
            '    try:\n        await session.execute(text("SELECT 1"))\n'
            "    except (OSError, DBAPIError) as error:  # refused, no such host or socket, timeout; "
            "or the server said no\n"
            '        logger.warning("database unreachable: %s", error)\n        return False\n'
        ),
        replace='    await session.execute(text("SELECT 1"))\n',
        killed_by=["test_database_is_up_says_false_when_the_database_is_unreachable"],
        says="return False",
        why="an outage becomes a 500 with a traceback instead of a 503 the load balancer understands",
    ),
    Mutant(
        "database-is-up-catches-only-oserror",
        find="    except (OSError, DBAPIError) as error:",
        replace="    except OSError as error:",
        killed_by=["test_database_is_up_says_false_when_the_server_refuses"],
        says="DBAPIError",
        why="a server that refuses (no such database, wrong password) turns the health check into a 500",
    ),
    Mutant(
        "database-is-up-misses-oserror",
        find="    except (OSError, DBAPIError) as error:",
        replace="    except DBAPIError as error:",
        killed_by=[
            "test_database_is_up_says_false_when_the_database_is_unreachable",
            "test_health_answers_503_when_the_database_is_unreachable",
        ],
        says="catch the connection errors",
        why="a refused connection is an OSError: while the database is down, /health answers 500 instead of 503",
    ),
    Mutant(
        "database-is-up-sleeps-before-giving-up",
        find='        logger.warning("database unreachable: %s", error)\n',
        replace=(
            '        logger.warning("database unreachable: %s", error)\n'
            "        time.sleep(2)  # give a restarting database a moment before saying it is down\n"
        ),
        also=[Edit(find="import logging\n", replace="import logging\nimport time\n", path=DATABASE)],
        killed_by=["test_database_is_up_never_blocks_the_event_loop"],
        says="blocks",
        why="time.sleep in async code freezes every request of the process while the database is down",
    ),
    Mutant(
        "database-is-up-without-a-query",
        find='        await session.execute(text("SELECT 1"))\n',
        replace="        assert session.is_active\n",
        killed_by=["test_database_is_up_says_false_when_the_database_is_unreachable"],
        says="unreachable",
        why="a health check that never asks the database says ok while it is down",
    ),
    Mutant(
        "database-is-up-returns-the-row",
        find='        await session.execute(text("SELECT 1"))\n',
        replace='        return bool(await session.scalar(text("SELECT 1")) == "1")\n',
        killed_by=["test_database_is_up_says_true_when_the_database_answers"],
        says="working database",
        why="comparing the row to a string says the database is down when it answers",
    ),
    Mutant(
        "health-ignores-the-answer",
        find="    if await database_is_up(session):\n",
        replace="    if await database_is_up(session) or True:\n",
        killed_by=["test_health_answers_503_when_the_database_is_unreachable"],
        says="503",
        why="a health check that answers 200 while the database is down keeps the traffic coming",
    ),
    Mutant(
        "health-raises-503",
        find="    response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE\n",
        replace='    raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "database unreachable")\n',
        also=[
            Edit(
                find="from fastapi import APIRouter, Response, status",
                replace="from fastapi import APIRouter, HTTPException, Response, status",
                path=HEALTH,
            )
        ],
        killed_by=["test_health_answers_503_when_the_database_is_unreachable"],
        says="degraded",
        why="the body becomes {'detail': …}: the contract says status and database",
    ),
    Mutant(
        "health-keeps-lesson-00-body",
        find='        return {"status": "ok", "database": "ok"}\n',
        replace='        return {"status": "ok"}\n',
        killed_by=["test_health_says_ok_when_the_database_answers"],
        says='"database": "ok"',
        why="the body does not say whether the database answered",
    ),
    Mutant(
        "health-opens-its-own-engine",
        find="    if await database_is_up(session):\n",
        replace=(
            "    engine = create_engine(get_settings())\n"
            "    try:\n"
            "        async with AsyncSession(engine) as own:\n"
            "            up = await database_is_up(own)\n"
            "    finally:\n"
            "        await engine.dispose()\n"
            "    if up:\n"
        ),
        also=[
            Edit(
                find="from app.core.database import database_is_up\n",
                replace=(
                    "from sqlalchemy.ext.asyncio import AsyncSession\n\n"
                    "from app.core.config import get_settings\n"
                    "from app.core.database import create_engine, database_is_up\n"
                ),
                path=HEALTH,
            )
        ],
        killed_by=["test_health_uses_the_pool_of_the_apps_engine"],
        says="app.state.engine",
        why="an engine per health probe opens a new connection every few seconds and bypasses the pool",
    ),
    Mutant(
        "engine-per-request-seen-by-health",
        find="    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker\n",
        replace=(
            "    sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(\n"
            "        create_engine(request.app.state.settings)\n"
            "    )\n"
        ),
        also=[
            Edit(
                find="from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n",
                replace=(
                    "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n\n"
                    "from app.core.database import create_engine, create_sessionmaker\n"
                ),
                path=SESSION,
            )
        ],
        killed_by=["test_health_uses_the_pool_of_the_apps_engine"],
        says="app.state.engine",
        why="the same engine per request, seen through the real app: the lifespan's pool is never used",
    ),
]

# The layer rule (test_the_layers.py) and the stack's own bar (test_code_quality.py).
MUTANTS += [
    Mutant(
        "sessionmaker-read-from-the-request-in-core",
        path="app/core/database.py",
        find="logger = logging.getLogger(__name__)\n",
        replace="logger = logging.getLogger(__name__)\n\n\n"
        "def sessionmaker_of(request: Request) -> async_sessionmaker[AsyncSession]:\n"
        "    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker\n"
        "    return factory\n",
        also=[
            Edit(
                "from sqlalchemy import text\n",
                "from fastapi import Request\nfrom sqlalchemy import text\n",
                "app/core/database.py",
            )
        ],
        killed_by=["test_the_database_setup_knows_nothing_of_http"],
        says="imports fastapi",
        why="core/ is below HTTP: with FastAPI there, Alembic and scripts drag the web framework in",
    ),
    Mutant(
        "database-setup-imports-the-dependency",
        path="app/core/database.py",
        find="from app.core.config import Settings\n",
        replace="from app.core.config import Settings\nfrom app.dependencies.session import SessionDep  # noqa: F401\n",
        killed_by=["test_the_database_setup_knows_nothing_of_http"],
        says="core is below every other layer",
        why="an import cycle in waiting: the dependency layer builds on core, never the other way round",
    ),
    Mutant(
        "untyped-engine-helper",
        path="app/core/database.py",
        find="logger = logging.getLogger(__name__)\n",
        replace="logger = logging.getLogger(__name__)\n\n\ndef pool_of(settings):\n    return settings.db_pool_size\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="missing a type annotation",
        why="mypy --strict refuses an untyped function: its callers get no checking at all",
    ),
    Mutant(
        "unused-import-left-behind",
        path="app/dependencies/session.py",
        find="from fastapi import Depends, Request\n",
        replace="from fastapi import Depends, HTTPException, Request\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="F401",
        why="an import nothing uses is dead code ruff reports on every run",
    ),
]
