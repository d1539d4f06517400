"""`uv run workshop`: the learner's front door, and the maintainer's build and verify commands."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from workshop import database, docker_engine, redis_server, results
from workshop.authoring import build
from workshop.lessons import REPO, STATE, Lesson, LessonNotFound, all_lessons, lesson
from workshop.safety import replace_files

console = Console(highlight=False)
app = typer.Typer(
    help="The Ledger workshop. With no command: your progress and what to do next.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The workshop's PostgreSQL: embedded, or WORKSHOP_DATABASE_URL.")
app.add_typer(db_app, name="db")
class_app = typer.Typer(
    help="The instructor's live view of the room: the instructor serves it, each learner joins once."
)
app.add_typer(class_app, name="class")

# The repository's docker-compose.yml: `docker compose up -d --wait db` serves this URL.
COMPOSE_DATABASE_URL = "postgresql+asyncpg://postgres:postgres@localhost:5432/postgres"
LessonArg = Annotated[str, typer.Argument(help="lesson number, e.g. 05", show_default=False)]
P = ParamSpec("P")
R = TypeVar("R")


class Stop(Exception):
    """A clear, one-line reason to stop; exits non-zero without a traceback."""


def fail(message: str) -> NoReturn:
    raise Stop(message)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn known failures into one red line and a non-zero exit."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (
            Stop,
            LessonNotFound,
            database.DatabaseUnavailable,
            redis_server.RedisUnavailable,
            build.MarkerError,
        ) as error:
            console.print(f"[red]✗[/red] {error}")
            raise typer.Exit(2 if isinstance(error, LessonNotFound) else 1) from None

    return run


def _pytest(folder: Path, *args: str) -> int:
    """`uv run pytest lessons/NN ARGS`, in a fork of the warm worker: the same run, a second sooner."""
    from workshop import worker

    return worker.run([str(folder.relative_to(REPO)), *args], cwd=REPO)


# --- the learner's loop ----------------------------------------------------------------------


@app.callback()
@friendly
def dashboard(context: typer.Context) -> None:
    """Show each lesson's progress and the next step."""
    if context.invoked_subcommand is not None:
        return
    progress = results.latest()  # the last whole-lesson run of each lesson
    table = Table(title="Ledger workshop", title_justify="left")
    for column in ("lesson", "title", "checks", "state"):
        table.add_column(column)
    upcoming: Lesson | None = None
    for found in all_lessons():
        run = progress.get(found.number)
        if run is None:
            checks, state = "-", "not started"
        else:
            checks = f"{run.passed}/{len(run.graded)}"
            state = "[green]done ✓[/green]" if run.done else "in progress"
        if upcoming is None and (run is None or not run.done):
            upcoming = found
        table.add_row(found.number, found.title, checks, state)
    console.print(table)
    if not stack_is_compiled():
        console.print(
            "[yellow]Every run here compiles the libraries again (PYTHONDONTWRITEBYTECODE is set): "
            "run `uv sync --compile-bytecode` once to start checks about 2 s sooner.[/yellow]"
        )
    if upcoming is None:
        console.print("Every lesson passes. Well done!")
        return
    console.print(
        f"Next: read [bold]lessons/{upcoming.number}/README.md[/bold], edit "
        f"lessons/{upcoming.number}/app, then run [bold]uv run pytest lessons/{upcoming.number}[/bold]"
        f"\n      (or [bold]uv run workshop watch {upcoming.number}[/bold] to rerun on every save)."
    )


@app.command()
@friendly
def check(number: LessonArg) -> None:
    """Run a lesson's checks (the same as `uv run pytest lessons/NN`)."""
    raise typer.Exit(_pytest(lesson(number).path))


@app.command()
@friendly
def watch(number: LessonArg) -> None:
    """Rerun a lesson's checks every time you save a file in it."""
    from watchfiles import watch as changes

    found = lesson(number)
    _pytest(found.path)
    console.print(f"[dim]Watching lessons/{found.number} — Ctrl-C to stop.[/dim]")
    try:
        for _ in changes(found.path, watch_filter=lambda _, path: not path.endswith((".pyc", "~"))):
            console.clear()
            _pytest(found.path)
            console.print(f"[dim]Watching lessons/{found.number} — Ctrl-C to stop.[/dim]")
    except KeyboardInterrupt:
        console.print("Stopped watching.")


