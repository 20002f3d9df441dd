#!/usr/bin/env bash
# Set up (idempotent) and run every check and test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/check.sh
. .venv/bin/activate
echo "== tests"
python -m pytest "$@"
