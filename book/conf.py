"""Sphinx configuration of the rendered book (``make book``; ``sphinx-build -c book``).

The sources are the prepared notebook copies book/build.py writes to build/book/src/.
MyST-NB reads them with their stored outputs and executes nothing; the Sphinx Book Theme
lays them out. Every asset the pages load is in the built folder: no CDN, no web fonts,
no widget or MathJax scripts from elsewhere.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# book/build.py reads book/book.yml, the one place for the title and the GitHub home.
_spec = importlib.util.spec_from_file_location("dnc_book_build",
                                               Path(__file__).resolve().parent / "build.py")
assert _spec and _spec.loader
_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_build)
_BOOK = _build.book_config()
_HOME = _build.github_home(_BOOK)

project = _BOOK["title"]
html_title = _BOOK["title"]
language = "en"
root_doc = "index"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# Stored outputs only: nothing runs at build time.
nb_execution_mode = "off"
# Widgets need a kernel; book/build.py replaces their views, and no widget script is loaded.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
# Consecutive prints of one cell read as one block, as in JupyterLab.
nb_merge_streams = True
myst_heading_anchors = 3
# Titles and outputs exactly as the notebooks have them (no typographic quotes).
smartquotes = False

html_theme = "sphinx_book_theme"
html_static_path = ["static"]
html_css_files = ["book.css"]
html_favicon = "static/favicon.svg"
html_last_updated_fmt = None
html_show_sphinx = False
# Without a default colour mode, a first visit logs "Got invalid theme mode" to the console.
html_context = {"default_mode": "auto"}
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
    # One search field (the sidebar's), no header bar repeating it.
    "navbar_persistent": [],
    # No "By <author>" line: the course names no author.
    "footer_content_items": [],
    "use_repository_button": bool(_HOME),
    **({"repository_url": f"https://github.com/{_HOME}", "path_to_docs": "notebooks"}
       if _HOME else {}),
}
