#!/usr/bin/env bash
# Make sure a Docker engine answers. When none does and we are root on a
# Debian/Ubuntu machine: install docker.io (with busybox-static and iptables),
# start dockerd in the background with its log in .engine/, and wait (bounded)
# until it answers. Otherwise print one sentence saying how to fix it, exit 1.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/progress.sh
. scripts/progress.sh
PACKAGES="docker.io busybox-static iptables"
WAIT_SECONDS=${ENGINE_WAIT_SECONDS:-90}

answers() { .venv/bin/python -c 'from course_helpers.engine import engine_answers as a; raise SystemExit(0 if a() else 1)'; }

if answers; then
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ]; then
  echo "DOCKER_HOST is set to $DOCKER_HOST but no Docker engine answers there: fix DOCKER_HOST or unset it." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "No Docker engine answers and this script can only install one as root on Debian/Ubuntu: start Docker (or Docker Desktop) yourself, or run 'sudo make engine'." >&2
  exit 1
fi

missing=""
for pkg in $PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  long_step "Installing$missing with apt-get (Debian packages)" "1 to 2 minutes"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq $missing; } >/dev/null ||
    { echo "Could not install$missing with apt-get: check the package mirror and try again." >&2; exit 1; }
  done_step
fi

mkdir -p .engine
if ! pgrep -x dockerd >/dev/null; then
  step "Starting dockerd in the background (log: .engine/dockerd.log); it usually answers within 5 to 20 s"
  setsid nohup dockerd >>.engine/dockerd.log 2>&1 </dev/null &
fi
deadline=$((SECONDS + WAIT_SECONDS))
until answers; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "dockerd did not answer within ${WAIT_SECONDS}s: read .engine/dockerd.log for the reason." >&2
    exit 1
  fi
  sleep 0.5
done
echo "Docker engine is up."
