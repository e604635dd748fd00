# Shared shell helpers for the scripts (sourced, not run); also the progress messages.
# engine_answers                  true when a Docker engine answers (the course's own check)
# missing_packages PKG...         prints the Debian packages of the list not installed yet
# apt_install WHY TIME PKG...     installs them with apt-get, saying why and how long it takes;
#                                 one sentence and status 1 when it cannot
# shellcheck source=scripts/progress.sh
. "$(dirname "${BASH_SOURCE[0]}")/progress.sh"

engine_answers() {
  .venv/bin/python -c 'from course_helpers.core.engine import engine_answers as a; raise SystemExit(0 if a() else 1)'
}

missing_packages() {
  local pkg missing=""
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  echo "${missing# }"
}

apt_install() {
  local why=$1 time=$2
  shift 2
  [ $# -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "$why needs Debian's $*: install them (as root: apt-get install $*)." >&2
    return 1
  fi
  long_step "Installing $* with apt-get (Debian packages, for $why)" "$time"
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >/dev/null ||
    { echo "Could not install $* with apt-get: check the package mirror and try again." >&2; return 1; }
  done_step
}
