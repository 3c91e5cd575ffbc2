#!/usr/bin/env bash
# Static checks CI runs before the tests: lint and format, the layer contracts, strict types.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --quiet
echo "== ruff check";  .venv/bin/ruff check .
echo "== ruff format"; .venv/bin/ruff format --check .
echo "== import-linter (layer rule)"; .venv/bin/lint-imports
echo "== mypy (strict on kiosk/, drivers/ and backend/)"; .venv/bin/mypy
