"""The station's answers to the CSMS's tariff calls, on a real journal: what each EVSE offers
after SetDefaultTariff / ClearTariffs, the answers' statuses, and a reopen pricing again with
what the CSMS set."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from drivers.ocpp.tariffs import CsmsTariffs
from kiosk.journal.store import Journal
from kiosk.runtime.offers import offer_for
from kiosk.session.model import Offer
from kiosk.tariff import parse_tariff

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LOCAL = parse_tariff(
    {
        "id": "FILE",
        "currency": "EUR",
        "tax_included": "YES",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}]}],
    }
)
LOCAL_OFFERS = {"L": offer_for(LOCAL, 3000), "R": offer_for(LOCAL, 4000)}
EVSES = {"L": 1, "R": 2}


def tariff(tariff_id: str, price: str) -> dict[str, Any]:
    text = (
        f'{{"tariffId": "{tariff_id}", "currency": "EUR", "energy": {{"prices": '
        f'[{{"priceKwh": {price}}}], "taxRates": [{{"type": "VAT", "tax": 19}}]}}}}'
    )
    loaded: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return loaded


class Station:
    def __init__(self, journal: Journal) -> None:
        self.offers: dict[str, Offer] = dict(LOCAL_OFFERS)
        self.tariffs = CsmsTariffs(journal, EVSES, LOCAL_OFFERS, self.apply, now=lambda: NOW)

    def apply(self, offers: Mapping[str, Offer]) -> None:
        self.offers.update(offers)

    def ids(self) -> dict[str, str]:
        return {cid: offer.tariff_id for cid, offer in self.offers.items()}


def test_set_get_clear_and_a_reopen(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    station = Station(journal)
    assert station.tariffs.set_default(0, tariff("A", "0.30")) == {"status": "Accepted"}
    assert station.tariffs.set_default(2, tariff("B", "0.35")) == {"status": "Accepted"}
    assert station.ids() == {"L": "A", "R": "B"}
    assert station.offers["R"].hold_minor == 4000  # the station's hold stays
    assert station.offers["L"].price_lines[0].price_incl_vat == Decimal("0.30") * Decimal("1.19")
    duplicate = station.tariffs.set_default(2, tariff("A", "0.99"))
    assert duplicate["status"] == "DuplicateTariffId"
    assert station.tariffs.set_default(1, tariff("A", "0.30")) == {"status": "Accepted"}
    assert station.tariffs.set_default(3, tariff("C", "0.30"))["status"] == "Rejected"
    assert station.tariffs.get(0)["tariffAssignments"] == [
        {"tariffId": "A", "tariffKind": "DefaultTariff", "evseIds": [1]},
        {"tariffId": "B", "tariffKind": "DefaultTariff", "evseIds": [2]},
    ]
    journal.close()

    # A restart: the journal says what the CSMS set; the EVSEs price with it again.
    journal = Journal.open(tmp_path / "journal.db")
    again = Station(journal)
    again.tariffs.restore()
    assert again.ids() == {"L": "A", "R": "B"}
    # Clearing B at EVSE 1 clears nothing; at EVSE 2 gives R its file back.
    assert again.tariffs.clear(["B"], 1) == {
        "clearTariffsResult": [{"tariffId": "B", "status": "NoTariff"}]
    }
    assert again.tariffs.clear(["B"], 2) == {
        "clearTariffsResult": [{"tariffId": "B", "status": "Accepted"}]
    }
    assert again.ids() == {"L": "A", "R": "FILE"}
    assert again.offers["R"] == LOCAL_OFFERS["R"]
    assert again.tariffs.clear(None, None) == {
        "clearTariffsResult": [{"tariffId": "A", "status": "Accepted"}]
    }
    assert again.ids() == {"L": "FILE", "R": "FILE"}
    assert again.tariffs.get(0) == {"status": "NoTariff"}
    journal.close()


def test_a_refused_tariff_changes_nothing(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    station = Station(journal)
    bad = tariff("X", "0.30")
    bad["energy"]["prices"][0]["conditions"] = {"paymentBrand": "VISA"}
    answer = station.tariffs.set_default(0, bad)
    assert answer["status"] == "ConditionNotSupported"
    assert "paymentBrand" in answer["statusInfo"]["additionalInfo"]
    assert station.ids() == {"L": "FILE", "R": "FILE"}
    assert journal.csms_tariffs() == {}
    journal.close()


def test_after_a_change_of_the_stations_currency_the_file_prices(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    assert Station(journal).tariffs.set_default(1, tariff("A", "0.30"))["status"] == "Accepted"
    chf = offer_for(parse_tariff({**LOCAL.raw, "currency": "CHF"}), 3000)
    offers: dict[str, Offer] = {}
    tariffs = CsmsTariffs(journal, EVSES, {"L": chf, "R": chf}, offers.update, now=lambda: NOW)
    tariffs.restore()
    assert offers == {}  # EUR tariff not applied to a CHF station
    journal.close()
