"""The station's side of the operator backend's API (kiosk.devices.Backend) over HTTPS.

Payment links: create (idempotent by key), long-poll for a change of status, cancel. Reports
go to the endpoint of their kind (see `wire.py`) with their idempotency key. TLS is verified
against the system's CAs unless a CA bundle is configured; it is never switched off.

Failures have two kinds, because the outbox treats them differently: `BackendError` (no
answer, a 5xx, an answer that is not the JSON it should be) means "try again later with the
same key"; a 4xx means the request itself is wrong and repeating it will not help — for a
report it comes back as a `BackendAck` with accepted=False, for a link call as
`BackendRejected`.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from drivers.backend_client.wire import UnsendableRecord, report_request, splice_tariff
from kiosk.devices import BackendAck, BackendError, LinkStatus, PaymentLink

# 4xx answers about the station or the moment, not about the record: an operator fixes the
# key or the backend's rate limit passes, and the queued reports must then go through.
_NOT_THE_REQUESTS_FAULT: dict[int, str] = {
    401: "the backend refused the station's key: check [backend] token and station_id",
    403: "the backend refused this station: check its registration on the backend",
    408: "the backend gave up waiting for the request; retrying later",
    425: "the backend asked to retry later",
    429: "the backend is rate limiting this station; retrying later",
}


# A batch request stays well below the backend's body limit (512 KiB) and record limit (200).
BATCH_MAX_RECORDS = 100
BATCH_MAX_BYTES = 384 * 1024


def _chunks(texts: list[str], max_records: int, max_bytes: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    size = 0
    for text in texts:
        if chunk and (len(chunk) == max_records or size + len(text) + 1 > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(text)
        size += len(text) + 1
    if chunk:
        yield chunk


class BackendRejected(BackendError):
    """The backend refused the request (4xx): the same request will be refused again."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def _link(data: object) -> PaymentLink:
    if not isinstance(data, dict):
        raise BackendError(f"payment link: expected a JSON object, got {type(data).__name__}")
    try:
        expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
        if expires.tzinfo is None:
            raise ValueError(f"expires_at {data['expires_at']!r} has no time zone")
        amount = data["amount"]
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError(f"amount {amount!r} is not an integer of minor units")
        return PaymentLink(
            id=str(data["id"]),
            url=str(data["url"]),
            status=LinkStatus(data["status"]),
            expires_at=expires,
            amount_minor=amount,
            currency=str(data["currency"]),
        )
    except KeyError as exc:
        raise BackendError(f"payment link: the answer has no field {exc}") from None
    except (ValueError, TypeError) as exc:
        raise BackendError(f"payment link: bad field in the answer ({exc})") from None


