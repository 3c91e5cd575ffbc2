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

# The venv module and Qt's libraries are system packages: one list, scripts/system-packages.txt.
# Checked before anything is installed, so a missing one costs seconds, not a pip run.
if command -v dpkg-query >/dev/null; then
  missing=$(scripts/system-packages.sh --missing)
  if [ -n "$missing" ]; then
    # A fresh machine needs no manual step: install them (asking sudo for a password if it
    # must), unless EVKIOSK_NO_APT=1 asks to be told the line instead.
    sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    if [ "${EVKIOSK_NO_APT:-}" = 1 ] || { [ -n "$sudo" ] && ! command -v sudo >/dev/null; }; then
      die "missing system packages: $missing
  Install them with:  sudo apt-get install $missing"
    fi
    echo "setup: installing the system packages evkiosk needs: $missing"
    # shellcheck disable=SC2086 # one word per package
    $sudo apt-get install -y --no-install-recommends $missing \
      || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends $missing; } \
      || die "could not install: $missing
  Install them with:  sudo apt-get install $missing"
  fi
else
  python3 -c 'import venv, ensurepip' 2>/dev/null \
    || die "python3's venv module is missing: install your distribution's python3-venv"
  say "not a Debian system: the libraries in scripts/system-packages.txt are not checked"
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
