"""Tariffs the CSMS set (OCPP 2.1 SetDefaultTariff): a mixin of `Journal`, sharing its
connection and lock. One tariff per EVSE; kept until ClearTariffs, so a restart prices with
them again."""

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
