"""Invariant 5 (docs): the site builds with `mkdocs build --strict` and works in a browser.

The site is built once per run (module fixture) into a temporary folder. The checks read what a
reader gets: the built HTML. The browser check drives Debian's Chromium, headless, through
Playwright: it follows the navigation to lesson 05, runs a search, saves a screenshot under
`.workshop/docs/`, visits every page, and fails on any console error, page error, failed request
or request that leaves the machine. The run's summary prints the screenshot's path and timings.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from workshop.lessons import LESSONS, REPO, STATE, all_lessons

CHROMIUM = Path(os.environ.get("WORKSHOP_CHROMIUM", "/usr/bin/chromium"))
# FIELD-NOTES "Browsers": without the networking flags Chromium floods a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = STATE / "docs" / "lesson-05-search.png"
MINUTES = re.compile(r"\*\*Minutes:\*\*\s*teaching\s+(\d+)\s*/\s*exercises\s+(\d+)")
CLOCK = re.compile(r"(\d\d):(\d\d)")
DASH = "\N{EN DASH}"  # between two times of a range in the agendas


# --- the build, once per run, and a line in the summary ----------------------------------------


@dataclass
class Report:
    """Shown at the end of the run: where the screenshot is, and what the docs checks cost."""

    times: dict[str, float] = field(default_factory=dict)
    screenshot: Path | None = None

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.times:
            return
        terminalreporter.section("docs", sep="─")
        timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.times.items())
        terminalreporter.write_line(f"docs checks: {timings}")
        if self.screenshot is not None:
            terminalreporter.write_line(f"docs screenshot: {self.screenshot}")


@dataclass
class Site:
    folder: Path
    returncode: int
    output: str

    def built(self) -> Path:
        assert self.returncode == 0, f"`mkdocs build --strict` failed; fix the docs first:\n{self.output}"
        return self.folder


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> Iterator[Report]:
    found = Report()
    if not request.config.pluginmanager.has_plugin("workshop-docs-report"):
        request.config.pluginmanager.register(found, "workshop-docs-report")
    started = time.perf_counter()
    yield found
    found.times["all docs checks"] = time.perf_counter() - started


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, report: Report) -> Site:
    folder = tmp_path_factory.mktemp("site")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    report.times["mkdocs build --strict"] = time.perf_counter() - started
    return Site(folder, done.returncode, done.stdout + done.stderr)


def test_the_site_builds_with_mkdocs_build_strict(site: Site) -> None:
    site.built()


# --- reading the built HTML --------------------------------------------------------------------


class Page(HTMLParser):
    """The links, ids, headings, paragraphs and tables of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.blocks: list[tuple[str, str | list[list[str]]]] = []  # ("h1".."h3"|"p", text) or ("table", rows)
        self._text: list[str] | None = None
        self._block = ""
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name"):
            if values.get(name) and (name == "id" or tag == "a"):
                self.ids.add(str(values[name]))
        for name in ("href", "src"):
            if values.get(name) and tag in {"a", "link", "script", "img", "source", "iframe"}:
                self.links.append(str(values[name]))
        if tag in {"h1", "h2", "h3", "p"} and self._rows is None:
            self._text, self._block = [], tag
        elif tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in {"td", "th"} and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._block and self._text is not None:
            self.blocks.append((tag, " ".join("".join(self._text).split())))
            self._text = None
        elif tag in {"td", "th"} and self._rows is not None and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.blocks.append(("table", self._rows))
            self._rows = None

    def texts(self, kind: str) -> list[str]:
        """The text of every `kind` block (h1, h2, h3, p), without the headings' permalink sign."""
        return [content.rstrip("¶ ") for found, content in self.blocks if found == kind and isinstance(content, str)]

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._text is not None:
            self._text.append(data)


@functools.cache
def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def readme_minutes(number: str) -> tuple[int, int]:
    found = MINUTES.search((LESSONS / number / "README.md").read_text(encoding="utf-8"))
    assert found, f"lessons/{number}/README.md has no `**Minutes:** teaching X / exercises Y` line"
    return int(found[1]), int(found[2])


def minutes_of(clock: str) -> int:
    found = CLOCK.fullmatch(clock)
    assert found, f"not a time: {clock!r}"
    return int(found[1]) * 60 + int(found[2])


