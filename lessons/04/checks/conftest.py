"""Helpers shared by lesson 04's checks: what a repository sends, commits and imports."""

import ast
import re
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import IllegalStateChangeError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from workshop import grading

T = TypeVar("T")


def watch_commits(session: AsyncSession) -> list[object]:
    """Every commit of the session's transaction from now on, however it is started.

    Releasing a SAVEPOINT (`begin_nested()`) is not counted: it ends no transaction.
    """
    commits: list[object] = []

    def committed(sync_session: Session) -> None:
        if not sync_session.in_nested_transaction():
            commits.append(sync_session)

    event.listen(session.sync_session, "after_commit", committed)
    return commits


def watch_savepoints(session: AsyncSession) -> list[object]:
    """Every SAVEPOINT the session opens from now on (`session.begin_nested()`): a transaction of the caller's own."""
    opened: list[object] = []

    def created(sync_session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            opened.append(transaction)

    event.listen(session.sync_session, "after_transaction_create", created)
    return opened


# What SQLAlchemy says when two tasks use one session at the same time (asyncio.gather over its methods, say).
CONCURRENT_USE = ("already flushing", "concurrent operations are not permitted", "is already in progress")


async def shared_between_tasks(method: str, step: int, call: Awaitable[T]) -> T:
    """Await a repository call; a session used by two tasks at once becomes a lesson message, not a traceback."""
    try:
        return await call
    except InvalidRequestError as error:
        said = str(error).splitlines()[0] if str(error) else type(error).__name__
        if not (isinstance(error, IllegalStateChangeError) or any(text in said for text in CONCURRENT_USE)):
            raise
        raise AssertionError(
            f"Lesson {grading.lesson()}: {method} failed with {type(error).__name__} ({said[:160]}): it ran "
            "several operations on the request's one session at the same time. A session (and its connection) "
            "is not safe to share between concurrent tasks such as asyncio.gather(): one await after "
            f"another (step {step})"
        ) from None


def reads_one_page(statement: str) -> bool:
    """Does the SELECT ask PostgreSQL for one page (LIMIT/FETCH and OFFSET), not every row?"""
    limited = re.search(r"\bLIMIT\b|\bFETCH\s+(FIRST|NEXT)\b", statement, re.IGNORECASE) is not None
    return limited and re.search(r"\bOFFSET\b", statement, re.IGNORECASE) is not None


def paging_symptoms(pages: list[list[Any]], limit: int) -> str:
    """What a wrong set of pages (read at offsets 0, limit, twice the limit) shows about the query, in words."""
    symptoms = []
    if any(len(page) > limit for page in pages):
        symptoms.append("a page held more rows than the limit")
    if pages[0] and pages[1] == pages[0]:
        symptoms.append("page 2 repeated page 1, as if the offset were ignored")
    return " and ".join(symptoms)


def short(statement: str, length: int = 160) -> str:
    return statement if len(statement) <= length else statement[: length - 1] + "…"


# What a repository must not depend on: HTTP (the routers' business) and the layers above it.
FORBIDDEN_IN_CRUD = {
    "fastapi": "a repository knows nothing of HTTP",
    "starlette": "a repository knows nothing of HTTP",
    "app.routers": "repositories sit below the routers and never import them",
    "app.dependencies": "repositories sit below the dependencies and never import them",
    "app.services": "services use repositories, never the other way round",
}


def crud_imports_above_their_layer() -> list[str]:
    """`app/crud/x.py:7 imports fastapi: why`, for every import of the crud package that breaks the layers."""
    app_dir = grading.folder() / "app"
    found: list[str] = []
    for path in sorted((app_dir / "crud").rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError:
            continue  # the import helper reports broken files with their line
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [(node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [(node.lineno, node.module)]
            else:
                continue
            for line, name in names:
                for forbidden, why in FORBIDDEN_IN_CRUD.items():
                    if name == forbidden or name.startswith(forbidden + "."):
                        where = Path(path).relative_to(grading.folder()).as_posix()
                        found.append(f"{where}:{line} imports {name}: {why}")
    return found


def is_http_error(error: BaseException) -> bool:
    """An HTTPException of FastAPI or Starlette."""
    kind = type(error)
    return kind.__module__.split(".")[0] in ("fastapi", "starlette") and any(
        cls.__name__ == "HTTPException" for cls in kind.__mro__
    )
