#!/usr/bin/env bash
# Set everything up, idempotently: the virtual environment, then a Docker engine,
# then the course image. Usage: scripts/setup.sh [lab|test]
#   lab   a missing engine is not fatal (the course can replay recordings)
#   test  a missing engine is fatal; browser packages are installed too
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-test}

# 1. The virtual environment, reinstalled only when pyproject.toml or the pins changed.
#    binder/requirements.txt pins every package to the versions the tests use, so a
#    fresh clone (CI) gets the same versions as Binder and as the last green run.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ] ||
   [ binder/requirements.txt -nt .venv/.installed ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test]' -c binder/requirements.txt
  touch .venv/.installed
fi

# 2. A Docker engine (installed and started here when we are root on Debian/Ubuntu).
if ! scripts/engine.sh; then
  if [ "$purpose" = lab ]; then
    echo "Continuing without an engine: the notebooks will replay recorded runs."
    exit 0
  fi
  exit 1
fi

# 3. Browser packages for the browser tests (make test only).
if [ "$purpose" = test ]; then
  scripts/browser-deps.sh
fi

# 4. The course image, built offline from the host's static busybox.
.venv/bin/python -m course_helpers image