# --- lessons, one source -----------------------------------------------------------------------


@pytest.mark.parametrize("number", [found.number for found in all_lessons()])
def test_every_lesson_has_its_page_made_from_its_readme(site: Site, number: str) -> None:
    readme = (LESSONS / number / "README.md").read_text(encoding="utf-8")
    title = next(line[2:].strip() for line in readme.splitlines() if line.startswith("# "))
    page = site.built() / "lessons" / number / "index.html"
    assert page.is_file(), f"lesson {number} has no page on the site (expected {page.relative_to(site.folder)})"
    headings = parse(page).texts("h1")
    assert headings and headings[0] == title, f"lesson {number}: page title {headings[:1]}, README {title!r}"
    # Every section of the README is on the page: the page is the README, not a summary of it.
    sections = [line[3:].strip() for line in readme.splitlines() if line.startswith("## ")]
    on_page = set(parse(page).texts("h2"))
    missing = [s for s in sections if html.unescape(re.sub(r"[`*]", "", s)) not in on_page]
    assert not missing, f"lesson {number}: README sections missing from the page: {missing}"


def test_the_navigation_lists_every_lesson_from_00_to_08(site: Site) -> None:
    numbers = [found.number for found in all_lessons()]
    assert [f"{n:02d}" for n in range(9)] == numbers[:9], f"lesson folders: {numbers}"
    links = set(parse(site.built() / "index.html").links)
    missing = [number for number in numbers if f"lessons/{number}/" not in links]
    assert not missing, f"the site's navigation has no entry for lessons {missing}"


