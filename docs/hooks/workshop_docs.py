"""MkDocs hook: the lesson READMEs are the lesson pages; agendas come from their minutes.

Why not pymdownx.snippets? A snippet is pasted into the page that includes it, so a link in a
README (`checks/test_transfers.py`, `../06/README.md`) would resolve from `docs/…`, not from
`lessons/05/`, and the strict build would fail on it (or the README would need links that are
wrong on GitHub). Instead this hook puts each `lessons/NN/README.md` on the site *as itself*:

- `on_files` adds every README as a page whose source is that file (read at build time, never
  copied into docs/) at the same relative place it has in the repository: `lessons/NN/README.md`,
  served at `lessons/NN/`. A link between lessons (`../06/README.md`) therefore resolves on the
  site exactly as on GitHub, and the strict build checks it. The edit button opens the README.
- `on_page_markdown` rewrites, on every page, each relative link that names a file of the
  repository which is not a page (`checks/test_x.py`, `race.ipynb`, `../../CONTRIBUTING.md`) to
  that file on the repository host, from `repo_url` and `edit_uri` in mkdocs.yml (the one place
  the URL lives). A link that names nothing is left alone, so the strict build fails on it.
- A README hides each hint in `<details>`; the hook adds md_in_html's `markdown="1"` so the code
  inside renders as it does on GitHub, styled as a collapsible tip.
- A README indents list-item content the GitHub way (to the item's text); `commonmark_lists`
  re-indents it the Python-Markdown way (4 spaces a level), or nested lists and fenced blocks in
  list items would render flattened or as text.
- The Lessons section of the navigation lists every `lessons/NN` folder that has a README.
- `<!-- lessons -->` and `<!-- agenda: NAME -->` markers become tables built from each README's
  `**Minutes:**` line (`workshop.authoring.agenda`): no minute is typed twice.
- A page with a diagram loads Mermaid from the site itself (`docs/assets/javascripts/`), so it
  draws offline; Material would fetch it from a CDN. Pages without a diagram do not load it.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from workshop.authoring import agenda
from workshop.lessons import is_hand_written

log = logging.getLogger("mkdocs.hooks.workshop_docs")

LESSON = re.compile(r"^\d{2}$")
FENCE = re.compile(r"^\s*(?:>\s*)*(`{3,}|~{3,})")
CLOSING = re.compile(r"^\s*(?:>\s*)*(`{3,}|~{3,})\s*$")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
INLINE_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]+)")
REFERENCE = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)(\S+?)(>?(?:\s.*)?)$")
HTML_LINK = re.compile(r"""(\b(?:href|src)=["'])([^"']+)""")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
ASSETS = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _lesson_readmes(config: MkDocsConfig) -> list[Path]:
    lessons = _root(config) / "lessons"
    if not lessons.is_dir():
        return []
    return sorted(p / "README.md" for p in lessons.iterdir() if LESSON.match(p.name) and (p / "README.md").is_file())


def _blob_base(config: MkDocsConfig) -> str:
    """`https://host/owner/repo/blob/BRANCH/` from repo_url and edit_uri (`edit/BRANCH/docs/`)."""
    branch = re.match(r"^(?:edit|blob|tree)/([^/]+)/", config.edit_uri or "")
    return f"{(config.repo_url or '').rstrip('/')}/blob/{branch[1] if branch else 'main'}/"


# --- configuration and files -----------------------------------------------------------------


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Fill the navigation's Lessons section with every lesson, titled from its README."""
    for item in config.nav or []:
        if isinstance(item, dict) and "Lessons" in item:
            section = item["Lessons"]
            if not isinstance(section, list):
                section = item["Lessons"] = [section]
            listed = {value for entry in section for value in (entry.values() if isinstance(entry, dict) else [entry])}
            for readme in _lesson_readmes(config):
                uri = f"lessons/{readme.parent.name}/README.md"
                if uri not in listed:
                    title = agenda.metadata(readme.parents[1], readme.parent.name).title
                    section.append({f"{readme.parent.name} · {title}": uri})
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Each lesson README (and any image beside it) becomes a file of the site, at its own path."""
    root = _root(config)
    docs = Path(config.docs_dir).resolve()
    for readme in _lesson_readmes(config):
        folder = readme.parent
        sources = [
            readme,
            *(
                path
                for path in sorted(folder.rglob("*"))
                if path.suffix.lower() in ASSETS and is_hand_written(path.relative_to(folder))
            ),
        ]
        for source in sources:
            uri = source.relative_to(root).as_posix()
            if files.get_file_from_path(uri) is not None:
                continue
            file = File.generated(config, uri, abs_src_path=str(source))
            # The edit button opens the README itself: edit_uri is relative to docs/.
            file.edit_uri = Path(os.path.relpath(source, docs)).as_posix()
            files.append(file)
    return files


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """`mkdocs serve` rebuilds when a lesson README changes."""
    for readme in _lesson_readmes(config):
        server.watch(str(readme), recursive=False)
    return server


# --- pages -----------------------------------------------------------------------------------


def _rewrite(target: str, page: Page, files: Files, config: MkDocsConfig) -> str:
    """A relative link: keep it when it names a page or site file, else point it at the repository."""
    if not target or target.startswith(("#", "/")) or SCHEME.match(target):
        return target
    path, mark, fragment = target.partition("#")
    path = path.split("?", 1)[0]
    if not path:
        return target
    here = posixpath.dirname(page.file.src_uri)
    in_site = posixpath.normpath(posixpath.join(here, path))
    if files.get_file_from_path(in_site) is not None:
        return target
    for index in ("README.md", "index.md"):  # `../06/` is the folder on GitHub, the page on the site
        if files.get_file_from_path(posixpath.join(in_site, index)) is not None:
            return posixpath.join(path.rstrip("/"), index) + mark + fragment
    root = _root(config)
    source = (Path(page.file.abs_src_path or "").parent / path).resolve()
    if not source.exists() or not source.is_relative_to(root):
        return target  # names nothing: the strict build reports it
    relative = source.relative_to(root).as_posix()
    base = _blob_base(config)
    if source.is_dir():
        base = base.replace("/blob/", "/tree/", 1)
    return base + relative + mark + fragment


def _rewrite_line(line: str, page: Page, files: Files, config: MkDocsConfig) -> str:
    def fix(found: re.Match[str]) -> str:
        return found[1] + _rewrite(found[2], page, files, config)

    reference = REFERENCE.match(line)
    if reference:
        return reference[1] + _rewrite(reference[2], page, files, config) + reference[3]
    pieces: list[str] = []
    position = 0
    for span in CODE_SPAN.finditer(line):  # leave `code` alone
        text = line[position : span.start()]
        pieces += [HTML_LINK.sub(fix, INLINE_LINK.sub(fix, text)), span[0]]
        position = span.end()
    text = line[position:]
    pieces.append(HTML_LINK.sub(fix, INLINE_LINK.sub(fix, text)))
    return "".join(pieces)


def _markers(markdown: str, config: MkDocsConfig) -> str:
    lessons = _root(config) / "lessons"

    def agenda_table(found: re.Match[str]) -> str:
        plans = agenda.sessions()
        session = plans.get(found[1])
        if session is None:
            log.warning(f"unknown agenda {found[1]!r}; known: {', '.join(plans)}")
            return found[0]
        try:
            for day in session.days:
                for problem in agenda.problems(day, agenda.schedule(day, lessons)):
                    log.warning(f"agenda {session.name}: {problem}")
            return agenda.render(session, lessons)
        except agenda.AgendaError as error:  # a warning fails the strict build, with this message
            log.warning(f"agenda {session.name}: {error}")
            return found[0]

    def lessons_table(found: re.Match[str]) -> str:
        rows = ["| lesson | teaching | exercises | minutes |", "|---|--:|--:|--:|"]
        for readme in _lesson_readmes(config):
            number = readme.parent.name
            try:
                found_lesson = agenda.metadata(readme.parents[1], number)
            except agenda.AgendaError as error:
                log.warning(str(error))
                continue
            link = f"[{number} · {found_lesson.title}]({number}/README.md)"
            rows.append(f"| {link} | {found_lesson.teaching} | {found_lesson.exercises} | {found_lesson.minutes} |")
        return "\n".join(rows)

    markdown = re.sub(r"<!--\s*agenda:\s*([\w-]+)\s*-->", agenda_table, markdown)
    return re.sub(r"<!--\s*lessons\s*-->", lessons_table, markdown)


def commonmark_lists(markdown: str) -> str:
    """Re-indent list-item content from GitHub's rule to Python-Markdown's.

    On GitHub (CommonMark) what belongs to a list item is indented to the item's text: 2 spaces
    under `- `, 3 under `1. `. Python-Markdown wants 4 spaces per level, and otherwise flattens a
    nested list into its parent or shows a fenced block as text. The READMEs are written for
    GitHub, so each line inside a list item is shifted to where Python-Markdown expects it. A
    fence that follows a line of text gets a blank line before and after it, as Python-Markdown
    needs; on GitHub that changes nothing.
    """
    out: list[str] = []
    items: list[tuple[int, int]] = []  # per open list item: (its content column here, on the site)
    fence: tuple[str, int, int, int] | None = None  # the open fence: character, length, column, shift
    after_fence = False
    for line in markdown.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        text = line[indent:]
        if fence is not None:
            shift = fence[3] if line.strip() and indent >= fence[2] else 0
            out.append(" " * (indent + shift) + text)
            closing = CLOSING.match(text)
            if closing and closing[1][0] == fence[0] and len(closing[1]) >= fence[1]:
                fence, after_fence = None, True
            continue
        if not line.strip():
            out.append(line)
            after_fence = False
            continue
        if after_fence:
            out.append("")
            after_fence = False
        while items and indent < items[-1][0]:
            items.pop()
        new = items[-1][1] + indent - items[-1][0] if items else indent
        opened = re.match(r"(`{3,}|~{3,})", text)
        if opened:
            if out and out[-1].strip():
                out.append("")
            fence = (opened[1][0], len(opened[1]), indent, new - indent)
        elif (item := re.match(r"([-*+]|\d{1,9}[.)])( {1,4})(?=\S)", text)) is not None:
            items.append((indent + len(item[0]), new + 4))
        out.append(" " * new + text)
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if re.fullmatch(r"lessons/\d{2}/README\.md", page.file.src_uri):  # written for GitHub
        markdown = commonmark_lists(markdown)
    lines: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        opened = FENCE.match(line)
        if fence is not None:
            closing = CLOSING.match(line)
            if closing and closing[1][0] == fence[0] and len(closing[1]) >= len(fence):
                fence = None
            lines.append(line)
            continue
        if opened:
            fence = opened[1]
            lines.append(line)
            continue
        line = re.sub(r"<details>", '<details class="tip" markdown="1">', line)
        lines.append(_rewrite_line(line, page, files, config))
    return _markers("\n".join(lines) + "\n", config)


MERMAID = "assets/javascripts/mermaid.min.js"


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Load the site's own Mermaid on the pages that have a diagram, before Material draws it."""
    if 'class="mermaid"' not in output:
        return output
    source = posixpath.relpath(MERMAID, posixpath.dirname(page.file.dest_uri) or ".")
    return output.replace("</body>", f'<script src="{source}"></script>\n</body>', 1)