def _tls(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise BackendError(f"backend CA bundle {ca_bundle}: cannot be loaded ({exc})") from None


class HttpBackend:
    """One client per station; safe to call from the backend owner thread and the outbox
    sender thread at once (httpx.Client is thread-safe)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 10.0,
        time_zone: str = "UTC",
        ca_bundle: Path | None = None,
        receipt_secret: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout_s),
            verify=_tls(ca_bundle),
            transport=transport,
        )
        self._health_url = base_url.rstrip("/") + "/healthz"
        self._timeout_s = timeout_s
        self.time_zone = time_zone
        self._receipt_secret = receipt_secret
        self._known: dict[str, str] = {}  # link id -> the status last seen (long-poll base)
        self._lock = threading.Lock()
        self.last_link_id: str | None = None

    # ------------------------------------------------------------------ transport

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kw)
        except httpx.TimeoutException as exc:
            raise BackendError(f"{method} {path}: no answer in time ({exc!r})") from None
        except httpx.HTTPError as exc:
            raise BackendError(f"{method} {path}: cannot reach the backend ({exc})") from None
        if response.status_code >= 500:
            raise BackendError(
                f"{method} {path}: the backend failed (HTTP {response.status_code}); retrying later"
            )
        why = _NOT_THE_REQUESTS_FAULT.get(response.status_code)
        if why is not None:  # the same request will pass once this is fixed: retry, never park
            raise BackendError(f"{method} {path}: HTTP {response.status_code}: {why}")
        return response

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        """The answer's JSON object; a 4xx becomes BackendRejected naming the backend's reason."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if 400 <= response.status_code < 500:
            detail = data.get("detail") if isinstance(data, dict) else response.text[:200]
            raise BackendRejected(
                f"{what}: refused by the backend (HTTP {response.status_code}: {detail})",
                response.status_code,
            )
        if not 200 <= response.status_code < 300:
            raise BackendError(f"{what}: unexpected HTTP {response.status_code}")
        if not isinstance(data, dict):
            raise BackendError(
                f"{what}: the answer is not a JSON object (truncated or not JSON: "
                f"{response.text[:80]!r})"
            )
        return data

    def _seen(self, link: PaymentLink) -> PaymentLink:
        with self._lock:
            self._known[link.id] = link.status.value
        return link

    # ------------------------------------------------------------------ kiosk.devices.Backend

    def create_payment_link(
        self,
        connector_id: str,
        amount_minor: int,
        currency: str,
        tariff: Mapping[str, object],
        idempotency_key: str,
    ) -> PaymentLink:
        body = {
            "connector_id": connector_id,
            "amount": amount_minor,
            "currency": currency,
            "time_zone": self.time_zone,
        }
        content = splice_tariff(body, tariff)
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
        """Deliver one outbox record. 2xx (a replay too) is accepted; 4xx comes back as an
        ack that is not accepted (the outbox parks it); anything else raises BackendError."""
        if kind == "link_cancel":
            return self._cancel_report(payload)
        try:
            path, content = report_request(kind, payload, self.time_zone, self._receipt_secret)
        except UnsendableRecord as exc:  # refused here, as the backend would: park it
            return BackendAck(False, 0, {"detail": str(exc)})
        response = self._call(
            "POST",
            path,
            content=content.encode(),
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if 200 <= response.status_code < 300:
            if not isinstance(body, dict):
                # A 2xx whose body was cut off: the record may or may not be stored. The same
                # key makes a repeat safe, so treat it as "not known yet".
                raise BackendError(
                    f"POST {path}: HTTP {response.status_code} with an unreadable answer "
                    f"({response.text[:80]!r}); retrying with the same key"
                )
            return BackendAck(True, response.status_code, body)
        if 400 <= response.status_code < 500:
            answer = body if isinstance(body, dict) else {"text": response.text[:500]}
            return BackendAck(False, response.status_code, answer)
        raise BackendError(f"POST {path}: unexpected HTTP {response.status_code}")

    def report_sessions(
        self, records: Sequence[tuple[str, Mapping[str, object]]]
    ) -> list[BackendAck | BackendError]:
        """Deliver several session records at once (`POST /sessions:batch`, a backlog): one
        answer per record, in order, as `report` would give it, or the BackendError to retry
        that record with. Raises BackendError when the request as a whole failed."""
        answers: dict[int, BackendAck | BackendError] = {}
        texts: list[str] = []
        for i, (_key, payload) in enumerate(records):
            try:
                _path, text = report_request(
                    "session", payload, self.time_zone, self._receipt_secret
                )
            except UnsendableRecord as exc:  # refused here, as the backend would: park it
                answers[i] = BackendAck(False, 0, {"detail": str(exc)})
                continue
            texts.append(text)
        sendable = [i for i in range(len(records)) if i not in answers]
        for chunk in _chunks(texts, BATCH_MAX_RECORDS, BATCH_MAX_BYTES):
            which, sendable = sendable[: len(chunk)], sendable[len(chunk) :]
            for i, answer in zip(which, self._post_batch(chunk), strict=True):
                answers[i] = answer
        return [answers[i] for i in range(len(records))]

    def _post_batch(self, texts: list[str]) -> list[BackendAck | BackendError]:
        content = '{"sessions":[' + ",".join(texts) + "]}"
        response = self._call(
            "POST",
            "/sessions:batch",
            content=content.encode(),
            headers={"Content-Type": "application/json"},
        )
        data = self._json(response, "POST /sessions:batch")
        results = data.get("results")
        if not isinstance(results, list) or len(results) != len(texts):
            raise BackendError("POST /sessions:batch: the answer does not list every record")
        answers: list[BackendAck | BackendError] = []
        for r in results:
            code = r.get("status_code") if isinstance(r, dict) else None
            body = r.get("body") if isinstance(r, dict) else None
            if not isinstance(code, int) or not isinstance(body, dict):
                answers.append(BackendError("POST /sessions:batch: unreadable record result"))
            elif code >= 500 or code in _NOT_THE_REQUESTS_FAULT:
                answers.append(BackendError(f"POST /sessions:batch: a record got HTTP {code}"))
            else:
                answers.append(BackendAck(200 <= code < 300, code, body))
        return answers

    def _cancel_report(self, payload: Mapping[str, object]) -> BackendAck:
        """A cancel the kiosk could not deliver at the time, queued in the outbox."""
        link_id = payload.get("link_id")
        create = payload.get("create")
        if isinstance(create, dict):
            # The link's id was never journaled: the same request with the same key gives it.
            try:
                link_id = self.create_payment_link(
                    str(create["connector_id"]),
                    int(create["amount_minor"]),
                    str(create["currency"]),
                    {"tariff_json": str(create["tariff_json"])},
                    str(create["idempotency_key"]),
                ).id
            except BackendRejected as exc:
                return BackendAck(False, exc.status_code, {"detail": str(exc)})
            except (KeyError, TypeError, ValueError) as exc:
                return BackendAck(False, 0, {"detail": f"link_cancel record: {exc!r}"})
        if not isinstance(link_id, str) or not link_id:
            return BackendAck(False, 0, {"detail": "link_cancel record without a link_id"})
        response = self._call("POST", f"/payment-links/{link_id}/cancel")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if response.status_code < 300:
                raise BackendError(f"cancel payment link {link_id}: unreadable answer")
            body = {"text": response.text[:500]}
        return BackendAck(200 <= response.status_code < 300, response.status_code, body)

    def ping(self) -> bool:
        """Is the backend reachable and answering as a backend? (For the offline policy.)

        Asks the backend's health endpoint: a healthy station probes every 30 s, and a probe
        must not look like a failed request in either side's log."""
        try:
            response = self._client.get(self._health_url, timeout=min(self._timeout_s, 5.0))
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        try:
            return bool(response.json().get("status") == "ok")
        except (ValueError, AttributeError):
            return False

    def close(self) -> None:
        self._client.close()
