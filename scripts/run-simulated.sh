#!/usr/bin/env bash
# Set up (if needed) and start the kiosk on simulated hardware: simulated card terminal, meter,
# charge controller and the embedded backend. Extra arguments go to `evkiosk run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --quiet
exec .venv/bin/evkiosk run --simulate "$@"
