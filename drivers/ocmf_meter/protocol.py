"""Signed transactions on the wire, for the two protocol families (implements
kiosk.ocmf.meter.SignedTransactionMeter).

The steps are the meters' own: write the metadata (charge point, the kiosk's transaction id,
the tariff text `TT`), send the begin command, later the end command, wait until the meter has
signed, read the record (and for Iskra the signature separately), confirm the read. A record
is never dropped here: `start_transaction` refuses while the meter still holds one, and
`recover` hands an unread record (or one it had to close) to the caller to journal first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from drivers.modbus.bus import DeviceLink
from drivers.ocmf_meter.signing_map import Area, SigningMap
from drivers.ocmf_meter.words import text_of, to_bytes, to_words
from kiosk.ocmf import OcmfError, parse_ocmf
from kiosk.ocmf.meter import SignerIdentity, SigningError, TransactionStart
from kiosk.ocmf.record import MAX_TARIFF_TEXT, assemble

POLLS = 50  # state polls before a step counts as failed (the meters answer within seconds)


class _Driver:
    def __init__(
        self,
        link: DeviceLink,
        smap: SigningMap,
        *,
        poll_s: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.link = link
        self.map = smap
        self._poll_s = poll_s
        self._sleep = sleep
        self._wall = wall
        self.name = f"signing meter {smap.model} unit {link.unit}"

    # ------------------------------------------------------------------ registers

    def _read(self, area: Area, words: int | None = None) -> list[int]:
        count = area.words if words is None else words
        out: list[int] = []
        while len(out) < count:
            n = min(self.map.max_read, count - len(out))
            out += self.link.read_registers(area.function, area.address + len(out), n)
        return out

    def _value(self, name: str) -> int:
        return self._read(self.map.area(name), 1)[0]

    def _write(self, name: str, words: list[int]) -> None:
        area = self.map.area(name)
        if len(words) > area.words:
            raise SigningError(f"{self.name}: {name} needs {len(words)} registers of {area.words}")
        for i in range(0, len(words), self.map.max_write):
            chunk = words[i : i + self.map.max_write]
            self.link.write_registers(area.address + i, chunk)

    def _state(self) -> str:
        return self.map.state_name(self._value("state"))

    def _wait_state(self, wanted: set[str], failed: set[str], step: str) -> str:
        for _ in range(POLLS):
            state = self._state()
            if state in wanted:
                return state
            if state in failed:
                raise SigningError(f"{self.name}: {step} failed, the meter reports {state!r}")
            self._sleep(self._poll_s)
        raise SigningError(f"{self.name}: {step}: the meter stayed {state!r}")

    def _check_text(self, start: TransactionStart) -> None:
        if len(start.tariff_text) > MAX_TARIFF_TEXT:
            raise SigningError(f"{self.name}: tariff text is over {MAX_TARIFF_TEXT} characters")
        if "|" in start.tariff_text + start.charge_point_id + start.transaction_id:
            raise SigningError(f"{self.name}: the pipe character is forbidden in OCMF")

    def _checked(self, text: str, transaction_id: str | None) -> str:
        try:
            record = parse_ocmf(text)
        except OcmfError as exc:
            raise SigningError(f"{self.name}: the meter's record is not OCMF ({exc})") from None
        found = record.payload.get("ID")
        if transaction_id is not None and found != transaction_id:
            raise SigningError(
                f"{self.name}: the record is for transaction {found!r}, not {transaction_id!r}"
            )
        return record.text

    def _key_hex(self, raw: bytes) -> str | None:
        if not raw.strip(b"\x00"):
            return None
        try:
            from kiosk.ocmf.crypto import load_public_key, public_key_hex  # noqa: PLC0415

            return public_key_hex(load_public_key(raw.hex()))  # cryptography: not at start
        except OcmfError:
            return None


class Em580Signer(_Driver):
    """Carlo Gavazzi EM580: tariff text and ids in registers, the whole record in one area."""

    def identity(self) -> SignerIdentity:
        kind = self._value("signature_type")
        raw = to_bytes(self._read(self.map.area("public_key")))[:65]  # 04‖X‖Y, then a 0 byte
        key = self._key_hex(raw) if kind == self.map.codes["signature_type_256"] else None
        fw = [self._value("firmware_measure"), self._value("firmware_comm")]
        firmware = " / ".join(f"{v >> 12}.{(v >> 8) & 15}.{v & 255}" for v in fw)
        serial = text_of(self._read(self.map.area("serial")))
        year = self._value("production_year")
        return SignerIdentity(self.map.model, f"{serial}.{year}", firmware, key, key is not None)

    def start_transaction(self, start: TransactionStart) -> None:
        self._check_text(start)
        state = self._state()
        if state != "idle":
            raise SigningError(f"{self.name}: cannot begin, the meter is {state!r} (recover first)")
        ident = start.transaction_id.encode()
        self._write("identification_status", [0])
        self._write("identification_type", [0])
        self._write("identification_data", to_words(ident, terminate=True))
        self._write("charge_point_id_type", [0])  # EVSEID
        self._write("charge_point_id", to_words(start.charge_point_id.encode(), terminate=True))
        self._write("tariff_text", to_words(start.tariff_text.encode(), terminate=True))
        self._write("session_modality", [0])  # charging a vehicle
        self._write("command", [self.map.codes["begin"]])
        self._wait_state({"running"}, {"corrupted"}, "begin")

    def end_transaction(self, transaction_id: str) -> None:
        self._write("command", [self.map.codes["end"]])
        self._wait_state({"ready"}, {"corrupted", "idle"}, "end")

    def read_record(self, transaction_id: str | None) -> str:
        size = self._value("record_size")
        area = self.map.area("record")
        if not 0 < size <= area.words * 2:
            raise SigningError(f"{self.name}: the meter reports a record of {size} bytes")
        raw = to_bytes(self._read(area, (size + 1) // 2))[:size]
        return self._checked(raw.decode("utf-8", errors="replace"), transaction_id)

    def confirm_read(self) -> None:
        self._write("state", [0])

    def recover(self) -> str | None:
        state = self._state()
        if state == "running":
            self._write("command", [self.map.codes["end"]])
            self._wait_state({"ready"}, {"corrupted", "idle"}, "end at start-up")
        elif state == "corrupted":
            # The failed end was journaled when it happened; abort so the meter takes sessions.
            self._write("command", [self.map.codes["abort"]])
            self._wait_state({"idle"}, set(), "abort of a corrupted transaction")
            return None
        elif state != "ready":
            return None
        return self.read_record(None)


class IskraSigner(_Driver):
    """Iskra WM3M4C: metadata as JSON in registers; signed values and signature read apart."""

    def identity(self) -> SignerIdentity:
        raw = to_bytes(self._read(self.map.area("public_key")))  # X‖Y
        key = self._key_hex(raw)
        serial = text_of(self._read(self.map.area("serial")))
        return SignerIdentity(self.map.model, serial, None, key, key is not None)

    def _status_ok(self, step: str) -> None:
        codes = self.map.codes
        for _ in range(POLLS):
            status = self._value("command_status")
            if status == codes["status_ok"]:
                return
            if status not in codes["status_busy"]:
                raise SigningError(f"{self.name}: {step} failed, signature status {status}")
            self._sleep(self._poll_s)
        raise SigningError(f"{self.name}: {step}: the signature stayed in progress")

    def _set_time(self) -> None:
        now = int(self._wall().timestamp())
        self._write("time", [(now >> 16) & 0xFFFF, now & 0xFFFF])
        self._write("time_offset", [0])  # UTC
        self._write("time_status", [2])  # set by the master (informative, not synchronised)

    def start_transaction(self, start: TransactionStart) -> None:
        self._check_text(start)
        state = self._state()
        if state != "idle":
            raise SigningError(f"{self.name}: cannot begin, the meter is {state!r} (recover first)")
        self._set_time()
        self._write("algorithm", [0])  # ECDSA-secp256r1-SHA256
        meta = {
            "FV": "1.0",
            "IS": False,
            "IT": "NONE",
            "ID": start.transaction_id,
            "CT": "EVSEID",
            "CI": start.charge_point_id,
            "TT": start.tariff_text,
        }
        data = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
        self._write("metadata", to_words(data))
        self._write("metadata_length", [len(data)])
        self._write("command", [self.map.codes["begin"]])
        self._wait_state({"running"}, set(), "begin")
        self._status_ok("begin")

    def end_transaction(self, transaction_id: str) -> None:
        self._write("command", [self.map.codes["end"]])
        codes = self.map.codes
        for _ in range(POLLS):
            status = self._value("command_status")
            if status not in codes["status_busy"] and status != codes["status_ok"]:
                raise SigningError(f"{self.name}: end failed, signature status {status}")
            if status == codes["status_ok"] and self._state() == "idle":
                return
            self._sleep(self._poll_s)
        raise SigningError(f"{self.name}: end: the meter did not close the transaction")

    def read_record(self, transaction_id: str | None) -> str:
        sig_len = self._value("signature_length")
        values_len = self._value("values_length")
        sig_area, values_area = self.map.area("signature"), self.map.area("values")
        if not 0 < sig_len <= sig_area.words * 2 or not 0 < values_len <= values_area.words * 2:
            raise SigningError(
                f"{self.name}: no signed record (values {values_len} B, signature {sig_len} B)"
            )
        signature = to_bytes(self._read(sig_area, (sig_len + 1) // 2))[:sig_len]
        values = to_bytes(self._read(values_area, (values_len + 1) // 2))[:values_len]
        text = assemble(values.decode("utf-8", errors="replace"), {"SD": signature.hex()})
        return self._checked(text, transaction_id)

    def confirm_read(self) -> None:
        """The WM3M4C has no confirmation register: the record stays until the next begin."""

    def recover(self) -> str | None:
        state = self._state()
        if state.startswith("running"):
            self.end_transaction("")
        elif self._value("values_length") == 0:
            return None
        # The last record may already be journaled: the journal keeps one per pagination.
        return self.read_record(None)


def build_signer(link: DeviceLink, smap: SigningMap, **kwargs: object) -> Em580Signer | IskraSigner:
    cls = Em580Signer if smap.protocol == "em580" else IskraSigner
    return cls(link, smap, **kwargs)  # type: ignore[arg-type]
