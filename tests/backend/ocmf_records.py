"""Signed meter records for backend tests, made like a meter makes them (a real ECDSA key)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.ocmf.crypto import public_key_hex, sign_fields

KEY = ec.derive_private_key(0xE1C4, ec.SECP256R1())
PUBLIC = public_key_hex(KEY.public_key())


def record(
    session_id: str, number: int, begin_wh: int = 100_000, end_wh: int = 110_000, serial: str = "M1"
) -> str:
    def kwh(wh: int) -> Decimal:
        return (Decimal(wh) / 1000).quantize(Decimal("0.001"))

    reading = {"RI": "1-b:1.8.0", "RU": "kWh", "RT": "AC", "EF": "", "ST": "G"}
    return sign_fields(
        {
            "FV": "1.0",
            "GI": "Carlo Gavazzi EM580",
            "PG": f"T{number}",
            "MV": "Carlo Gavazzi",
            "MM": "EM580",
            "MS": serial,
            "IS": False,
            "IT": "NONE",
            "ID": session_id,
            "CT": "EVSEID",
            "CI": "DE*EVK*E0001*1",
            "TT": "0,49 EUR/kWh",
            "RD": [
                {"TM": "2026-03-02T09:00:00,000+0000 I", "TX": "B", "RV": kwh(begin_wh), **reading},
                {"TM": "2026-03-02T10:00:00,000+0000 I", "TX": "E", "RV": kwh(end_wh), **reading},
            ],
        },
        KEY,
    )


def entry(text: str | None, serial: str = "M1", **extra: Any) -> dict[str, Any]:
    """An `ocmf` item of a session report, as the kiosk's journal carries it."""
    item: dict[str, Any] = {
        "meter_serial": serial,
        "pagination": None,
        "record": text,
        "public_key": PUBLIC if text is not None else None,
        "signed": text is not None,
        "energy_wh": 10_000 if text is not None else 0,
        "flags": [] if text is not None else ["no_record"],
        "detail": "" if text is not None else "no signed record: end failed",
    }
    item.update(extra)
    return item
