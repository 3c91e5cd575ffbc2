"""The kiosk's HTTP client for the operator backend (kiosk.devices.Backend)."""

import sys

# httpx imports its command-line client (click, rich, pygments: ~9 MB of resident memory and
# 100+ modules) whenever those happen to be installed; the station never runs it. With the
# module marked absent httpx skips it (its `main` then only says how to install the CLI).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from drivers.backend_client.client import BackendRejected, HttpBackend  # noqa: E402

__all__ = ["BackendRejected", "HttpBackend"]
