"""The backend: reachable, and the station's key accepted.

The probe is `GET /api/v1/reconciliation` for today with the station's bearer key: read-only,
answered only to an authenticated station (401 otherwise), and specific to the evkiosk API, so
a 200 proves URL, TLS and key together.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from drivers.doctor.result import Check, failed, passed, skipped
from kiosk.config import BackendConfig

PROBE = "/api/v1/reconciliation"


def check_backend(config: BackendConfig, timeout_s: float, now: datetime | None = None) -> Check:
    subject = config.url
    if config.hardware != "real":
        return skipped("backend", subject, "simulated: the kiosk starts the embedded backend")
    day = (now or datetime.now(UTC)).date().isoformat()
    try:
        with httpx.Client(timeout=min(timeout_s, config.timeout_s)) as client:
            answer = client.get(
                config.url + PROBE,
                params={"from": day, "to": day},
                headers={"Authorization": f"Bearer {config.token}"},
            )
    except httpx.ConnectError as exc:
        return failed(
            "backend",
            subject,
            f"cannot connect ({exc})",
            "check [backend] url, the network (ping, DNS) and that the backend runs",
        )
    except httpx.TimeoutException:
        return failed(
            "backend",
            subject,
            f"no answer within {timeout_s:g} s",
            "check the network and the backend's load; a firewall may drop the connection",
        )
    except httpx.HTTPError as exc:
        return failed("backend", subject, f"request failed ({exc})", "check [backend] url")
    if answer.status_code == 200:
        return passed("backend", subject, f"station {config.station_id}: key accepted")
    if answer.status_code in (401, 403):
        return failed(
            "backend",
            subject,
            f"the station key was refused ({answer.status_code})",
            f"put the key printed by `evkiosk backend add-station {config.station_id}` (or "
            "`rotate-key`) into [backend] token",
        )
    if answer.status_code == 404:
        return failed(
            "backend",
            subject,
            f"no evkiosk API at {config.url}{PROBE} (404)",
            "check [backend] url: the backend's base URL, without /api/v1",
        )
    return failed(
        "backend",
        subject,
        f"answered {answer.status_code}: {answer.text[:200]}",
        "look at the backend's log; run doctor again when it answers",
    )