@app.command()
@friendly
def hint(number: LessonArg) -> None:
    """Show the next failing check of a lesson and its hint; each call reveals one more hint for it."""
    from workshop.authoring.verify import run_checks

    found = lesson(number)
    with console.status(f"Running lesson {found.number}'s checks…"):
        run = run_checks(found.path)
    first = run.report.next_failing()  # the lowest README step that fails
    if first is None:
        console.print(f"Lesson {found.number}: {run.passed}/{len(run.checks)} checks pass. Nothing to hint at!")
        return
    console.print(f"[bold]Next check:[/bold] {escape(first.name)}\n  {escape(first.message)}", soft_wrap=True)
    if first.hint:
        console.print(f"[cyan]Hint:[/cyan] {escape(first.hint)}", soft_wrap=True)
    levels = hint_levels(found).get(first.name, [])
    if levels:
        shown = _reveal(found.number, first.name, len(levels))
        for index, text in enumerate(levels[:shown], 1):
            console.print(f"[cyan]Hint {index} of {len(levels)}:[/cyan] {escape(text)}", soft_wrap=True)
        if shown < len(levels):
            console.print(f"[dim]Still stuck? `uv run workshop hint {found.number}` again shows the next one.[/dim]")
        return
    section = found.readme_section("Hints")
    if section:
        # The README hides each hint in <details>; a terminal shows its summary as a bold title.
        section = re.sub(r"<summary>(.*?)</summary>", r"**\1**\n", section)
        section = re.sub(r"</?details>", "", section)
        console.print(Markdown("## Hints\n" + section))


def hint_levels(found: Lesson) -> dict[str, list[str]]:
    """check name → hints revealed one per `workshop hint` call, from the lesson's checks/hints.py."""
    checks = found.path / "checks"
    if not (checks / "hints.py").is_file():
        return {}
    # Loaded as a package, so that hints.py can import its neighbours (lesson 07's bugs.py).
    package = f"workshop_hints_{found.number}"
    spec = importlib.util.spec_from_file_location(
        package, checks / "__init__.py", submodule_search_locations=[str(checks)]
    )
    if spec is None or spec.loader is None:
        return {}
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    if (checks / "__init__.py").is_file():
        spec.loader.exec_module(module)
    hints = importlib.import_module(f"{package}.hints")
    return {str(name): [str(text) for text in texts] for name, texts in getattr(hints, "HINTS", {}).items()}


def _reveal(number: str, check: str, available: int) -> int:
    """One more hint level for `check` than last time (at most `available`); remembered in .workshop/hints.json."""
    path = STATE / "hints.json"
    try:
        seen = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        seen = {}
    lesson_seen = seen.setdefault(number, {})
    shown = min(int(lesson_seen.get(check, 0)) + 1, available)
    lesson_seen[check] = shown
    STATE.mkdir(exist_ok=True)
    path.write_text(json.dumps(seen, indent=2, sort_keys=True), encoding="utf-8")
    return shown


@app.command()
@friendly
def diff(number: LessonArg) -> None:
    """Compare your code in lessons/NN with the reference solution."""
    found = lesson(number)
    differences = build.drift(found.number, expected=build.stage(found.number))
    if not differences:
        console.print(f"lessons/{found.number} matches the reference solution.")
        return
    for difference in differences:
        console.print(Syntax(difference.diff(), "diff", theme="ansi_dark", background_color="default"))
    console.print(f"[dim]- your code   + the reference   ({len(differences)} files differ)[/dim]")


