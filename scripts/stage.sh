#!/usr/bin/env bash
# One named stage of `make test`, timed, or the whole sequence of them.
#   scripts/stage.sh NAME CMD...     run CMD as stage NAME; say how long it took
#   scripts/stage.sh run NAME...     run `make NAME` for each stage in order (set-up
#                                    already done), stop at the first failure, print times
# A pytest run that collects no test (exit 5) fails the stage: a stage always tests something.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/progress.sh
. scripts/progress.sh

if [ "${1:-}" = run ]; then
  shift
  export DNC_READY=1
  summary=""
  for stage in "$@"; do
    start=$SECONDS
    if ! make --no-print-directory "$stage"; then
      echo "make test stopped at stage '$stage' (after $((SECONDS - start)) s): run 'make $stage' alone to repeat it." >&2
      exit 1
    fi
    summary="$summary  $stage $((SECONDS - start)) s"$'\n'
  done
  printf 'make test: every stage passed:\n%s' "$summary"
  exit 0
fi

name=$1
shift
step "stage '$name': $*"
start=$SECONDS
"$@"
rc=$?
took=$((SECONDS - start))
if [ "$rc" = 5 ]; then
  echo "stage '$name' collected no test (pytest exit 5): a stage must test something; check its paths." >&2
  exit 1
fi
if [ "$rc" != 0 ]; then
  echo "stage '$name' failed (exit $rc) after ${took} s." >&2
  exit "$rc"
fi
echo "stage '$name' passed in ${took} s."