def test_no_lesson_text_is_copied_into_docs() -> None:
    titles = {found.number: f"# Lesson {found.number}" for found in all_lessons()}
    copies = [
        f"{path.relative_to(REPO)} (lesson {number})"
        for path in sorted((REPO / "docs").rglob("*.md"))
        for number, title in titles.items()
        if title in path.read_text(encoding="utf-8")
    ]
    assert not copies, f"a lesson's text belongs in lessons/NN/README.md only; found copies in {copies}"


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("workshop_docs_hook", REPO / "docs" / "hooks" / "workshop_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_links_in_a_lesson_readme_work_on_github_and_on_the_site() -> None:
    from mkdocs.structure.files import File, Files

    hook = load_hook()
    config = SimpleNamespace(
        config_file_path=str(REPO / "mkdocs.yml"),
        repo_url="https://github.com/example/ledger-workshop",
        edit_uri="edit/main/docs/",
    )
    pages = ["index.md", "lessons/05/README.md", "lessons/06/README.md"]
    files = Files([File(uri, str(REPO / "docs"), "/site", True) for uri in pages])
    page = SimpleNamespace(
        file=SimpleNamespace(src_uri="lessons/05/README.md", abs_src_path=str(LESSONS / "05" / "README.md"))
    )
    blob = "https://github.com/example/ledger-workshop/blob/main/"
    expected = {
        "../06/README.md#step-1": "../06/README.md#step-1",  # a page: the strict build checks it
        "../06/": "../06/README.md",  # a folder on GitHub, its README's page on the site
        "checks/test_transfers.py": blob + "lessons/05/checks/test_transfers.py",
        "../../CONTRIBUTING.md#markers": blob + "CONTRIBUTING.md#markers",
        "checks/": blob.replace("/blob/", "/tree/") + "lessons/05/checks",
        "no-such-file.md": "no-such-file.md",  # names nothing: left for the strict build to report
        "https://docs.sqlalchemy.org/": "https://docs.sqlalchemy.org/",
        "#step-2--deposits-and-statements": "#step-2--deposits-and-statements",
    }
    for target, rewritten in expected.items():
        assert hook._rewrite(target, page, files, config) == rewritten, target
    text = (
        "See [the checks](checks/test_transfers.py) and `[not a link](checks/)`.\n"
        "```python\nx = '[code](checks/)'\n```\n"
        "<details>\n<summary>Hint 1</summary>\n\n```python\npass\n```\n</details>\n"
    )
    out = hook.on_page_markdown(text, page, config, files)
    assert f"[the checks]({blob}lessons/05/checks/test_transfers.py)" in out
    assert "`[not a link](checks/)`" in out and "x = '[code](checks/)'" in out, "code was rewritten"
    assert '<details class="tip" markdown="1">' in out


def test_list_items_written_for_github_keep_their_structure_on_the_site() -> None:
    hook = load_hook()
    github = (
        "2. Write it:\n   - the milliseconds;\n     shifted left;\n   - return.\n\n"
        "- configure:\n  ```python\n  context.configure()\n      nested()\n  ```\n  then commit.\n"
    )
    site = (
        "2. Write it:\n    - the milliseconds;\n        shifted left;\n    - return.\n\n"
        "- configure:\n\n    ```python\n    context.configure()\n        nested()\n    ```\n\n    then commit.\n"
    )
    assert hook.commonmark_lists(github) == site
    top = "Text:\n\n```python\n- not a list\n    kept()\n```\n"
    assert hook.commonmark_lists(top) == top, "a fenced block outside any list must not change"


# --- the agendas -------------------------------------------------------------------------------


def agenda_days(site: Site) -> dict[str, list[tuple[str, str, str, list[list[str]]]]]:
    """Per session heading (h3): (day title, start, end, table rows) for each agenda table."""
    sessions: dict[str, list[tuple[str, str, str, list[list[str]]]]] = {}
    heading: str = ""
    day: tuple[str, str, str] | None = None
    for kind, content in parse(site.built() / "instructor" / "index.html").blocks:
        if kind == "h3" and isinstance(content, str):
            heading, day = content.rstrip("¶ "), None
        elif kind == "p" and isinstance(content, str):
            found = re.match(rf"(Day \d+): (\d\d:\d\d){DASH}(\d\d:\d\d)", content)
            day = (found[1], found[2], found[3]) if found else day
        elif kind == "table" and isinstance(content, list) and content and content[0][:2] == ["time", "item"]:
            assert day is not None, f"agenda table under {heading!r} without a 'Day N: HH:MM to HH:MM' line above it"
            sessions.setdefault(heading, []).append((day[0], day[1], day[2], content[1:]))
            day = None
    return sessions


def test_the_agendas_use_the_readme_minutes_and_add_up(site: Site) -> None:
    sessions = agenda_days(site)
    assert {"One-day session", "Two-day session"} <= set(sessions), f"agenda sessions found: {sorted(sessions)}"
    for session, days in sessions.items():
        covered: list[str] = []
        for title, start, end, rows in days:
            where = f"{session}, {title}"
            *items, total = rows
            assert total[1].startswith("Total"), f"{where}: the last row is not the total: {total}"
            clock = minutes_of(start)
            for when, item, teaching, exercises, minutes in items:
                begin, finish = when.split(DASH)
                assert minutes_of(begin) == clock, f"{where}: {item!r} starts at {begin}, the row above ends at {clock}"
                assert minutes_of(finish) - minutes_of(begin) == int(minutes), (
                    f"{where}: {item!r} lasts {when}, not {minutes} min"
                )
                clock = minutes_of(finish)
                lesson = re.match(r"Lesson (\d\d) ", item)
                if lesson:
                    covered.append(lesson[1])
                    expected = readme_minutes(lesson[1])
                    assert (int(teaching), int(exercises)) == expected, (
                        f"{where}: lesson {lesson[1]} shows {teaching}/{exercises} min, its README says {expected}"
                    )
                    assert int(minutes) == sum(expected), (
                        f"{where}: lesson {lesson[1]} total {minutes} ≠ {sum(expected)}"
                    )
            lessons = [row for row in items if re.match(r"Lesson \d\d ", row[1])]
            sums = (
                sum(int(row[2]) for row in lessons),
                sum(int(row[3]) for row in lessons),
                sum(int(row[4]) for row in items),
            )
            stated = (int(total[2]), int(total[3]), int(total[4]))
            assert stated == sums, f"{where}: the total row says {stated}; the rows add up to {sums}"
            assert total[0] == f"{start}{DASH}{items[-1][0].split(DASH)[1]}", f"{where}: total time {total[0]}"
            assert clock <= minutes_of(end), f"{where}: ends at {items[-1][0]}, after the stated end {end}"
            assert any(row[1] == "Lunch" and int(row[4]) >= 30 for row in items), f"{where}: no lunch break"
        assert covered == sorted(covered) and len(set(covered)) == len(covered), f"{session}: lessons {covered}"
        if session == "Three-day session":  # the longest plan teaches every lesson (two days hold 00-09)
            every = [found.number for found in all_lessons()]
            assert covered == every, f"{session} covers lessons {covered}, the workshop has {every}"


# --- `workshop docs`, the CLI reference and the notebooks ----------------------------------------


def test_workshop_docs_serves_the_site(report: Report) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-c", "from workshop.cli import main; main()", "docs", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # mkdocs serve runs as its child: stop the whole group
    )
    page = ""
    try:
        while time.perf_counter() - started < 60 and server.poll() is None and "Lesson 05" not in page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lessons/05/", timeout=5) as answer:
                    page = answer.read().decode("utf-8")
            except OSError:
                time.sleep(0.3)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    report.times["workshop docs"] = time.perf_counter() - started
    assert "Lesson 05" in page, f"`uv run workshop docs` did not serve lesson 05 within 60 s:\n{output}"


