#!/usr/bin/env bash
# Set everything up, idempotently: the virtual environment, then a Docker engine,
# then the course image. Usage: scripts/setup.sh [venv|lab|engine|test]
#   venv    only the virtual environment (lint, unit tests, the book)
#   lab     a missing engine is not fatal (the course can replay recordings)
#   engine  the venv, an engine (missing = fatal) and the course image
#   test    as engine, and the browser packages too
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-test}
# shellcheck source=scripts/progress.sh
. scripts/progress.sh

# 1. The virtual environment, reinstalled only when pyproject.toml or the pins changed.
#    binder/requirements.txt pins every package to the versions the tests use, so a
#    fresh clone (CI) gets the same versions as Binder and as the last green run.
if [ ! -x .venv/bin/python ]; then
  long_step "Creating the virtual environment in .venv" "a few seconds"
  python3 -m venv .venv
  done_step
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ] ||
   [ binder/requirements.txt -nt .venv/.installed ]; then
  long_step "Installing the course and its test tools into .venv (pinned by binder/requirements.txt)" \
    "1 to 3 minutes the first time, seconds after a change"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test]' -c binder/requirements.txt
  touch .venv/.installed
  done_step
fi
[ "$purpose" = venv ] && exit 0

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
step "The course image: built offline from the host's BusyBox when missing (about 10 s), else reused"
.venv/bin/python -m course_helpers image
