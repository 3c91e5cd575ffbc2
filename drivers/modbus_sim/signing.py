"""Simulated signing meters (EM580, WM3M4C) behind the same pymodbus seam as the other devices.

The meter's transaction registers are laid out from the same map file the driver reads
(drivers/ocmf_meter/maps). On the end command the simulator signs a real OCMF record with its
own ECDSA secp256r1 key over the charging model's counter; the public key is readable where
the real meter publishes it. Faults (`inject_signing`): the end command fails, the signature
does not verify, a transaction number is skipped, the meter restarts mid-session.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus.registermap import Comms, Limits, RegisterMap, load_map
from drivers.modbus_sim.devices import READ_FUNCTIONS, SimulatedMeter, _ranges, _register_table
from drivers.modbus_sim.model import ChargingModel
from drivers.ocmf_meter.signing_map import SigningMap, load_signing_map
from drivers.ocmf_meter.words import text_of, to_bytes, to_words
from kiosk.ocmf.crypto import public_key_hex
from kiosk.ocmf.record import build_payload

SIGNING_FAULTS = ("stop_fails", "bad_signature", "pagination_gap")
VENDORS = {"em580": ("Carlo Gavazzi", "EM580"), "iskra": ("Iskra", "WM3M4C")}
_STATE = {"em580": {"idle": 0, "running": 1, "ready": 2, "corrupted": 3}}
_ISKRA_STATE = {"idle": 0, "running": 1, "running_after_reset": 3}


def _tm(when: datetime, sync: str) -> str:
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S,") + f"{when.microsecond // 1000:03d}"
    return f"{stamp}+0000 {sync}"


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class SimulatedSigningMeter(SimulatedMeter):
    def __init__(
        self,
        smap: SigningMap,
        model: ChargingModel,
        unit: int | None = None,
        *,
        key: ec.EllipticCurvePrivateKey | None = None,
        serial: str = "SIM0000001",
        firmware: tuple[int, int, int] = (1, 2, 3),
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        first_transaction: int = 1,
    ) -> None:
        live = load_map(smap.live_profile) if smap.live_profile else None
        regmap = live or RegisterMap(smap.model, "meter", smap.title, "", Comms(), Limits(), {})
        super().__init__(regmap, model, unit or smap.unit)
        self.smap = smap
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        self.public_key = public_key_hex(self.key.public_key())
        self.serial = serial
        self.firmware = firmware
        self._wall = wall
        self._lock = threading.Lock()
        self.next_transaction = first_transaction
        self.signing_faults: set[str] = set()
        self.written: dict[int, int] = {}  # registers the master wrote (metadata, texts)
        self.state = "idle"
        self.status = 1  # Iskra command status: idle
        self.begin: tuple[Decimal, str] | None = None
        self.record: bytes = b""  # EM580: the record; Iskra: the signed values
        self.signature: bytes = b""
        self.records: list[str] = []  # every record signed, for tests
        self.restarted = False
        self._clock_set: tuple[datetime, datetime, float] | None = None  # wall, at, rate

    def set_clock(self, at: datetime, rate: float = 1.0) -> None:
        """From now on the meter's clock reads `at` and runs at `rate` times the wall's pace
        (a meter's clock is its own: set by the master, or drifting)."""
        with self._lock:
            self._clock_set = (self._wall(), at, rate)

    def now(self) -> datetime:
        """The meter's own clock, which signs the begin and end times."""
        wall = self._wall()
        if self._clock_set is None:
            return wall
        since, at, rate = self._clock_set
        return at + (wall - since) * rate

    # ------------------------------------------------------------------ faults

    def inject_signing(self, fault: str) -> None:
        if fault not in SIGNING_FAULTS:
            raise ValueError(f"signing fault {fault!r} must be one of {', '.join(SIGNING_FAULTS)}")
        self.signing_faults.add(fault)

    def restart(self) -> None:
        """Power cycle mid-session: the transaction survives, the clock does not."""
        with self._lock:
            self.restarted = True
            if self.smap.protocol == "iskra" and self.state == "running":
                self.state = "running_after_reset"

    # ------------------------------------------------------------------ registers

    def _areas(self) -> list[tuple[int, int, int]]:
        return [(a.function, a.address, a.address + a.words) for a in self.smap.areas.values()]

    def simdevice(self) -> SimDevice:
        specs = list(self.regmap.registers.values())
        mine = self._areas()
        holding = _ranges(specs, self.regmap, 3) + [(s, e) for _, s, e in mine]
        inputs = _ranges(specs, self.regmap, 4) + [(s, e) for f, s, e in mine if f == 4]
        tables = (
            [SimData(65000 - 65000 % 16, values=[False] * 16, datatype=DataType.BITS)],
            [SimData(65000 - 65000 % 16, values=[False] * 16, datatype=DataType.BITS)],
            _register_table(_merge(holding)),
            _register_table(_merge(inputs)),
        )
        return SimDevice(self.unit, simdata=tables, action=self._action)

    def _owns(self, address: int, count: int) -> bool:
        return any(s <= address and address + count <= e for _, s, e in self._areas())

    async def _action(  # noqa: PLR0917 - the signature pymodbus calls
        self,
        function: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if not self._owns(address, count):
            return await super()._action(function, start, address, count, registers, values)
        self.requests += 1
        if function in READ_FUNCTIONS:
            if count > self.smap.max_read:
                return ExcCodes.ILLEGAL_VALUE
            image = self._image()
            for offset in range(count):
                registers[address - start + offset] = image.get(address + offset, 0)
            return None
        if values is None:
            return None
        with self._lock:
            return self._write(address, [int(v) for v in values])

    def _area_words(self, name: str) -> list[int]:
        area = self.smap.area(name)
        return [self.written.get(area.address + i, 0) for i in range(area.words)]

    def _put(self, image: dict[int, int], name: str, words: list[int]) -> None:
        area = self.smap.area(name)
        for i, word in enumerate(words[: area.words]):
            image[area.address + i] = word

    def _image(self) -> dict[int, int]:
        with self._lock:
            image = dict(self.written)
            numbers = self.key.public_key().public_numbers()
            xy = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
            if self.smap.protocol == "em580":
                major, minor, rev = self.firmware
                fw = (major << 12) | (minor << 8) | rev
                self._put(image, "firmware_measure", [fw])
                self._put(image, "firmware_comm", [fw])
                self._put(image, "signature_type", [0])
                self._put(image, "public_key", to_words(b"\x04" + xy + b"\x00"))
                self._put(image, "serial", to_words(self.serial.encode()[:14]))
                self._put(image, "production_year", [2026])
                self._put(image, "state", [_STATE["em580"][self.state]])
                self._put(image, "record_size", [len(self.record)])
                self._put(image, "record", to_words(self.record))
            else:
                self._put(image, "model", to_words(b"WM3M4C"))
                self._put(image, "serial", to_words(self.serial.encode()[:8]))
                self._put(image, "state", [_ISKRA_STATE[self.state]])
                self._put(image, "command_status", [self.status])
                self._put(image, "public_key", to_words(xy))
                self._put(image, "values_length", [len(self.record)])
                self._put(image, "values", to_words(self.record))
                self._put(image, "signature_length", [len(self.signature)])
                self._put(image, "signature", to_words(self.signature))
            return image

    def _write(self, address: int, words: list[int]) -> ExcCodes | None:
        for i, word in enumerate(words):
            self.written[address + i] = word
        codes = self.smap.codes
        if address == self.smap.area("command").address:
            if words[0] == codes["begin"]:
                return self._begin()
            if words[0] == codes["end"]:
                return self._end()
            if words[0] == codes.get("abort") and self.state == "corrupted":
                self.state, self.begin = "idle", None
                return None
            return ExcCodes.ILLEGAL_VALUE
        if self.smap.protocol == "iskra" and address == self.smap.area("time").address:
            if len(words) >= 2:
                at = datetime.fromtimestamp(words[0] << 16 | words[1], UTC)
                rate = 1.0 if self._clock_set is None else self._clock_set[2]
                self._clock_set = (self._wall(), at, rate)  # it runs on at its own pace
            return None
        if self.smap.protocol == "em580" and address == self.smap.area("state").address:
            if words[0] == 0 and self.state in ("ready", "corrupted"):
                self.state, self.record = "idle", b""  # the master confirmed the read
            self.written.pop(address, None)
        return None

    # ------------------------------------------------------------------ transactions

    def _reading_kwh(self) -> Decimal:
        return (Decimal(round(self.model.import_wh)) / 1000).quantize(Decimal("0.001"))

    def _begin(self) -> ExcCodes | None:
        if self.state != "idle":
            self.status = 131  # invalid state
            return None
        self.begin = (self._reading_kwh(), _tm(self.now(), "I"))
        self.state, self.status, self.restarted = "running", 15, False
        self.record, self.signature = b"", b""
        return None

    def _end(self) -> ExcCodes | None:
        if not self.state.startswith("running") or self.begin is None:
            self.status = 131
            return None
        if "stop_fails" in self.signing_faults:
            self.signing_faults.discard("stop_fails")
            if self.smap.protocol == "em580":
                self.state = "corrupted"
            else:
                self.status = 254  # signature error; the transaction stays open
            return None
        metadata = self._metadata()
        end = (self._reading_kwh(), _tm(self.now(), "U" if self.restarted else "I"))
        payload = build_payload(self._payload(metadata, self.begin, end))
        key = self.key
        if "bad_signature" in self.signing_faults:
            self.signing_faults.discard("bad_signature")
            key = ec.generate_private_key(ec.SECP256R1())
        signature = key.sign(payload.encode(), ec.ECDSA(hashes.SHA256()))
        if self.smap.protocol == "em580":
            section = {"SA": "ECDSA-secp256r1-SHA256", "SD": signature.hex().upper()}
            self.record = f"OCMF|{payload}|{json.dumps(section, separators=(',', ':'))}".encode()
            self.state = "ready"
        else:
            self.record, self.signature = payload.encode(), signature
            self.state, self.status = "idle", 15
        self.records.append(self.record.decode() if self.smap.protocol == "em580" else payload)
        self.begin = None
        return None

    def _metadata(self) -> dict[str, object]:
        if self.smap.protocol == "em580":
            return {
                "IS": bool(self._area_words("identification_status")[0]),
                "IT": "NONE",
                "ID": text_of(self._area_words("identification_data")),
                "CT": "EVSEID",
                "CI": text_of(self._area_words("charge_point_id")),
                "TT": text_of(self._area_words("tariff_text")),
            }
        size = self.written.get(self.smap.area("metadata_length").address, 0)
        raw = to_bytes(self._area_words("metadata"))[:size]
        try:
            meta = json.loads(raw.decode())
        except ValueError:
            meta = {}
        keep = ("IS", "IT", "ID", "CT", "CI", "TT")
        return {k: meta[k] for k in keep if k in meta} if isinstance(meta, dict) else {}

    def _payload(
        self, metadata: dict[str, object], begin: tuple[Decimal, str], end: tuple[Decimal, str]
    ) -> dict[str, object]:
        number = self.next_transaction
        if "pagination_gap" in self.signing_faults:
            self.signing_faults.discard("pagination_gap")
            number += 1  # a record the meter signed but nobody read
        self.next_transaction = number + 1
        vendor, model = VENDORS[self.smap.protocol]
        firmware = ".".join(str(v) for v in self.firmware)
        reading = {"RI": "1-b:1.8.0", "RU": "kWh", "RT": "AC", "EF": "", "ST": "G"}
        return {
            "FV": "1.0",
            "GI": f"{vendor} {model}",
            "GS": self.serial,
            "GV": firmware,
            "PG": f"T{number}",
            "MV": vendor,
            "MM": model,
            "MS": self.serial,
            "MF": firmware,
            "IS": False,
            **metadata,
            "RD": [
                {"TM": begin[1], "TX": "B", "RV": begin[0], **reading},
                {"TM": end[1], "TX": "E", "RV": end[0], **reading},
            ],
        }


def signing_meter(model_name: str, model: ChargingModel, **kwargs: object) -> SimulatedSigningMeter:
    return SimulatedSigningMeter(load_signing_map(model_name), model, **kwargs)  # type: ignore[arg-type]


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """For a simulator run in another process that must keep its key across restarts."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