def test_workshop_docs_explains_when_there_is_no_site(workshop: Any) -> None:
    done = workshop("docs")
    assert done.returncode == 1 and "not there yet" in done.stdout, done.stdout + done.stderr


def test_every_cli_command_has_its_reference_section() -> None:
    import click
    import typer

    from workshop.cli import app

    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    commands: dict[str, click.Command] = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    missing = [name for name in commands if f"{{#{name}}}" not in text]
    for group in ("db", "class"):
        subcommands = commands[group].commands  # type: ignore[attr-defined]
        missing += [f"{group} {name}" for name in subcommands if f"`{group} {name}" not in text]
    assert not missing, f"docs/cli.md does not document: {missing}"


SKIPPED = {"site", "node_modules"}


def test_every_notebook_is_executed_by_the_suite() -> None:
    # checks/tests/test_notebooks.py executes LESSONS.glob("*/*.ipynb"); a notebook elsewhere would be skipped.
    found: list[str] = []
    for folder, subfolders, names in os.walk(REPO):
        # Not the environment, caches, the built site or saved learner files: those are nobody's notebooks.
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name not in SKIPPED]
        found += [(Path(folder) / name).relative_to(REPO).as_posix() for name in names if name.endswith(".ipynb")]
    executed = {path.relative_to(REPO).as_posix() for path in LESSONS.glob("*/*.ipynb")}
    assert found, "no notebook found at all"
    outside = sorted(set(found) - executed)
    assert not outside, f"notebooks that checks/tests/test_notebooks.py does not execute: {outside}"


# --- links, and the browser ----------------------------------------------------------------------


def repo_url() -> str:
    found = re.search(r"^repo_url:\s*(\S+)", (REPO / "mkdocs.yml").read_text(encoding="utf-8"), re.MULTILINE)
    assert found, "mkdocs.yml has no repo_url"
    return found[1].rstrip("/")


