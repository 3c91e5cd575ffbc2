"""`GET /metrics` in Prometheus text format (prometheus-client).

Two kinds of figures:
- counted by this process as requests pass: HTTP requests by route template, method and status
  (per worker process when uvicorn runs several);
- read from the database at scrape time, so every worker and every restart agrees: payment
  links by status, sessions ingested, payments by method and status with captured amounts,
  the books' discrepancies of yesterday and today by class (all of `books.ALL_CLASSES`:
  reconciliation, signed records, settlement, payouts, refunds, disputes) and how many of them
  are still open, and per station the age of its last session report (a kiosk whose outbox
  stopped delivering shows a growing age).

Amounts are exported in minor units (integers), never as float money. The endpoint names
stations but no card data; expose it to the monitoring network only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import books
from backend.models import ChargingSession, Payment, PaymentLink
from backend.services import Services

log = logging.getLogger(__name__)
UNMATCHED = "(unmatched)"  # requests no route took: one label, however many paths are probed


class RequestCounter:
    """ASGI middleware: counts each HTTP response by the route template that served it."""

    def __init__(self, app: ASGIApp, counter: Counter) -> None:
        self.app = app
        self.counter = counter
        # The counter's child per label set: labels() validates and locks on every call.
        self.children: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]  # an exception with no response is counted as the 500 it becomes

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = scope.get("route")
            labels = (
                getattr(route, "path", None) or UNMATCHED,
                scope.get("method", ""),
                str(status[0]),
            )
            child = self.children.get(labels)
            if child is None:
                child = self.children.setdefault(labels, self.counter.labels(*labels))
            child.inc()


class DatabaseCollector(Collector):
    """Figures read from the database at each scrape."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[Any]:
        try:
            yield from self._collect()
        except Exception:  # a scrape during a database outage must still answer
            log.exception("metrics: reading the database failed")
            up = GaugeMetricFamily("evkiosk_database_up", "1 if the last scrape read the database")
            up.add_metric([], 0)
            yield up

    def _collect(self) -> Iterator[Any]:
        now = self.svc.settings.now()
        links = GaugeMetricFamily(
            "evkiosk_payment_links", "payment links by status", labels=["status"]
        )
        sessions = CounterMetricFamily(
            "evkiosk_sessions_ingested", "session reports stored", labels=["method"]
        )
        payments = GaugeMetricFamily(
            "evkiosk_payments", "payments by method and status", labels=["method", "status"]
        )
        captured = CounterMetricFamily(
            "evkiosk_captured_minor",
            "captured amounts in minor units",
            labels=["method", "currency"],
        )
        age = GaugeMetricFamily(
            "evkiosk_station_last_report_age_seconds",
            "seconds since the station's last session report arrived",
            labels=["station"],
        )
        with self.svc.db.read() as s:
            for status, count in s.execute(
                select(PaymentLink.status, func.count()).group_by(PaymentLink.status)
            ):
                links.add_metric([status], count)
            for method, count in s.execute(
                select(ChargingSession.payment_method, func.count()).group_by(
                    ChargingSession.payment_method
                )
            ):
                sessions.add_metric([method], count)
            for method, status, count in s.execute(
                select(Payment.method, Payment.status, func.count()).group_by(
                    Payment.method, Payment.status
                )
            ):
                payments.add_metric([method, status], count)
            for method, currency, total in s.execute(
                select(Payment.method, Payment.currency, func.sum(Payment.captured_minor))
                .where(Payment.captured_minor.is_not(None))
                .group_by(Payment.method, Payment.currency)
            ):
                captured.add_metric([method, currency], int(total or 0))
            for station, last in s.execute(
                select(ChargingSession.station_id, func.max(ChargingSession.created_at)).group_by(
                    ChargingSession.station_id
                )
            ):
                age.add_metric([station], max(0.0, (now - _utc(last)).total_seconds()))
        yield from (links, sessions, payments, captured, age)
        yield from self._discrepancies(now)
        up = GaugeMetricFamily("evkiosk_database_up", "1 if the last scrape read the database")
        up.add_metric([], 1)
        yield up

    def _discrepancies(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        """The operator's books of yesterday and today: every class (reconciliation, signed
        records, settlement, payouts, refunds, disputes), found and still open."""
        today = now.date()
        found = books.books(self.svc.db, self.svc.settings, today - timedelta(days=1), today)
        by_class = dict.fromkeys(books.ALL_CLASSES, 0)
        still_open = dict.fromkeys(books.ALL_CLASSES, 0)
        for finding in found.findings():
            by_class[finding.cls] = by_class.get(finding.cls, 0) + 1
            if not finding.resolved:
                still_open[finding.cls] = still_open.get(finding.cls, 0) + 1
        family = GaugeMetricFamily(
            "evkiosk_reconciliation_discrepancies",
            "reconciliation discrepancies of yesterday and today (UTC days), by class",
            labels=["class"],
        )
        unresolved = GaugeMetricFamily(
            "evkiosk_reconciliation_open_discrepancies",
            "of those, the ones no operator has resolved with a note, by class",
            labels=["class"],
        )
        for cls in sorted(by_class):
            family.add_metric([cls], by_class[cls])
            unresolved.add_metric([cls], still_open[cls])
        yield family
        yield unresolved


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def install(app: FastAPI, svc: Services) -> None:
    """Add the request counter and `GET /metrics` to the app, with a registry of its own."""
    registry = CollectorRegistry()
    requests = Counter(
        "evkiosk_http_requests",
        "HTTP requests by route template, method and status",
        ["route", "method", "status"],
        registry=registry,
    )
    registry.register(DatabaseCollector(svc))
    app.add_middleware(RequestCounter, counter=requests)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(_request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
