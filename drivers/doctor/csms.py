"""The CSMS link ([ocpp]): reachable, TLS trusted, the password accepted, one of the offered
OCPP versions agreed and the station's BootNotification accepted. One short connection, closed
at once."""

from __future__ import annotations

import asyncio
import ssl

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.typing import Subprotocol

from drivers.doctor.result import Check, failed, passed, warned
from drivers.ocpp.dialect import SUBPROTOCOLS, dialect_for
from drivers.ocpp.link import auth_headers, tls_context
from drivers.ocpp.peer import CsmsRefused, LinkClosed
from kiosk.config import OcppConfig


def check_csms(config: OcppConfig, timeout_s: float) -> Check:
    subject = config.endpoint
    try:
        return asyncio.run(asyncio.wait_for(_boot(config, timeout_s), timeout_s * 3))
    except InvalidStatus as exc:
        code = exc.response.status_code
        if code in (401, 403):
            return failed(
                "csms",
                subject,
                f"the CSMS refused the station's credentials (HTTP {code})",
                "check [ocpp] identity and the password in password_file / password_env with "
                "the operator",
            )
        return failed(
            "csms", subject, f"the CSMS answered HTTP {code}", "check [ocpp] url with the operator"
        )
    except ssl.SSLError as exc:
        return failed(
            "csms",
            subject,
            f"TLS failed ({exc.reason or exc})",
            "set [ocpp] ca_bundle to the CA that signed the CSMS's certificate; check the clock",
        )
    except (OSError, TimeoutError) as exc:
        return failed(
            "csms",
            subject,
            f"not reachable ({type(exc).__name__}: {exc})",
            "check [ocpp] url, the network (DNS, firewall) and that the CSMS runs",
        )
    except (WebSocketException, CsmsRefused, LinkClosed) as exc:
        return failed("csms", subject, str(exc), "check [ocpp] url and versions with the operator")


async def _boot(config: OcppConfig, timeout_s: float) -> Check:
    subject = config.endpoint
    async with connect(
        config.endpoint,
        subprotocols=[Subprotocol(SUBPROTOCOLS[v]) for v in config.versions],
        additional_headers=auth_headers(config),
        ssl=tls_context(config),
        open_timeout=timeout_s,
    ) as ws:
        dialect = dialect_for(ws.subprotocol)
        if dialect is None:
            offered = ", ".join(config.versions)
            return failed(
                "csms",
                subject,
                f"the CSMS speaks none of the offered OCPP versions {offered} "
                f"(it chose {ws.subprotocol!r})",
                "ask the operator which OCPP version the endpoint speaks; set [ocpp] versions",
            )
        peer = dialect.peer_class(config.identity, ws, timeout_s)
        reader = peer.listen()
        try:
            answer = await peer.call_dict(
                "BootNotification", dialect.boot("evkiosk doctor"), "doctor-1"
            )
        finally:
            reader.cancel()
    status = answer.get("status")
    security = "TLS" if config.url.startswith("wss://") else "no TLS"
    if status == "Accepted":
        return passed(
            "csms",
            subject,
            f"boot accepted (OCPP {dialect.version}, {security}, "
            f"heartbeat {answer.get('interval')} s)",
        )
    if status == "Pending":
        return warned(
            "csms",
            subject,
            "boot pending: the CSMS knows the station but has not accepted it yet",
            "ask the operator to accept the station",
        )
    return failed(
        "csms",
        subject,
        f"boot {status}: the CSMS does not accept this station",
        "ask the operator to register the identity in [ocpp] identity",
    )