def _git(*args: str, check: bool = True) -> str:
    if shutil.which("git") is None:
        fail("git is not installed; install it (https://git-scm.com/downloads) and try again.")
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    if check and done.returncode != 0:
        fail(f"git {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


@app.command()
@friendly
def solution(
    number: LessonArg,
    branch: Annotated[bool, typer.Option("--branch", help="create and switch to branch solution/NN")] = False,
) -> None:
    """Show the reference solution of a lesson, or check it out on a branch of its own."""
    found = lesson(number)
    if not branch:
        for path in sorted(found.solution.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = path.relative_to(found.solution)
                text = build.solved(path, path.read_text(encoding="utf-8"))
                console.rule(f"lessons/{found.number}/{relative.as_posix()}")
                console.print(Syntax(text, "python" if path.suffix == ".py" else "text", line_numbers=True))
        console.print(f"[dim]To run the checks on it: uv run workshop solution {found.number} --branch[/dim]")
        return
    if _git("rev-parse", "--is-inside-work-tree", check=False) != "true":
        fail("This folder is not a git checkout, so there is nowhere to put a branch. Clone the workshop with git.")
    if _git("status", "--porcelain"):
        fail(
            "You have uncommitted changes; nothing was touched. Keep them first with\n"
            "    git add -A && git commit -m 'my work'     (or: git stash)\n"
            f"then run `uv run workshop solution {found.number} --branch` again."
        )
    name = f"solution/{found.number}"
    if _git("branch", "--list", name):
        fail(f"Branch {name} exists already: `git switch {name}` to see it, or `git branch -D {name}` to make it anew.")
    previous = _git("branch", "--show-current") or _git("rev-parse", "HEAD")
    _git("switch", "--quiet", "-c", name)
    build.write(build.drift(found.number, expected=build.stage(found.number)))
    _git("add", "--all", str(found.path.relative_to(REPO)))
    identity = ["-c", "user.name=Ledger workshop", "-c", "user.email=workshop@example.invalid"]
    if _git("config", "user.email", check=False):
        identity = []
    _git(*identity, "commit", "--quiet", "--allow-empty", "-m", f"Reference solution of lesson {found.number}")
    console.print(
        f"On branch [bold]{name}[/bold] with lesson {found.number}'s reference solution committed.\n"
        f"Your work is untouched on [bold]{previous}[/bold]: `git switch {previous}` takes you back."
    )


@app.command()
@friendly
def reset(number: LessonArg) -> None:
    """Restore a lesson's starter files, after saving yours where you can get them back."""
    found = lesson(number)
    changed = build.drift(found.number)
    if not changed:
        console.print(f"lessons/{found.number} is already the starter; nothing to reset.")
        return
    saved = replace_files(changed, f"lesson-{found.number}")
    if saved is not None:
        console.print(f"Saved your files of lesson {found.number} to [bold]{saved.relative_to(REPO)}[/bold]")
    console.print(f"Restored the starter of lesson {found.number} ({len(changed)} files).")


# --- the environment ------------------------------------------------------------------------


def stack_is_compiled() -> bool:
    """False when the stack has no bytecode and Python will not write it (PYTHONDONTWRITEBYTECODE):
    then every run compiles SQLAlchemy, FastAPI and Alembic again (2.5 s of a 3 s run, measured)."""
    if not sys.dont_write_bytecode:
        return True  # Python writes it on first import
    spec = importlib.util.find_spec("sqlalchemy")
    if spec is None or spec.origin is None:
        return True
    cached = Path(spec.origin).parent / "__pycache__"
    return any(cached.glob(f"__init__.{sys.implementation.cache_tag}*.pyc"))


@app.command()
@friendly
def doctor() -> None:
    """Check Python, uv, git, the database, disk, ports and Docker; print a fix for each problem."""
    problems = 0

    def report(ok: bool | None, what: str, detail: str, fix: str = "") -> None:
        nonlocal problems
        mark = {True: "[green]✓[/green]", False: "[red]✗[/red]", None: "[yellow]-[/yellow]"}[ok]
        console.print(f"{mark} {what}: {detail}")
        if ok is False:
            problems += 1
        if ok is not True and fix:
            console.print(f"    [dim]fix:[/dim] {fix}")

    version = ".".join(map(str, sys.version_info[:3]))
    report(sys.version_info >= (3, 11), "Python", version, "install Python 3.11 or newer (uv python install 3.12)")
    uv = shutil.which("uv")
    report(uv is not None, "uv", uv or "not on PATH", "pip install uv  (or see docs.astral.sh/uv)")
    report(shutil.which("git") is not None, "git", shutil.which("git") or "not found", "install git")
    compiled = stack_is_compiled()
    report(
        True if compiled else None,
        "bytecode",
        "the libraries are compiled" if compiled else "not compiled, and Python may not write it here",
        "uv sync --compile-bytecode  (once: every check starts about 2 s sooner)",
    )
    free = shutil.disk_usage(REPO).free / 2**30
    report(free >= 1, "disk", f"{free:.1f} GiB free", "free at least 1 GiB for the database and caches")
    try:
        target = database.server()
        ((row,),) = database.run(database.execute(target.dsn(), "SELECT version()"))
        kind = "embedded" if target.embedded else f"external ({database.ENV_URL})"
        report(True, "PostgreSQL", f"{kind}: {str(row[0]).split(' on ')[0]}")
    except database.DatabaseUnavailable as error:
        report(
            False,
            "PostgreSQL",
            str(error).splitlines()[0],
            f"`uv run workshop db stop` then again; or set {database.ENV_URL}, or unset it",
        )
    # The two database paths, and the one variable that switches between them.
    if os.environ.get(database.ENV_URL, "").strip():
        console.print(
            f"    [dim]{database.ENV_URL} is set, so the checks use that server (docker compose up -d --wait db "
            f"starts the repository's). Back to the embedded server: unset {database.ENV_URL}[/dim]"
        )
    else:
        console.print(
            "    [dim]The checks use the embedded server. To use a container instead (needs Docker): "
            f"docker compose up -d --wait db, then export {database.ENV_URL}={COMPOSE_DATABASE_URL}[/dim]",
            soft_wrap=True,
        )
    # Redis: lesson 10 on. Only this command and the checks that need it start the embedded server.
    try:
        redis_target = redis_server.server()
        kind = f"embedded ({redis_target.source})" if redis_target.embedded else f"external ({redis_server.ENV_URL})"
        report(True, "Redis (lesson 10 on)", f"{kind}: {redis_server.version(redis_target)}")
    except redis_server.RedisUnavailable as error:
        report(
            False,
            "Redis (lesson 10 on)",
            str(error).splitlines()[0],
            f"docker compose up -d --wait redis, then export {redis_server.ENV_URL}={redis_server.COMPOSE_REDIS_URL}"
            if not os.environ.get(redis_server.ENV_URL)
            else f"start that server, or unset {redis_server.ENV_URL} to use the embedded one",
        )
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8000))
            report(True, "port 8000", "free (for `workshop serve`)")
        except OSError:
            report(None, "port 8000", "in use", "stop the other server, or `uv run workshop serve NN --port 8001`")
    engine = docker_engine.engine()
    report(
        True if engine.running and engine.compose else None,
        "Docker (optional)",
        engine.describe(),
        "install the Compose plugin: https://docs.docker.com/compose/install/"
        if engine.running
        else "none needed: lesson 08's checks read the files; an engine adds one check that builds and runs the stack",
    )
    if not (REPO / ".env").is_file():
        report(None, ".env (optional)", "none", "cp .env.example .env  — to try settings by hand")
    if problems:
        fail(f"{problems} problem(s) found; the fixes are above.")
    console.print("All set.")


