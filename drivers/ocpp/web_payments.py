"""OCPP 2.1 C25 at the station: the CSMS's dynamic QR code on the free tiles, its
NotifyWebPaymentStarted (no local start on that EVSE meanwhile) and its RequestStartTransaction
with the payment's DirectPayment token (a session the CSMS's PSP holds the money for).

All of it only while the CSMS has set `WebPaymentsCtrlr.Enabled` true; otherwise a
RequestStartTransaction is refused as before (a CSMS-started session would pay for nothing the
station could hold)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from drivers.ocpp.variables import DeviceModel
from drivers.ocpp.webpay import WebPaySettings, settings_from

log = logging.getLogger(__name__)

COMPONENT = "WebPaymentsCtrlr"
NOT_ENABLED = {
    "reasonCode": "NotSupported",
    "additionalInfo": "charging starts after a payment at the station's own terminal or QR "
    "code; web payments (WebPaymentsCtrlr) are not enabled",
}


class StationHooks(Protocol):
    """What the runtime does for C25 (kiosk.runtime.core.Runtime)."""

    def remote_start(self, connector_id: str, psp_ref: str, remote_start_id: int) -> str | None:
        """Start a CSMS-paid session; its transaction id, or None when it cannot start."""
        ...

    def web_payment_started(self, connector_id: str, timeout_s: int) -> None: ...

    def set_web_pay(
        self, code: Callable[[str, datetime], tuple[str, datetime] | None] | None
    ) -> None: ...


class WebPayments:
    def __init__(
        self,
        model: DeviceModel,
        station: StationHooks,
        identity: str,
        evse_ids: Mapping[str, int],
    ) -> None:
        self.model = model
        self.station = station
        self.identity = identity
        self.evse_ids = dict(evse_ids)  # connector id -> EVSE id
        self._lock = threading.Lock()
        self._settings = settings_from(model.values(COMPONENT))
        self._publish()

    @property
    def settings(self) -> WebPaySettings:
        with self._lock:
            return self._settings

    def changed(self, component: str, variable: str, value: str) -> None:
        """A WebPaymentsCtrlr value the CSMS set (already kept in the journal)."""
        if component != COMPONENT:
            return
        with self._lock:
            values = self.model.values(COMPONENT)
            values[variable] = value
            self._settings = settings_from(values)
        self._publish()

    def code(self, connector_id: str, at: datetime) -> tuple[str, datetime] | None:
        """The connector's QR code URL at `at` and when it changes (the runtime asks)."""
        settings = self.settings
        evse = self.evse_ids.get(connector_id)
        if evse is None or not settings.ready:
            return None
        return settings.url(self.identity, evse, at)

    def notify_started(self, evse_id: int, timeout_s: int) -> None:
        """NotifyWebPaymentStarted: block local starts on the EVSE (0 lifts the block)."""
        connector = self._connector(evse_id)
        if connector is None or not self.settings.enabled:
            log.warning("csms: NotifyWebPaymentStarted for EVSE %s ignored", evse_id)
            return
        self.station.web_payment_started(connector, max(0, timeout_s))

    def request_start(
        self, evse_id: int | None, id_token: Mapping[str, Any], remote_start_id: int
    ) -> tuple[str, dict[str, str] | None]:
        """RequestStartTransaction: (status, statusInfo)."""
        if not self.settings.enabled:
            return "Rejected", NOT_ENABLED
        if id_token.get("type") != "DirectPayment":
            return "Rejected", {
                "reasonCode": "InvalidIdToken",
                "additionalInfo": "only a web payment's DirectPayment token starts a session",
            }
        connector = None if evse_id is None else self._connector(evse_id)
        if connector is None:
            return "Rejected", {"reasonCode": "UnknownEvse"}
        started = self.station.remote_start(connector, str(id_token["idToken"]), remote_start_id)
        if started is None:
            return "Rejected", {"reasonCode": "NotAvailable"}
        log.info("csms: web payment %s starts transaction %s", remote_start_id, started)
        return "Accepted", None

    def _connector(self, evse_id: int) -> str | None:
        return next((c for c, e in self.evse_ids.items() if e == evse_id), None)

    def _publish(self) -> None:
        self.station.set_web_pay(self.code if self.settings.ready else None)
