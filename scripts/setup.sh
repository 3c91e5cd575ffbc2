#!/usr/bin/env bash
# Prepare a checkout: check the system, create .venv, install evkiosk with its pinned deps.
# Safe to run again: it reinstalls only when pyproject.toml changed.
# Usage: scripts/setup.sh [--quiet]
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=${1:-}
say() { [ "$quiet" = "--quiet" ] || echo "setup: $*"; }
die() { echo "setup: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is missing. Install it: sudo apt-get install python3"
python3 - <<'PY' || die "evkiosk needs Python >= 3.11 (found $(python3 --version 2>&1))."
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

# Qt's offscreen/xcb plugins and the venv module are system packages on Debian.
missing=()
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1" || ls /usr/lib/*/"$1"* >/dev/null 2>&1; }
for pair in libEGL.so.1:libegl1 libGL.so.1:libgl1 libfontconfig.so.1:libfontconfig1 \
            libxkbcommon.so.0:libxkbcommon0 libdbus-1.so.3:libdbus-1-3 libglib-2.0.so.0:libglib2.0-0; do
  have_lib "${pair%%:*}" || missing+=("${pair##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  die "missing system packages: ${missing[*]}
  Install them with:  sudo apt-get install ${missing[*]}
  (or run .ci/run as root, which installs everything a fresh Debian machine lacks)"
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.evkiosk-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing evkiosk and its pinned dependencies into .venv (first run takes a minute)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev,backend]"
  echo "$want" > "$stamp"
fi
say "ready: .venv/bin/evkiosk"