@db_app.command("start")
@friendly
def db_start() -> None:
    """Start the embedded PostgreSQL (it keeps running between runs)."""
    target = database.server()
    console.print(f"PostgreSQL is running: {target.database_url('postgres')}", soft_wrap=True)


@db_app.command("stop")
@friendly
def db_stop() -> None:
    """Stop the embedded PostgreSQL."""
    if os.environ.get(database.ENV_URL):
        fail(f"{database.ENV_URL} is set: that server is yours to stop (e.g. docker compose stop db).")
    console.print("Stopped." if database.stop_embedded() else "The embedded PostgreSQL was not running.")


@db_app.command("status")
@friendly
def db_status() -> None:
    """Say which PostgreSQL the checks use and whether it runs."""
    if os.environ.get(database.ENV_URL):
        console.print(f"External ({database.ENV_URL}): {os.environ[database.ENV_URL]}")
        return
    url = database.embedded_status()
    console.print(f"Embedded: running at {url}" if url else "Embedded: stopped (starts on first use)")
    console.print(f"Data folder: {database.PGDATA}")


@db_app.command("url")
@friendly
def db_url(
    name: Annotated[str, typer.Argument(help="database name")] = "ledger",
) -> None:
    """Print the SQLAlchemy URL of a database on the workshop's server (starting it if need be)."""
    target = database.server()
    database.run(database.ensure_database(target, name))
    console.print(target.database_url(name), soft_wrap=True)


