#!/usr/bin/env bash
# Static checks: lint, types, import layering, and that generated files are current.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
echo "== ruff";         ruff check .
echo "== mypy (strict on veloro_core and veloro_sdk)"
mypy plugin-sdk/veloro_sdk veloro_core
echo "== import layering"; lint-imports
echo "== generated stubs";  python scripts/gen_proto.py --check
if [ -f scripts/gen_crds.py ]; then echo "== generated CRDs"; python scripts/gen_crds.py --check; fi
