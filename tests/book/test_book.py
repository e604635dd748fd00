"""The rendered book (``make book``) as a reader sees it, in Debian's Chromium.

The built site (build/book/html, Sphinx + MyST-NB) is served on 127.0.0.1 by Python's
http.server and opened in headless Chromium through Playwright, with the browser tests'
flags (no browser download, nothing beyond loopback). As root, the server and Chromium
share a network namespace holding only ``lo``. For every chapter: the page loads with its
Chinese title (drawn in a CJK font), its figures are decoded, solutions are folded,
widgets are replaced by a line saying so, it names the engine of its recorded run and
how to run it, its internal links answer, and the console stays clean. Screenshots go
to artifacts/browser/book/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "book" / "html"
NOTEBOOKS = ROOT / "notebooks"
SHOTS = ROOT / "artifacts" / "browser" / "book"

pytestmark = pytest.mark.book


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The browser tests' Chromium (path and flags) and the book's GitHub home.
browser_conf = _load("dnc_browser_conftest", ROOT / "tests" / "browser" / "conftest.py")
book = _load("dnc_book_build", ROOT / "book" / "build.py")

#: Font families that draw Chinese (Debian's fonts-wqy-microhei, scripts/browser-deps.sh).
CJK_FONTS = re.compile(r"WenQuanYi|CJK|Noto Sans SC|Droid Sans Fallback|AR PL|YaHei|PingFang")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def can_isolate() -> bool:
    """Root, with unshare, nsenter and ip at hand, and not switched off (DNC_BROWSER_NETNS=0)."""
    if os.environ.get("DNC_BROWSER_NETNS", "1") == "0" or os.geteuid() != 0:
        return False
    return all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip"))


def _chapters() -> list[dict[str, object]]:
    """Each chapter notebook: title, stored figures, hidden solutions, widgets, banner engine."""
    found = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        title = next(line[2:].strip() for cell in nb["cells"] if cell["cell_type"] == "markdown"
                     for line in "".join(cell["source"]).splitlines() if line.startswith("# "))
        outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
        figures = sum(1 for o in outputs if "image/png" in o.get("data", {}))
        # The engine, read straight from the stored banner text (not through book/build.py).
        engine = next((m.group(1) for o in outputs for m in [re.search(
            r"^(?:LIVE|REPLAY):.*?Docker Engine (\S+)", "".join(
                o.get("text", "") or o.get("data", {}).get("text/plain", "")),
            re.MULTILINE)] if m), None)
        hidden = sum(1 for c in nb["cells"] if c["cell_type"] == "code"
                     and c.get("metadata", {}).get("jupyter", {}).get("source_hidden"))
        widgets = sum(1 for o in outputs if book.WIDGET_VIEW in o.get("data", {}))
        found.append({"stem": path.stem, "title": title, "figures": figures, "engine": engine,
                      "hidden": hidden, "widgets": widgets})
    return found


CHAPTERS = _chapters()


class StaticServer:
    """``python -m http.server`` on 127.0.0.1, in its own network namespace when root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.isolated = can_isolate()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-u", "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
               "--directory", str(SITE)]
        if self.isolated:
            cmd = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"',
                   "sh", *cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        # http.server prints this line once its socket listens; then it serves.
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "Serving HTTP" not in line:
            self.stop()
            raise RuntimeError(f"the static server did not start: {line!r}")
        # Its request log goes on in a thread (a full pipe would stall the server).
        SHOTS.mkdir(parents=True, exist_ok=True)
        self._log = threading.Thread(target=self._drain, daemon=True)
        self._log.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        with (SHOTS / "server.log").open("w") as log:
            for line in self.proc.stdout:
                log.write(line)

    def chromium(self, home: Path) -> Path:
        if not self.isolated:
            return browser_conf.CHROMIUM
        launcher = home / "chromium-in-netns"
        launcher.write_text(f"#!/bin/sh\nexec nsenter --net=/proc/{self.proc.pid}/ns/net -- "
                            f'{browser_conf.CHROMIUM} "$@"\n')
        launcher.chmod(0o755)
        return launcher

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def site() -> Iterator[StaticServer]:
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built book in {SITE.relative_to(ROOT)}: run `make book` first.",
                    pytrace=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    server = StaticServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def reader(site: StaticServer):
    """A headless Chromium page on the book; notes console errors and outside requests."""
    chromium = browser_conf.CHROMIUM
    if not (chromium.exists() and os.access(chromium, os.X_OK)):
        pytest.fail(f"the book test needs Debian's Chromium at {chromium}: run "
                    "scripts/browser-deps.sh (as root) or `make setup`.", pytrace=False)
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="dnc-book-"))
    driver = sync_playwright().start()
    context = driver.chromium.launch_persistent_context(
        str(home / "profile"), executable_path=str(site.chromium(home)), headless=True,
        # Any non-loopback request goes to a closed loopback port, where it fails.
        args=[*browser_conf.CHROMIUM_FLAGS, f"--proxy-server=http://127.0.0.1:{free_port()}"],
        viewport={"width": 1280, "height": 900}, service_workers="block")
    context.set_default_timeout(30_000)
    notes: dict[str, list[str]] = {"errors": [], "outside": []}

    def on_request(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
            notes["outside"].append(request.url)

    context.on("request", on_request)
    context.on("response", lambda r: r.status >= 400 and notes["errors"].append(
        f"HTTP {r.status} for {r.url}"))
    page = context.pages[0] if context.pages else context.new_page()
    page.on("console", lambda msg: msg.type == "error" and notes["errors"].append(
        f"{page.url}: {msg.text}"))
    page.on("pageerror", lambda exc: notes["errors"].append(f"{page.url}: {exc}"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page, notes
    context.close()
    driver.stop()
    shutil.rmtree(home, ignore_errors=True)
    assert not notes["outside"], f"the book tried to reach beyond loopback: {notes['outside']}"


def _open(page, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    page.wait_for_load_state("networkidle")


def _chapter_links(page, base: str) -> dict[str, str]:
    """Chapter stem -> URL, from the index page's body (Sphinx names pages after the file)."""
    hrefs = page.eval_on_selector_all("article a[href]",
                                      "els => els.map(e => e.getAttribute('href'))")
    links = {}
    for chapter in CHAPTERS:
        match = [h for h in hrefs if h.split("#")[0].split("/")[-1] == f"{chapter['stem']}.html"]
        if match:
            links[str(chapter["stem"])] = urljoin(base + "/", match[0])
    return links


def _fonts(page, selector: str) -> list[str]:
    """The font families Chromium drew the first ``selector`` element's text with."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return [f["familyName"] for f in fonts if f.get("glyphCount", 0) > 0]
    finally:
        cdp.detach()


def test_index_lists_every_chapter(site, reader):
    page, notes = reader
    _open(page, site.base + "/")
    page.screenshot(path=str(SHOTS / "index.png"), full_page=True)
    links = _chapter_links(page, site.base)
    assert sorted(links) == [c["stem"] for c in CHAPTERS], f"chapter links found: {links}"
    assert not notes["errors"], notes["errors"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c["stem"] for c in CHAPTERS])
def test_chapter_page(site, reader, chapter):
    page, notes = reader
    _open(page, site.base + "/")
    url = _chapter_links(page, site.base).get(str(chapter["stem"]))
    assert url, f"the index has no link to {chapter['stem']}"
    notes["errors"].clear()
    _open(page, url)

    # The title, Chinese included, as the notebook has it (without Sphinx's "#" anchor),
    # the Chinese drawn in a CJK font.
    h1 = page.locator("article h1").first.evaluate(
        "h => [...h.childNodes].filter(n => !(n.classList && n.classList.contains('headerlink')))"
        ".map(n => n.textContent).join('')").strip()
    assert h1 == chapter["title"], f"title {h1!r}, the notebook says {chapter['title']!r}"
    assert re.search(r"[\u4e00-\u9fff]", h1), f"no Chinese in the title {h1!r}"
    fonts = _fonts(page, "article h1")
    assert any(CJK_FONTS.search(f) for f in fonts), (
        f"the title is drawn in {fonts}, none of them a CJK font: run scripts/browser-deps.sh "
        "(it installs fonts-wqy-microhei).")

    # Figures: at least as many images as the notebook stores, every one decoded.
    page.evaluate("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function("[...document.images].every(i => i.complete)")
    images = page.evaluate("[...document.images].map(i => [i.currentSrc, i.naturalWidth])")
    figures = [img for img in images if "/_images/" in img[0] and img[0].endswith(".png")]
    assert len(figures) >= int(chapter["figures"]), (
        f"{len(figures)} figures on the page, {chapter['figures']} in the notebook: {images}")
    broken = [src for src, width in images if width == 0]
    assert not broken, f"images not decoded: {broken}"

    # Solutions folded as in JupyterLab; widgets replaced by a line, not a Python repr.
    folded = page.eval_on_selector_all("article details.hide", "els => els.map(e => e.open)")
    assert folded == [False] * int(chapter["hidden"]), (
        f"{chapter['hidden']} hidden solution cells in the notebook, folded on the page: {folded}")
    body = page.locator("article").first.inner_text()
    assert body.count("An interactive widget appears here") == chapter["widgets"]
    assert "VBox(children" not in body

    # The recorded-run note, with the engine the notebook's banner names, and the pointers.
    assert chapter["engine"], f"{chapter['stem']} stores no banner naming its engine"
    assert f"recorded run on Docker Engine {chapter['engine']}" in body
    assert "Run it yourself" in body and "Launch on Binder" in body
    home = book.github_home()
    binder = page.locator("a", has_text="Launch on Binder")
    if home:
        expected = book.binder_url(home, f"{chapter['stem']}.ipynb")
        assert binder.first.get_attribute("href") == expected
    else:
        assert binder.count() == 0, "a Binder link although the course has no public home"

    # Internal links answer (fetched by the page itself, in its namespace).
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    internal = sorted({h.split("#")[0] for h in hrefs if h.startswith(site.base)})
    statuses = page.evaluate(
        "async urls => Promise.all(urls.map(async u => [u, (await fetch(u)).status]))", internal)
    dead = [(u, s) for u, s in statuses if s != 200]
    assert internal and not dead, f"internal links that do not answer: {dead}"

    page.screenshot(path=str(SHOTS / f"{chapter['stem']}.png"), full_page=True)
    assert not notes["errors"], f"console errors: {notes['errors']}"
