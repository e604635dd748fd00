#!/usr/bin/env bash
# Debian's Chromium, ChromeDriver and a CJK font for the browser tests (no browser download).
# Idempotent; as root on Debian/Ubuntu only. Prints one sentence and exits 1 otherwise.
set -uo pipefail
PACKAGES="chromium chromium-driver fonts-wqy-microhei"  # a CJK font for the Chinese headings
missing=""
for pkg in $PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "The browser tests need Debian's$missing: install them (as root: apt-get install$missing)." >&2
  exit 1
fi
# shellcheck source=scripts/progress.sh
. "$(dirname "$0")/progress.sh"
long_step "Installing$missing with apt-get (Debian packages, for the browser tests)" "1 to 3 minutes"
export DEBIAN_FRONTEND=noninteractive
{ apt-get update -qq && apt-get install -y -qq $missing; } >/dev/null ||
  { echo "Could not install$missing with apt-get: check the package mirror and try again." >&2; exit 1; }
done_step
