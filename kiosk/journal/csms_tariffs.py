"""What the CSMS decided for the station, kept across a restart: a mixin of `Journal`, sharing
its connection and lock. Tariffs it set (OCPP 2.1 SetDefaultTariff), one per EVSE, until
ClearTariffs; transactions it stopped (RequestStopTransaction), so their end says so."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CsmsTariff:
    evse_id: int
    tariff_id: str
    ocpp_json: str  # the OCPP 2.1 TariffType as the CSMS sent it
    ocpi_json: str  # the OCPI tariff it converts to, exactly


class CsmsTariffJournal:
    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def csms_tariffs(self) -> dict[int, CsmsTariff]:
        rows = self._read("SELECT evse_id, tariff_id, ocpp_json, ocpi_json FROM ocpp_tariffs")
        return {row[0]: CsmsTariff(*row) for row in rows}

    def csms_set_tariff(
        self, evse_ids: Iterable[int], tariff_id: str, ocpp_json: str, ocpi_json: str
    ) -> None:
        """The tariff for these EVSEs from now on (all of them in one transaction)."""
        at = datetime.now(UTC).isoformat()
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO ocpp_tariffs (evse_id, tariff_id, ocpp_json, ocpi_json, set_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT (evse_id) DO UPDATE SET "
                "tariff_id = excluded.tariff_id, ocpp_json = excluded.ocpp_json, "
                "ocpi_json = excluded.ocpi_json, set_at = excluded.set_at",
                [(evse, tariff_id, ocpp_json, ocpi_json, at) for evse in evse_ids],
            )

    def csms_clear_tariffs(self, evse_ids: Iterable[int]) -> None:
        with self._tx() as conn:
            conn.executemany("DELETE FROM ocpp_tariffs WHERE evse_id = ?", [(e,) for e in evse_ids])

    def csms_note_remote_stop(self, transaction_id: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO ocpp_remote_stops (transaction_id, at) VALUES (?, ?)",
                (transaction_id, datetime.now(UTC).isoformat()),
            )

    def csms_remote_stopped(self, transaction_id: str) -> bool:
        rows = self._read(
            "SELECT 1 FROM ocpp_remote_stops WHERE transaction_id = ?", (transaction_id,)
        )
        return bool(rows)
