"""Tariffs from the CSMS (OCPP 2.1 part 2 §I): SetDefaultTariff, GetTariffs, ClearTariffs,
ChangeTransactionTariff.

A tariff the CSMS sets replaces the local tariff file of its EVSE(s): it is converted exactly to
our OCPI model (kiosk.tariff.ocpp21) or refused with the OCPP status and a reason, journaled
(so a restart prices with it again), and handed to the runtime as the connector's offer: the
tile and the price screen show it, the next session freezes it. ClearTariffs gives the EVSE its
local file back. A running session keeps the tariff it froze at connector choice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from kiosk.journal.store import Journal, JournalError
from kiosk.runtime.offers import offer_for, tariff_of
from kiosk.session.model import Offer
from kiosk.tariff.jsonio import dumps as tariff_dumps
from kiosk.tariff.ocpp21 import TariffRefused, from_ocpp

log = logging.getLogger(__name__)

Apply = Callable[[Mapping[str, Offer]], None]


def _info(code: str, text: str) -> dict[str, str]:
    return {"reasonCode": code, "additionalInfo": text[:1024]}


class CsmsTariffs:
    def __init__(
        self,
        journal: Journal,
        evse_ids: Mapping[str, int],
        local_offers: Mapping[str, Offer],
        apply: Apply,
        *,
        now: Callable[[], datetime],
        language: str = "en",
    ) -> None:
        self.journal = journal
        self.connector_of = {evse: cid for cid, evse in evse_ids.items()}
        self.local = dict(local_offers)  # the tariff files' offers, for ClearTariffs
        self.apply = apply
        self.now = now
        self.language = language

    def restore(self) -> None:
        """At start: the EVSEs whose tariff the CSMS set price with it again."""
        offers: dict[str, Offer] = {}
        for evse, stored in self.journal.csms_tariffs().items():
            cid = self.connector_of.get(evse)
            if cid is None:
                continue
            tariff = tariff_of(stored.ocpi_json)
            if tariff.currency != self.local[cid].currency:
                log.warning(  # the station's currency changed since: the file prices
                    "csms: tariff %s (%s) not used on EVSE %d: the station charges in %s",
                    stored.tariff_id,
                    tariff.currency,
                    evse,
                    self.local[cid].currency,
                )
                continue
            offers[cid] = offer_for(tariff, self.local[cid].hold_minor)
        if offers:
            log.info("csms: tariffs set by the CSMS in force on %s", ", ".join(sorted(offers)))
            self.apply(offers)

    # ------------------------------------------------------------------ SetDefaultTariff

    def set_default(self, evse_id: int, tariff: Mapping[str, Any]) -> dict[str, Any]:
        """``tariff`` as read with parse_float=Decimal (amounts exactly as sent)."""
        evses = self._evses(evse_id)
        if not evses:
            return {"status": "Rejected", "statusInfo": _info("UnknownEvse", f"EVSE {evse_id}")}
        tariff_id = str(tariff["tariffId"])
        ocpp_json = tariff_dumps(dict(tariff), indent=None)
        stored = self.journal.csms_tariffs()
        for other in stored.values():
            if other.tariff_id == tariff_id and other.ocpp_json != ocpp_json:
                return {
                    "status": "DuplicateTariffId",
                    "statusInfo": _info(
                        "DuplicateTariffId",
                        f"tariff {tariff_id!r} is set with other content (EVSE {other.evse_id})",
                    ),
                }
        currencies = {self.local[self.connector_of[e]].currency for e in evses}
        try:
            if len(currencies) != 1:
                raise TariffRefused(
                    "Rejected", "InvalidValue", "evseId", "its EVSEs charge in different currencies"
                )
            converted = from_ocpp(
                tariff, currency=currencies.pop(), now=self.now(), language=self.language
            )
        except TariffRefused as exc:
            log.warning("csms: tariff %s refused: %s", tariff_id, exc)
            return {"status": exc.status, "statusInfo": exc.status_info()}
        ocpi_json = tariff_dumps(converted.ocpi, indent=None)
        try:
            self.journal.csms_set_tariff(evses, tariff_id, ocpp_json, ocpi_json)
        except JournalError as exc:
            log.error("csms: tariff %s not kept: %s", tariff_id, exc)
            return {"status": "Rejected", "statusInfo": _info("InternalError", "journal")}
        self.apply(
            {
                self.connector_of[e]: offer_for(
                    converted.tariff, self.local[self.connector_of[e]].hold_minor
                )
                for e in evses
            }
        )
        log.info("csms: tariff %s in force on EVSE %s", tariff_id, evses)
        return {"status": "Accepted"}

    # ------------------------------------------------------------------ GetTariffs

    def get(self, evse_id: int) -> dict[str, Any]:
        evses = self._evses(evse_id)
        if not evses:
            return {"status": "Rejected", "statusInfo": _info("UnknownEvse", f"EVSE {evse_id}")}
        by_id: dict[str, list[int]] = {}
        for evse, stored in sorted(self.journal.csms_tariffs().items()):
            if evse in evses:
                by_id.setdefault(stored.tariff_id, []).append(evse)
        if not by_id:
            return {"status": "NoTariff"}
        return {
            "status": "Accepted",
            "tariffAssignments": [
                {"tariffId": tid, "tariffKind": "DefaultTariff", "evseIds": ids}
                for tid, ids in by_id.items()
            ],
        }

    # ------------------------------------------------------------------ ClearTariffs

    def clear(self, tariff_ids: list[str] | None, evse_id: int | None) -> dict[str, Any]:
        evses = set(self._evses(evse_id if evse_id is not None else 0))
        stored = self.journal.csms_tariffs()
        hits = {
            evse: s.tariff_id
            for evse, s in stored.items()
            if evse in evses and (tariff_ids is None or s.tariff_id in tariff_ids)
        }
        results: list[dict[str, Any]] = []
        if hits:
            try:
                self.journal.csms_clear_tariffs(hits)
            except JournalError as exc:
                log.error("csms: tariffs not cleared: %s", exc)
                return {
                    "clearTariffsResult": [
                        {"status": "Rejected", "statusInfo": _info("InternalError", "journal")}
                    ]
                }
            self.apply({self.connector_of[e]: self.local[self.connector_of[e]] for e in hits})
            log.info("csms: tariffs cleared on EVSE %s: the tariff files again", sorted(hits))
        cleared = sorted(set(hits.values()))
        results += [{"tariffId": tid, "status": "Accepted"} for tid in cleared]
        for tid in tariff_ids or ():
            if tid not in cleared:
                results.append({"tariffId": tid, "status": "NoTariff"})
        if not results:
            results.append({"status": "NoTariff"})
        return {"clearTariffsResult": results}

    # ------------------------------------------------------------------ ChangeTransactionTariff

    def change_transaction(
        self, transaction_id: str, tariff: Mapping[str, Any], running: Callable[[str], str | None]
    ) -> dict[str, Any]:
        """``running(transaction_id)`` is the connector of a running transaction, or None."""
        cid = running(transaction_id)
        if cid is None:
            return {"status": "TxNotFound"}
        if tariff.get("currency") != self.local[cid].currency:
            return {"status": "NoCurrencyChange"}
        # A session's tariff is frozen with the price the driver accepted and the hold the
        # card approved; changing it mid-session is not supported yet.
        return {
            "status": "Rejected",
            "statusInfo": _info(
                "UnsupportedRequest", "a running session keeps the tariff it was started with"
            ),
        }

    def _evses(self, evse_id: int) -> list[int]:
        if evse_id == 0:
            return sorted(self.connector_of)
        return [evse_id] if evse_id in self.connector_of else []
