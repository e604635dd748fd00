#!/usr/bin/env bash
# Make sure a Docker engine answers. When none does and we are root on a
# Debian/Ubuntu machine: install docker.io (with busybox-static and iptables),
# start dockerd in the background with its log in .engine/, and wait (bounded)
# until it answers. Otherwise print one sentence saying how to fix it, exit 1.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh
PACKAGES="docker.io busybox-static iptables"
WAIT_SECONDS=${ENGINE_WAIT_SECONDS:-90}

if engine_answers; then
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

# shellcheck disable=SC2046,SC2086 # one word per package
apt_install "a Docker engine" "1 to 2 minutes" $(missing_packages $PACKAGES) || exit 1

mkdir -p .engine
if ! pgrep -x dockerd >/dev/null; then
  step "Starting dockerd in the background (log: .engine/dockerd.log); it usually answers within 5 to 20 s"
  setsid nohup dockerd >>.engine/dockerd.log 2>&1 </dev/null &
fi
deadline=$((SECONDS + WAIT_SECONDS))
until engine_answers; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "dockerd did not answer within ${WAIT_SECONDS}s: read .engine/dockerd.log for the reason." >&2
    exit 1
  fi
  sleep 0.5
done
echo "Docker engine is up."
