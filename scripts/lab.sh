#!/usr/bin/env bash
# Start JupyterLab on notebooks/, on loopback, and print its URL.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh
port=${1:-8888}
if ! engine_answers; then
  echo "No Docker engine answers: the notebooks run in REPLAY mode on recorded runs."
  export COURSE_BACKEND=replay
fi
exec .venv/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port="$port" \
  --ServerApp.root_dir=notebooks --no-browser $([ "$(id -u)" = 0 ] && echo --allow-root) ${LAB_ARGS:-}
