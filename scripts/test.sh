#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite headless, in parallel (pytest-xdist). Extra
# arguments go to pytest, e.g. scripts/test.sh tests/core -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --quiet
export QT_QPA_PLATFORM=offscreen PYTHONFAULTHANDLER=1
# The processes the tests start (kiosks, backends, simulators: hundreds) import compiled
# modules, as on an installed station (pip compiles); with PYTHONDONTWRITEBYTECODE set, each
# would otherwise compile the checkout's modules anew. Only new or changed files are compiled.
.venv/bin/python -m compileall -q -j 0 kiosk drivers ui backend tests bench >/dev/null
set +e
# One worker more than there are cores: many tests wait on the processes they started, and a
# third worker uses that time (2 cores: 8.4 min instead of 10). EVKIOSK_TEST_WORKERS overrides;
# -n 0 after it runs in one process. Whole files go to one worker, so a module's backend
# process or browser starts once.
workers=${EVKIOSK_TEST_WORKERS:-$(( $(nproc) + 1 ))}
.venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "test.sh: pytest collected no tests" >&2
fi
exit $rc
