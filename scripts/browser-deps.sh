#!/usr/bin/env bash
# Debian's Chromium, ChromeDriver and a CJK font for the browser tests (no browser download).
# Idempotent; as root on Debian/Ubuntu only. Prints one sentence and exits 1 otherwise.
set -uo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
PACKAGES="chromium chromium-driver fonts-wqy-microhei"  # a CJK font for the Chinese headings
# shellcheck disable=SC2046,SC2086 # one word per package
apt_install "the browser tests" "1 to 3 minutes" $(missing_packages $PACKAGES)