@app.command()
@friendly
def serve(
    number: LessonArg,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8000,
) -> None:
    """Run a lesson's app with reload on http://127.0.0.1:PORT (docs at /docs)."""
    found = lesson(number)
    env = dict(os.environ)
    if found.uses_database and "LEDGER_DATABASE_URL" not in env:
        # One database per lesson: each stage's migrations own their schema and version table.
        target, name = database.server(), f"ledger_{found.number}"
        database.run(database.ensure_database(target, name))
        env["LEDGER_DATABASE_URL"] = target.database_url(name)
    if found.uses_redis and "LEDGER_REDIS_URL" not in env:
        env["LEDGER_REDIS_URL"] = redis_server.server().database_url(0)
    if found.has_migrations:
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=found.path, env=env, check=False)
    console.print(f"Serving lesson {found.number}: http://127.0.0.1:{port}/docs  (Ctrl-C to stop)")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--app-dir",
        str(found.path),
        "--reload",
        "--reload-dir",
        str(found.path / "app"),
        "--port",
        str(port),
    ]
    if os.name == "posix":
        # uvicorn becomes this process: a SIGTERM to `workshop serve` (an IDE's stop button, `kill`) reaches
        # its reloader, which stops the app. As a child, it went on serving after its parent was gone.
        sys.stdout.flush()
        sys.stderr.flush()
        os.chdir(found.path)
        os.execve(sys.executable, command, env)
    raise typer.Exit(subprocess.call(command, cwd=found.path, env=env))


@app.command()
@friendly
def docs(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8001) -> None:
    """Serve the documentation site on http://127.0.0.1:PORT."""
    if not (REPO / "mkdocs.yml").is_file():
        fail("The docs site is not there yet; read the lesson READMEs in lessons/NN/README.md meanwhile.")
    if importlib.util.find_spec("mkdocs") is None:
        fail("MkDocs is not installed: `uv sync --group docs` installs it (a plain `uv sync` does too).")
    console.print(f"Serving the docs: http://127.0.0.1:{port}  (Ctrl-C to stop)")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's banner about MkDocs 2, on every start
    command = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"]
    raise typer.Exit(subprocess.call(command, cwd=REPO, env=env))


# --- the classroom and CI ---------------------------------------------------------------------


@class_app.command("serve")
@friendly
def class_serve(
    host: Annotated[
        str, typer.Option(help="address to listen on; 0.0.0.0 is every network of this machine")
    ] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="port")] = 8002,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="PostgreSQL for the class, postgresql://user:password@host/db (default: database "
            "workshop_classroom on the workshop's own server)",
        ),
    ] = None,
    new: Annotated[bool, typer.Option("--new", help="open a new class (new code and link), not the last one")] = False,
    title: Annotated[str | None, typer.Option(help="the title of a new class")] = None,
) -> None:
    """Serve the class: print its code and your link, then show the room live until Ctrl-C."""
    from sqlalchemy.exc import DBAPIError

    from workshop.classroom import protocol
    from workshop.classroom.server import serve as server

    try:
        settings, opened, _ = server.open_room(database_url, new, title)
    except (OSError, DBAPIError) as error:
        fail(f"Cannot use the class's database: {protocol.redact(str(error).splitlines()[0])}")
    public, local = server.addresses(host, port)
    again = " (reopened: same code and link as before)" if opened.resumed else ""
    console.print(
        f"Class [bold]{escape(opened.title)}[/bold] is open{again}.\n"
        f"Learners join with:\n"
        f'    [bold]uv run workshop class join {public} {opened.code} --name "Their name"[/bold]\n'
        f"Your view of the room (keep this link to yourself):\n"
        f"    {server.instructor_link(local, opened)}\n"
        "[dim]Ctrl-C stops the server; `class serve` again reopens this class, `--new` opens another.[/dim]",
        soft_wrap=True,
    )
    server.run(settings, opened, host, port)


@class_app.command("join")
@friendly
def class_join(
    url: Annotated[str, typer.Argument(help="the class server's address, as the instructor shows it")],
    code: Annotated[str, typer.Argument(help="the class code, e.g. K7QM-4XPD")],
    name: Annotated[str, typer.Option("--name", help="your name, as the instructor will see it")],
) -> None:
    """Join a class: from then on each whole-lesson run sends its result to the instructor's view."""
    from workshop.classroom import client

    current = client.Membership.load()
    if current is not None:
        fail(
            f"You are in a class already ({current.title or current.url}, as {current.name}). "
            "`uv run workshop class leave` first, then join again."
        )
    try:
        membership = client.join(url, code, name)
    except client.ClassError as error:
        fail(str(error))
    for report in results.latest().values():  # what you did before joining shows up at once
        client.enqueue(report)
    delivered = client.deliver()
    console.print(
        f"You joined [bold]{escape(membership.title)}[/bold] as [bold]{escape(membership.name)}[/bold].\n"
        "From now on each run of a whole lesson (`uv run pytest lessons/NN`) sends its result, and only its\n"
        "result, never your code, to your instructor's view of the room, in the background."
        + (f"\nSent your {delivered.sent} earlier result(s)." if delivered.sent else ""),
        soft_wrap=True,
    )