def test_every_internal_link_of_the_site_resolves(site: Site) -> None:
    folder = site.built()
    repository = repo_url()
    broken: list[str] = []
    for path in sorted(folder.rglob("*.html")):
        page = path.relative_to(folder).as_posix()
        base = f"http://site/{page}"
        for link in parse(path).links:
            url = urllib.parse.urlsplit(urllib.parse.urljoin(base, link))
            target = urllib.parse.unquote(url.path)
            if url.geturl().startswith(repository + "/"):
                # Links to repository files (and edit buttons) must name files that exist.
                parts = url.geturl()[len(repository) + 1 :].split("#")[0].split("/", 2)
                if len(parts) == 3 and parts[0] in {"blob", "tree", "edit"} and not (REPO / parts[2]).exists():
                    broken.append(f"{page}: {link} (no such file in the repository)")
                continue
            if url.netloc != "site" or page == "404.html":
                continue  # other sites; the 404 page links from the site's root wherever it is served
            file = folder / target.lstrip("/")
            if file.is_dir() or target.endswith("/"):
                file = file / "index.html"
            if not file.is_file():
                broken.append(f"{page}: {link} (404)")
            elif url.fragment and file.suffix == ".html" and url.fragment not in parse(file).ids:
                broken.append(f"{page}: {link} (no #{url.fragment} on that page)")
    assert not broken, "broken links on the site:\n" + "\n".join(broken)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """The built site on http://127.0.0.1:<free port>, from a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_site_works_in_a_browser(site: Site, report: Report) -> None:
    from playwright.sync_api import ConsoleMessage, Error, Request, Response, Route, sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}); the docs browser test needs it. Install Debian's chromium:\n"
            "    sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium\n"
            "(.ci/run does this on a fresh machine), or set WORKSHOP_CHROMIUM to a Chromium binary."
        )
    folder = site.built()
    started = time.perf_counter()
    problems: list[str] = []
    with serve(folder) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    problems.append(f"console error on {page.url}: {message.text} {message.location}")

            def route(route: Route) -> None:
                if route.request.url.startswith((base, "data:", "blob:")):
                    route.continue_()
                else:
                    problems.append(f"request outside the site from {page.url}: {route.request.url}")
                    route.abort()

            def failed(request: Request) -> None:
                # ERR_ABORTED is a load cancelled by the next navigation (the favicon), not a failure.
                if request.url.startswith(base) and request.failure != "net::ERR_ABORTED":
                    problems.append(f"request failed on {page.url}: {request.url} ({request.failure})")

            def crashed(error: Error) -> None:
                problems.append(f"JavaScript error on {page.url}: {error}")

            def answered(response: Response) -> None:
                if response.status >= 400:
                    problems.append(f"HTTP {response.status} on {page.url}: {response.url}")

            page.on("console", console)
            page.on("pageerror", crashed)
            page.on("requestfailed", failed)
            page.on("response", answered)
            page.route("**/*", route)

            # The home page, with its diagram drawn by the site's own Mermaid.
            page.goto(base + "/")
            # Material draws the diagram into a closed shadow root in place of the <pre>: wait for its size.
            page.wait_for_function(
                "() => { const d = document.querySelector('div.mermaid');"
                " return d !== null && d.getBoundingClientRect().height > 100; }",
                timeout=15_000,
            )

            # Through the navigation: the Lessons tab, then lesson 05 in the sidebar.
            page.locator(".md-tabs__link", has_text="Lessons").click()
            page.wait_for_url(base + "/lessons/")
            page.locator(".md-sidebar--primary a.md-nav__link", has_text="05 ·").first.click()
            page.wait_for_url(base + "/lessons/05/")
            heading = page.locator("article h1").first.inner_text()
            assert heading.startswith("Lesson 05"), f"the navigation led to {page.url}, titled {heading!r}"

            copy_buttons = page.locator("pre button[data-md-type=copy]").count()
            assert copy_buttons > 0, "lesson 05's code blocks have no copy button (theme feature content.code.copy)"

            # A search from lesson 05's page.
            search = page.locator("input.md-search__input")
            search.click()
            search.press_sequentially("idempotency", delay=20)
            page.wait_for_selector(".md-search-result__item", timeout=15_000)
            results = page.locator(".md-search-result__item").count()
            assert results > 0, "the search for 'idempotency' found nothing"
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            report.screenshot = SCREENSHOT.relative_to(REPO) if SCREENSHOT.is_relative_to(REPO) else SCREENSHOT

            # Dark mode, from the palette toggle in the header.
            page.keyboard.press("Escape")
            page.locator("form[data-md-component=palette] label:visible").first.click()
            scheme = page.locator("body").get_attribute("data-md-color-scheme")
            assert scheme == "slate", f"the palette toggle did not switch to dark mode (scheme {scheme!r})"

            # Every other page loads without a console error.
            for path in sorted(folder.rglob("index.html")):
                relative = path.parent.relative_to(folder).as_posix()
                page.goto(f"{base}/" if relative == "." else f"{base}/{relative}/")
                page.wait_for_load_state("load")
        finally:
            browser.close()
    report.times["browser"] = time.perf_counter() - started
    print(f"docs screenshot: {SCREENSHOT}")
    assert not problems, "the site misbehaves in Chromium:\n" + "\n".join(problems)
