"""Build the rendered book: the six chapters as static HTML from their stored outputs.

``make book`` runs this (through ``scripts/book.sh``, which first builds the site theme).
Nothing executes: mystmd renders the outputs the notebooks already hold. Each page gets a
note saying which Docker Engine produced those outputs (read from the notebook's own
banner line, else from its replay recording), a "Run it yourself" pointer and a "Launch
on Binder" pointer. The notebooks themselves are never changed: prepared copies go to
``build/book/src`` and the HTML to ``build/book/html`` (both git-ignored).

Usage: ``python book/build.py [--theme DIR] [--prepare-only]``
"""

from __future__ import annotations

import argparse
import copy
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RECORDINGS = ROOT / "course_helpers" / "recordings"
CONFIG = ROOT / "book" / "myst.yml"
BUILD = ROOT / "build" / "book"
SRC = BUILD / "src"
HTML = BUILD / "html"
THEME = BUILD / "theme"

#: The banner a chapter's set-up cell prints: ``LIVE: Docker Engine X at …`` or
#: ``REPLAY: … recorded with Docker Engine X on …``.
BANNER = re.compile(r"^(LIVE|REPLAY):.*?Docker Engine (\S+)", re.MULTILINE)
#: Output kinds a static page cannot show (widgets need a kernel): dropped from the copies.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class BookError(RuntimeError):
    """A problem that stops the build; its message names the fix."""


def github_home(config: dict[str, Any] | None = None) -> str:
    """The course's public GitHub home (``OWNER/REPO``) from book/myst.yml, or ``""``."""
    config = config if config is not None else yaml.safe_load(CONFIG.read_text())
    value = str((config.get("project") or {}).get("github") or "").strip()
    return value.removeprefix("https://github.com/").strip("/")


def binder_url(home: str, notebook: str = "00_setup.ipynb") -> str:
    """The mybinder.org URL that opens ``notebooks/<notebook>`` of ``home`` in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{home}/HEAD?urlpath=lab/tree/notebooks/{notebook}"


class _HtmlText(html.parser.HTMLParser):
    """Text of an HTML output, one line per list item or summary, indented by nesting."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.depth = 0
        self.current = ""

    def _flush(self) -> None:
        if self.current.strip():
            self.lines.append("  " * max(self.depth - 1, 0) + self.current.strip())
        self.current = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("li", "summary", "p", "br", "tr", "div"):
            self._flush()
        if tag in ("ul", "ol", "details"):
            self._flush()
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("li", "summary", "p", "tr", "div"):
            self._flush()
        if tag in ("ul", "ol", "details"):
            self._flush()
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        self.current += data


def html_as_text(markup: str) -> str:
    """Plain text for an HTML output (the book renders no HTML outputs: their renderer
    would load MathJax from the internet)."""
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    parser._flush()
    return "\n".join(parser.lines) + "\n"


def badge_markdown(home: str) -> str:
    """The README's Binder badge for ``home`` (the line tests/unit/test_workflows.py expects)."""
    return f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({binder_url(home)})"