@class_app.command("status")
@friendly
def class_status() -> None:
    """Say which class you are in, and send the results still queued for it."""
    from workshop.classroom import client

    membership = client.Membership.load()
    if membership is None:
        console.print("You are not in a class. Join one with `uv run workshop class join URL CODE --name NAME`.")
        return
    delivery = client.deliver()
    console.print(f"Class: {escape(membership.title)} at {membership.url}, as {escape(membership.name)}.")
    if delivery.sent:
        console.print(f"Sent {delivery.sent} queued result(s) just now.")
    if delivery.busy:
        console.print("A run is sending your results right now.")
    elif delivery.left:
        console.print(f"[yellow]{delivery.left} result(s) wait to be sent[/yellow]: {escape(delivery.error)}")
        console.print("[dim]They go with your next run, or with `uv run workshop class status` again.[/dim]")
    else:
        console.print("[green]Every result has been sent.[/green]")
    if delivery.rejected:
        console.print(f"[yellow]The server refused {delivery.rejected} result(s):[/yellow] {escape(delivery.error)}")


@class_app.command("leave")
@friendly
def class_leave() -> None:
    """Leave the class: forget its token and the results still queued for it (your results files stay)."""
    from workshop.classroom import client

    membership = client.leave()
    console.print(
        f"You left {escape(membership.title or membership.url)}." if membership else "You were not in a class."
    )


@app.command()
@friendly
def grade(
    numbers: Annotated[
        list[str] | None,
        typer.Argument(help="lessons to grade; default: every lesson you have started", show_default=False),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            envvar="GITHUB_STEP_SUMMARY",
            help="append the scorecards as a Markdown table to this file (GitHub Actions sets it)",
        ),
    ] = None,
) -> None:
    """Run the checks of every lesson you have started, then show one scorecard per lesson (for CI)."""
    chosen = (
        [lesson(number) for number in numbers]
        if numbers
        else [found for found in all_lessons() if build.drift(found.number)]
    )
    rows: list[tuple[Lesson, results.RunReport | None]] = []
    for found in chosen:
        console.rule(f"lesson {found.number}: {found.title}")
        started = results.stamp()
        _pytest(found.path)
        run = results.latest().get(found.number)
        rows.append((found, run if run is not None and run.at >= started else None))
    table = Table(title="Scorecards", title_justify="left")
    for column in ("lesson", "title", "checks", "next failing check"):
        table.add_column(column)
    for found, run in rows:
        table.add_row(found.number, found.title, _score(run), _next(run))
    if rows:
        console.print(table)
    else:
        console.print("No lesson started yet: nothing to grade. Change a lesson's code, then run this again.")
    if summary is not None:
        with summary.open("a", encoding="utf-8") as file:
            file.write(scorecards_markdown(rows))
    if any(run is None or not run.done for _, run in rows):
        raise typer.Exit(1)


def _score(run: results.RunReport | None) -> str:
    if run is None:
        return "no result"
    mark = "✅" if run.done else "❌"
    return f"{mark} {run.passed}/{len(run.graded)}"


def _next(run: results.RunReport | None) -> str:
    first = run.next_failing() if run else None
    if run is None:
        return "the run did not finish: see its output above"
    return f"{first.sentence} (step {first.step})" if first else ""


