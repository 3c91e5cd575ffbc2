"""The station's side of the operator backend's API (kiosk.devices.Backend) over HTTP.

Payment links: create (idempotent by key), long-poll for a change of status, cancel. Reports
go to /api/v1/<kind> with their idempotency key. Every failure to reach the backend or to
understand its answer becomes BackendError; the runtime decides when to try again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime

import httpx

from kiosk.devices import BackendAck, BackendError, LinkStatus, PaymentLink
from kiosk.tariff.jsonio import dumps as tariff_dumps


def _with_tariff(body_json: str, tariff: Mapping[str, object]) -> str:
    """Add the tariff to a JSON object text without passing its prices through float: the
    runtime hands over the frozen tariff as its canonical JSON text (`tariff_json`), which is
    spliced in as it is; a tariff object is written with the tariff engine's exact writer."""
    frozen = tariff.get("tariff_json")
    text = frozen if isinstance(frozen, str) and len(tariff) == 1 else tariff_dumps(dict(tariff))
    return body_json[:-1] + ', "tariff": ' + text + "}"


def _link(data: object) -> PaymentLink:
    if not isinstance(data, dict):
        raise BackendError(f"payment link: expected an object, got {type(data).__name__}")
    try:
        return PaymentLink(
            id=str(data["id"]),
            url=str(data["url"]),
            status=LinkStatus(data["status"]),
            expires_at=datetime.fromisoformat(str(data["expires_at"])),
            amount_minor=int(data["amount"]),
            currency=str(data["currency"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise BackendError(f"payment link: bad field in the backend's answer ({exc})") from exc


class HttpBackend:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 10.0,
        time_zone: str = "UTC",
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
        )
        self._timeout_s = timeout_s
        self._time_zone = time_zone
        self._known: dict[str, str] = {}  # link id -> the status last seen (long-poll base)
        self._lock = threading.Lock()
        self.last_link_id: str | None = None

    def _call(self, method: str, path: str, **kw: object) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise BackendError(f"{method} {path}: {exc}") from exc
        if response.status_code >= 500:
            raise BackendError(f"{method} {path}: HTTP {response.status_code}")
        return response

    def _json(self, response: httpx.Response, what: str) -> object:
        if response.status_code >= 400:
            raise BackendError(f"{what}: HTTP {response.status_code} {response.text[:200]}")
        try:
            return response.json()
        except ValueError as exc:
            raise BackendError(f"{what}: the answer is not JSON") from exc

    def _seen(self, link: PaymentLink) -> PaymentLink:
        with self._lock:
            self._known[link.id] = link.status.value
        return link

    def create_payment_link(
        self,
        connector_id: str,
        amount_minor: int,
        currency: str,
        tariff: Mapping[str, object],
        idempotency_key: str,
    ) -> PaymentLink:
        body: dict[str, object] = {
            "connector_id": connector_id,
            "amount": amount_minor,
            "currency": currency,
            "time_zone": self._time_zone,
        }
        content = _with_tariff(json.dumps(body, ensure_ascii=False), tariff)
        response = self._call(
            "POST",
            "/payment-links",
            content=content.encode(),
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
        )
        link = self._seen(_link(self._json(response, "create payment link")))
        self.last_link_id = link.id
        return link

    def wait_payment_link(self, link_id: str, wait_s: float) -> PaymentLink:
        with self._lock:
            known = self._known.get(link_id, LinkStatus.PENDING.value)
        response = self._call(
            "GET",
            f"/payment-links/{link_id}",
            params={"wait": wait_s, "status": known},
            timeout=self._timeout_s + wait_s,
        )
        return self._seen(_link(self._json(response, f"payment link {link_id}")))

    def cancel_payment_link(self, link_id: str) -> PaymentLink:
        response = self._call("POST", f"/payment-links/{link_id}/cancel")
        return self._seen(_link(self._json(response, f"cancel payment link {link_id}")))

    def report(self, kind: str, idempotency_key: str, payload: Mapping[str, object]) -> BackendAck:
        response = self._call(
            "POST", f"/{kind}", json=dict(payload), headers={"Idempotency-Key": idempotency_key}
        )
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text[:500]}
        accepted = response.status_code in (200, 201)
        return BackendAck(accepted, response.status_code, body if isinstance(body, dict) else {})

    def close(self) -> None:
        self._client.close()
