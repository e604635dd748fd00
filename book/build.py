"""Build the rendered book: the six chapters as static HTML from their stored outputs.

``make book`` runs this (through ``scripts/book.sh``). Nothing executes: Sphinx with
MyST-NB (``nb_execution_mode = "off"``, book/conf.py) renders the outputs the notebooks
already hold, in the Sphinx Book Theme; all of it comes from PyPI packages, and the pages
load nothing from elsewhere. Each page gets a note saying which Docker Engine produced
those outputs (read from the notebook's own banner line, else from its replay recording),
a "Run it yourself" pointer and a "Launch on Binder" pointer. The notebooks themselves are
never changed: prepared copies go to ``build/book/src`` and the HTML to
``build/book/html`` (both git-ignored).

Usage: ``python book/build.py [--prepare-only] [--badge]``
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"
RECORDINGS = ROOT / "course_helpers" / "recordings"
CONFIG = BOOK / "book.yml"
BUILD = ROOT / "build" / "book"
SRC = BUILD / "src"
HTML = BUILD / "html"
DOCTREES = BUILD / "doctrees"

#: The banner a chapter's set-up cell prints: ``LIVE: Docker Engine X at …`` or
#: ``REPLAY: … recorded with Docker Engine X on …``.
BANNER = re.compile(r"^(LIVE|REPLAY):.*?Docker Engine (\S+)", re.MULTILINE)
#: Widget views need a kernel: on the page, a line saying what the live notebook shows there.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ('<p class="dnc-widget">An interactive widget appears here when you run the '
               "chapter.</p>")


class BookError(RuntimeError):
    """A problem that stops the build; its message names the fix."""


def book_config() -> dict[str, Any]:
    """book/book.yml: the site's title, description and GitHub home."""
    return yaml.safe_load(CONFIG.read_text()) or {}


def github_home(config: dict[str, Any] | None = None) -> str:
    """The course's public GitHub home (``OWNER/REPO``) from book/book.yml, or ``""``."""
    config = config if config is not None else book_config()
    value = str(config.get("github") or "").strip()
    return value.removeprefix("https://github.com/").strip("/")


def binder_url(home: str, notebook: str = "00_setup.ipynb") -> str:
    """The mybinder.org URL that opens ``notebooks/<notebook>`` of ``home`` in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{home}/HEAD?urlpath=lab/tree/notebooks/{notebook}"


def badge_markdown(home: str) -> str:
    """The README's Binder badge for ``home`` (the line tests/unit/test_workflows.py expects)."""
    return f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({binder_url(home)})"


def _text(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in path.parent.name.split(".") if n.isdigit())


def recorded_engine(nb: dict[str, Any], stem: str) -> dict[str, str]:
    """Which engine produced the notebook's stored outputs.

    Read from the banner its set-up cell printed; when no banner was stored, from the
    chapter's replay recording (``course_helpers/recordings/<engine>/<stem>.json``,
    ``meta.engine``, the newest engine first). The recording's OS and date are added when
    it was made on that same engine.

    Returns:
        ``{"engine": …, "mode": "live"|"replay"|"recording", "os": …, "date": …}``.

    Raises:
        BookError: neither the notebook nor a recording names an engine.
    """
    metas = [json.loads(p.read_text()).get("meta", {})
             for p in sorted(RECORDINGS.glob(f"*/{stem}.json"), key=_version_key, reverse=True)]
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
    """The note each page starts with (MyST): where its outputs come from, how to run it."""
    where = f" on {engine['os']}" if engine.get("os") else ""
    when = f", {engine['date']}" if engine.get("date") else ""
    binder = (f"**[Launch on Binder]({binder_url(home, stem + '.ipynb')})**: JupyterLab in the "
              "browser, no engine there, so the notebook replays recorded runs" if home else
              "**Launch on Binder**: not yet; the course has no public home for Binder to "
              "build from")
    return (
        "```{admonition} Outputs from a recorded run\n"
        ":class: note dnc-provenance\n"
        f"The outputs on this page come from a recorded run on **Docker Engine "
        f"{engine['engine']}**{where}{when}; nothing ran to build this page. "
        "On your engine, addresses, ids and some lines differ: each chapter teaches "
        "what differs by engine version.\n\n"
        f"- **Run it yourself**: clone the course, then `make lab` (JupyterLab on "
        f"`notebooks/{stem}.ipynb`, on your own Docker engine).\n"
        f"- {binder}.\n"
        "```\n"
    )


def prepare_notebook(nb: dict[str, Any], stem: str, home: str) -> dict[str, Any]:
    """A copy of ``nb`` for the book: the note after the title, static outputs only.

    Widget views become a line saying a widget appears there when the chapter runs (their
    text fallback is a Python repr); solution cells hidden in JupyterLab
    (``source_hidden``) are folded on the page (MyST-NB's tag ``hide-cell``).
    """
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    note = {"cell_type": "markdown", "metadata": {}, "id": f"dnc-note-{stem}",
            "source": note_markdown(stem, recorded_engine(nb, stem), home)}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                output["data"] = {"text/html": WIDGET_NOTE}
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


def index_markdown(title: str, stems: list[str], home: str) -> str:
    """The landing page (MyST): what the course is, the chapters, how to run it."""
    lines = [
        f"# {title}",
        "",
        "A Jupyter course that teaches Docker networking on a real Docker engine: every "
        "chapter starts containers, reads `ip addr` inside them, draws what it found and "
        "checks each claim in code. These pages show each chapter with the outputs of a "
        "recorded run, to read before you run it (or to project in class).",
        "",
        "## Chapters",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *stems,
        "```",
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


def prepare() -> list[str]:
    """Write build/book/src: the prepared notebooks and index.md. Returns the chapter stems."""
    config = book_config()
    home = github_home(config)
    if SRC.exists():
        shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    stems = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        if not _title(nb):
            raise BookError(f"{path.name} has no title: start its first markdown cell with a "
                            "'# ' heading.")
        (SRC / path.name).write_text(json.dumps(prepare_notebook(nb, path.stem, home),
                                                ensure_ascii=False, indent=1))
        stems.append(path.stem)
    if not stems:
        raise BookError(f"no chapter notebooks in {NOTEBOOKS}: run make book from the course.")
    (SRC / "index.md").write_text(index_markdown(config["title"], stems, home))
    return stems


def build() -> None:
    """Render build/book/src to static HTML in build/book/html (Sphinx, nothing executes).

    Every Sphinx warning fails the build (a broken cross-reference, a heading MyST cannot
    place), so a page that renders is a page as the notebook meant it.
    """
    for old in (HTML, DOCTREES):
        if old.exists():
            shutil.rmtree(old)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
           "-c", str(BOOK), "-d", str(DOCTREES), str(SRC), str(HTML)]
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        raise BookError(f"sphinx-build failed (exit {result.returncode}): fix what its "
                        "warnings above name (a notebook cell, book/conf.py) and build again.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare-only", action="store_true", help="write build/book/src only")
    parser.add_argument("--badge", action="store_true",
                        help="print the README's Binder badge for the home in book/book.yml")
    args = parser.parse_args(argv)
    if args.badge:
        home = github_home()
        if not home:
            print("book/book.yml names no GitHub home (github:): set it to OWNER/REPO first.",
                  file=sys.stderr)
            return 1
        print(badge_markdown(home))
        return 0
    try:
        stems = prepare()
        if not args.prepare_only:
            build()
            print(f"The book ({len(stems)} chapters) is in {HTML.relative_to(ROOT)}/: "
                  f"open {HTML.relative_to(ROOT)}/index.html")
    except BookError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
