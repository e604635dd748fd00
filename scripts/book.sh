#!/usr/bin/env bash
# make book: the six chapters as a static web book in build/book/html, from the notebooks'
# stored outputs (nothing executes). Jupyter Book 2 (mystmd on Node.js) renders them with
# the book theme, built here once from its source in book/theme/ and npm packages (mystmd
# would otherwise download a prebuilt theme from the internet at build time).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/progress.sh
. scripts/progress.sh
THEME=build/book/theme

# 1. Node.js 18 or newer (Jupyter Book 2 runs mystmd on it).
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 18 ] || ! command -v npm >/dev/null; then
  echo "make book needs Node.js 18 or newer with npm (Jupyter Book 2 runs mystmd on it): install them (Debian: apt-get install nodejs npm) and run make book again." >&2
  exit 1
fi

# 2. The site theme, rebuilt only when book/theme/ changed.
stamp=$({ (cd book/theme && find . -type f | LC_ALL=C sort | xargs sha256sum); sha256sum scripts/book.sh; } | sha256sum | cut -c1-16)
if [ ! -f "$THEME/.built-$stamp" ]; then
  long_step "Building the book's site theme from npm packages into $THEME" "2 to 5 minutes"
  rm -rf "$THEME"
  mkdir -p "$THEME"
  cp -R book/theme/. "$THEME"/
  (
    cd "$THEME"
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
    # The Remix compiler cannot follow these two relative CSS @imports: inline them.
    css=node_modules/@jupyter-widgets/controls/css
    if grep -q "^@import './lumino.css';" "$css/widgets-base.css"; then
      { cat "$css/lumino.css" "$css/nouislider.css"
        grep -v "^@import './\(lumino\|nouislider\).css';" "$css/widgets-base.css"; } > "$css/widgets-base.css.new"
      mv "$css/widgets-base.css.new" "$css/widgets-base.css"
    fi
    # thebe's scripts, which every page loads (they run nothing unless asked to).
    npx --no-install copy-thebe-assets ./public >/dev/null
    npx --no-install tailwindcss -m -i ./styles/app.css -o app/styles/app.css 2>/dev/null
    npx --no-install remix build >/dev/null
  ) || { echo "Could not build the book's theme in $THEME: read the npm output above (the npm registry must be reachable)." >&2; exit 1; }
  touch "$THEME/.built-$stamp"
  done_step
fi

# 3. The pages. As root with unshare, in a network namespace holding only lo: mystmd
#    serves and crawls the site on loopback, and can reach nothing else.
step "Rendering the chapters from their stored outputs into build/book/html (about 30 s; nothing executes)"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && [ "${DNC_BOOK_NETNS:-1}" != 0 ]; then
  exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh .venv/bin/python book/build.py
fi
exec .venv/bin/python book/build.py