def scorecards_markdown(rows: list[tuple[Lesson, results.RunReport | None]]) -> str:
    """The scorecards as a Markdown table (a CI job's summary)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["## Ledger workshop: scorecards", ""]
    if not rows:
        return "\n".join([*lines, "No lesson started yet: nothing to grade.", ""])
    lines += ["| lesson | title | checks | next failing check |", "|---|---|---|---|"]
    lines += [f"| {found.number} | {cell(found.title)} | {_score(run)} | {cell(_next(run))} |" for found, run in rows]
    return "\n".join([*lines, ""])


# --- for maintainers ------------------------------------------------------------------------


@app.command("build")
@friendly
def build_command(
    check_only: Annotated[bool, typer.Option("--check", help="fail with a diff on drift; write nothing")] = False,
) -> None:
    """Regenerate the lesson starters from solutions/ (or check that they are up to date)."""
    drifts = build.all_drift()
    if check_only:
        for found in drifts:
            console.print(found.diff(), markup=False, end="")
        if drifts:
            fail(f"{len(drifts)} generated file(s) differ from solutions/; run `uv run workshop build`.")
        console.print("Generated files match their sources.")
        return
    saved = replace_files(drifts, "build")
    for found in drifts:
        console.print(
            f"wrote {found.path.relative_to(REPO)}"
            if found.expected is not None
            else f"removed {found.path.relative_to(REPO)}"
        )
    if saved is not None:
        console.print(f"The files it replaced are saved in {saved.relative_to(REPO)}")
    console.print(f"{len(drifts)} file(s) regenerated." if drifts else "Everything was up to date.")


@app.command()
@friendly
def verify(
    number: Annotated[str | None, typer.Argument(help="one lesson; all when left out")] = None,
    repeat: Annotated[int, typer.Option(help="run each solution and each mutant this many times")] = 1,
    mutants: Annotated[bool, typer.Option(help="prove the checks with the lesson's mutants")] = True,
    mutant: Annotated[
        list[str] | None,
        typer.Option("--mutant", help="run only this mutant (repeatable) and show what each check it names said"),
    ] = None,
    steps: Annotated[
        bool, typer.Option(help="prove the README's steps can be done in order (workshop.authoring.steps)")
    ] = True,
) -> None:
    """Prove each starter fails for a lesson reason, each solution passes, and every mutant is killed."""
    from workshop.authoring.steps import out_of_order
    from workshop.authoring.verify import prove

    if repeat < 1:
        fail("--repeat needs a number of runs, 1 or more.")
    if mutant and not number:
        fail("--mutant needs a lesson: `uv run workshop verify 05 --mutant lock-for-share`.")
    chosen = [lesson(number)] if number else list(all_lessons())
    table = Table(title="workshop verify", title_justify="left")
    for column in ("lesson", "starter", "solution", "mutants killed", "checks proven", "flakes", "steps in order"):
        table.add_column(column)
    problems: list[str] = []
    for found in chosen:
        with console.status(f"lesson {found.number}…"):
            proof = prove(found, repeat=repeat, mutants=mutants, only=mutant)
        problems += [f"{found.number} {problem}" for problem in proof.problems]
        disorder: list[str] = []
        if steps and not mutant:
            with console.status(f"lesson {found.number}: its steps in order…"):
                disorder = out_of_order(found)
            problems += [f"{found.number} steps: {problem}" for problem in disorder]
        starter, solution = proof.starter, proof.solutions[0]
        assert starter is not None
        mark = {True: "", False: " [red]✗[/red]"}
        starter_ok = not starter.problems_as_starter()
        solution_ok = not any(run.problems_as_solution() for run in proof.solutions)
        graded = len(solution.checks) - solution.skipped
        killed = sum(1 for verdict in proof.mutants if verdict.killed)
        proven = len(proof.checks) - len(proof.unproven)
        table.add_row(
            found.number,
            f"{len(starter.report.failing)}/{len(starter.checks) - starter.skipped} fail"
            + (f" ({starter.skipped} skipped)" if starter.skipped else "")
            + mark[starter_ok],
            f"{solution.passed}/{graded} pass"
            + (f" ({solution.skipped} skipped)" if solution.skipped else "")
            + (f", {repeat} runs" if repeat > 1 else "")
            + mark[solution_ok],
            f"{killed}/{len(proof.mutants)}" + mark[killed == len(proof.mutants) > 0] if mutants else "-",
            f"{proven}/{len(proof.checks)}" + mark[proven == len(proof.checks)] if mutants else "-",
            str(proof.flakes),
            ("yes" if not disorder else f"{len(disorder)} problem(s) [red]✗[/red]") if steps and not mutant else "-",
        )
    console.print(table)
    if mutant:  # a maintainer looking at one mutant: what each check it names said
        for verdict in proof.mutants:
            console.rule(f"mutant {escape(verdict.mutant.name)}: {escape(verdict.mutant.why)}")
            for run in verdict.runs[:1]:
                for check in run.checks:
                    said = f" ({check.kind}): {check.message}" if check.outcome == "failed" else ""
                    console.print(f"  {escape(check.name)} {check.outcome}{escape(said)}", soft_wrap=True)
    for problem in problems:
        console.print(f"[red]✗[/red] {escape(problem)}", soft_wrap=True)
    if problems:
        fail(f"{len(problems)} problem(s).")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
