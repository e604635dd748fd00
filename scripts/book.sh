#!/usr/bin/env bash
# make book: the six chapters as a static web book in build/book/html, from the notebooks'
# stored outputs (nothing executes). Sphinx with MyST-NB and the Sphinx Book Theme, all
# PyPI packages of the test extras (pyproject.toml), renders them; no Node.js, no download.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/progress.sh
. scripts/progress.sh

if ! .venv/bin/python -c 'import myst_nb, sphinx_book_theme' 2>/dev/null; then
  echo "make book needs Sphinx, MyST-NB and the Sphinx Book Theme in .venv: run scripts/setup.sh venv (it installs the test extras) and make book again." >&2
  exit 1
fi

# As root with unshare, in a network namespace holding only lo: the build can reach nothing.
step "Rendering the chapters from their stored outputs into build/book/html (about 10 s; nothing executes)"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && [ "${DNC_BOOK_NETNS:-1}" != 0 ]; then
  exec unshare --net -- .venv/bin/python book/build.py
fi
exec .venv/bin/python book/build.py