def _text(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def recorded_engine(nb: dict[str, Any], stem: str) -> dict[str, str]:
    """Which engine produced the notebook's stored outputs.

    Read from the banner its set-up cell printed; when no banner was stored, from the
    chapter's replay recording (``course_helpers/recordings/<stem>.json``, ``meta.engine``).
    The recording's OS and date are added when it was made on that same engine.

    Returns:
        ``{"engine": …, "mode": "live"|"replay"|"recording", "os": …, "date": …}``.

    Raises:
        BookError: neither the notebook nor a recording names an engine.
    """
    # One recording per engine set (recordings/28.5/, recordings/20.10/): the newest first.
    metas = [json.loads(p.read_text()).get("meta", {})
             for p in sorted(RECORDINGS.glob(f"*/{stem}.json"), reverse=True,
                             key=lambda p: tuple(int(n) for n in p.parent.name.split(".")
                                                 if n.isdigit()))]
    meta: dict[str, str] = metas[0] if metas else {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            found = BANNER.search(_text(output))
            if found:
                info = {"engine": found.group(2), "mode": found.group(1).lower()}
                meta = next((m for m in metas if m.get("engine") == info["engine"]), meta)
                if meta.get("engine") == info["engine"]:
                    info.update(os=meta.get("os", ""), date=meta.get("date", ""))
                return info
    if meta.get("engine"):
        return {"engine": meta["engine"], "mode": "recording", "os": meta.get("os", ""),
                "date": meta.get("date", "")}
    raise BookError(f"{stem}: no stored banner and no recording names an engine: store the "
                    "notebook's outputs from a clean run (make store-outputs) and build again.")


def note_markdown(stem: str, engine: dict[str, str], home: str) -> str:
    """The note each page starts with: where its outputs come from, how to run it."""
    where = f" on {engine['os']}" if engine.get("os") else ""
    when = f", {engine['date']}" if engine.get("date") else ""
    binder = (f"**[Launch on Binder]({binder_url(home, stem + '.ipynb')})**: JupyterLab in the "
              "browser, no engine there, so the notebook replays recorded runs" if home else
              "**Launch on Binder**: not yet; the course has no public home for Binder to "
              "build from")
    return (
        ":::{note} Outputs from a recorded run\n"
        ":class: dnc-provenance\n"
        f"The outputs on this page come from a recorded run on **Docker Engine "
        f"{engine['engine']}**{where}{when}; nothing ran to build this page. "
        "On your engine, addresses, ids and some lines differ: each chapter teaches "
        "what differs by engine version.\n\n"
        f"- **Run it yourself**: clone the course, then `make lab` (JupyterLab on "
        f"`notebooks/{stem}.ipynb`, on your own Docker engine).\n"
        f"- {binder}.\n"
        ":::\n"
    )


def prepare_notebook(nb: dict[str, Any], stem: str, home: str) -> dict[str, Any]:
    """A copy of ``nb`` for the book: the note after the title, static outputs only.

    Widget views are dropped (their text fallback stays); solution cells hidden in
    JupyterLab (``source_hidden``) are folded on the page (tag ``hide-cell``).
    """
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        # Cell ids must be unique across the whole book (mystmd uses them as targets).
        if cell.get("id"):
            cell["id"] = f"{stem}-{cell['id']}"
    note = {"cell_type": "markdown", "metadata": {}, "id": f"dnc-note-{stem}",
            "source": note_markdown(stem, recorded_engine(nb, stem), home)}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            data.pop(WIDGET_VIEW, None)
            if "text/html" in data:
                markup = data.pop("text/html")
                data["text/plain"] = html_as_text("".join(markup) if isinstance(markup, list)
                                                  else markup)
        if cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            tags = cell["metadata"].setdefault("tags", [])
            if "hide-cell" not in tags:
                tags.append("hide-cell")
    first_md = next((i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"), -1)
    nb["cells"].insert(first_md + 1, note)
    return nb


def _title(nb: dict[str, Any]) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def index_markdown(chapters: list[tuple[str, str]], home: str) -> str:
    """The landing page: what the course is, the chapters, how to run it."""
    lines = [
        "# Docker Networking, hands-on",
        "",
        "A Jupyter course that teaches Docker networking on a real Docker engine: every "
        "chapter starts containers, reads `ip addr` inside them, draws what it found and "
        "checks each claim in code. These pages show each chapter with the outputs of a "
        "recorded run, to read before you run it (or to project in class).",
        "",
        "## Chapters",
        "",
    ]
    lines += [f"- [{title}](./{stem}.ipynb)" for stem, title in chapters]
    lines += [
        "",
        "## Run it yourself",
        "",
        "Clone the course, then `make lab`: it sets up a virtual environment, a Docker "
        "engine and the course image, and starts JupyterLab on `notebooks/`.",
        "",
    ]
    if home:
        lines += [f"Or [launch it on Binder]({binder_url(home)}): no engine there, so the "
                  "notebooks replay recorded runs.", ""]
    return "\n".join(lines)


def _favicon(path: Path) -> str:
    """A small icon (a blue square with a white bridge bar) so the site serves one."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (37, 99, 235, 255))
    ImageDraw.Draw(image).rectangle((4, 14, 27, 17), fill=(255, 255, 255, 255))
    image.save(path)
    return path.name


def prepare(theme: Path) -> list[str]:
    """Write build/book/src: the prepared notebooks, index.md and myst.yml. Returns the stems."""
    config = yaml.safe_load(CONFIG.read_text())
    home = github_home(config)
    if SRC.exists():
        shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    chapters = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        (SRC / path.name).write_text(json.dumps(prepare_notebook(nb, path.stem, home),
                                                ensure_ascii=False, indent=1))
        chapters.append((path.stem, _title(nb) or path.stem))
    if not chapters:
        raise BookError(f"no chapter notebooks in {NOTEBOOKS}: run make book from the course.")
    (SRC / "index.md").write_text(index_markdown(chapters, home))
    project = config.setdefault("project", {})
    if home:
        project["github"] = f"https://github.com/{home}"
    else:
        project.pop("github", None)
    project["toc"] = [{"file": "index.md"}] + [{"file": f"{s}.ipynb"} for s, _ in chapters]
    site = config.setdefault("site", {})
    site["template"] = os.path.relpath(theme, SRC)
    site.setdefault("options", {})["favicon"] = _favicon(SRC / "favicon.png")
    (SRC / "myst.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return [s for s, _ in chapters]


def build(theme: Path) -> None:
    """Render build/book/src to static HTML in build/book/html (mystmd, nothing executes)."""
    env = {**os.environ, "JB_ALLOW_NODEENV": "0", "MYST_NO_TELEMETRY": "1"}
    # The Python wrapper's directory first: jupyter-book runs `node` from PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", "--html", "--ci"]
    result = subprocess.run(cmd, cwd=SRC, env=env)
    if result.returncode != 0:
        raise BookError(f"jupyter-book build failed (exit {result.returncode}): read its "
                        "output above.")
    if HTML.exists():
        shutil.rmtree(HTML)
    shutil.move(SRC / "_build" / "html", HTML)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", type=Path, default=THEME, help="the built site theme")
    parser.add_argument("--prepare-only", action="store_true", help="write build/book/src only")
    parser.add_argument("--badge", action="store_true",
                        help="print the README's Binder badge for the home in book/myst.yml")
    args = parser.parse_args(argv)
    if args.badge:
        home = github_home()
        if not home:
            print("book/myst.yml names no GitHub home (project.github): set it to OWNER/REPO "
                  "first.", file=sys.stderr)
            return 1
        print(badge_markdown(home))
        return 0
    try:
        if not (args.theme / "template.yml").exists():
            raise BookError(f"no site theme at {args.theme}: run scripts/book.sh (make book), "
                            "which builds it first.")
        stems = prepare(args.theme.resolve())
        if not args.prepare_only:
            build(args.theme.resolve())
            print(f"The book ({len(stems)} chapters) is in {HTML.relative_to(ROOT)}/: "
                  f"open {HTML.relative_to(ROOT)}/index.html")
    except BookError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
