"""Device doubles whose whole state lives in JSON files, so it survives a SIGKILL.

The card terminal keeps "the bank side": every hold with its status and every operation, so a
crash test can check after the kill that each hold was booked or reversed exactly once. It
behaves like a ZVT terminal where it matters: an approval is only kept once the kiosk has
acknowledged it (returned from `persist`); an unacknowledged one is reversed by the terminal.

One "plant" file per connector models the vehicle, the controller and the meter together:
energy flows at `power_w` while the vehicle is plugged, requests energy and charging is enabled.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.devices import (
    BackendAck,
    BackendError,
    CardResult,
    ControllerStatus,
    DeviceTimeout,
    EndOfDayTotals,
    IecState,
    LinkStatus,
    MeterReading,
    OpenPreauth,
    PaymentLink,
    PaymentOutcome,
    ResultSink,
    StatusTextSink,
    TerminalStatus,
)

Now = Callable[[], datetime]


@contextmanager
def locked_json(path: Path, default: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Read-modify-write a JSON file under an exclusive lock; written atomically."""
    lock = path.with_suffix(".lock")
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            data = (
                json.loads(path.read_text()) if path.exists() else json.loads(json.dumps(default))
            )
            yield data
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            os.replace(tmp, path)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_json(path: Path) -> dict[str, Any]:
    with locked_json(path, {}) as data:
        return dict(data)


class FileCardTerminal:
    """A card terminal and its acquirer, in one file."""

    MASKED_PAN = "541333******1234"

    def __init__(self, path: Path, terminal_id: str = "52523535") -> None:
        self.path = path
        self.terminal_id = terminal_id
        self._abort = threading.Event()
        with self._state() as s:
            # A restart of the kiosk: approvals it never acknowledged are reversed by the
            # terminal itself (ZVT auto-reversal).
            for hold in s["holds"].values():
                if hold["status"] == "pending_ack":
                    hold["status"] = "auto_reversed"
                    hold["ops"].append("auto_reversal")

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        default = {"next_receipt": 231, "next_trace": 975, "holds": {}, "script": [], "faults": {}}
        with locked_json(self.path, default) as data:
            yield data

    # -- test controls
    def script(self, *outcomes: PaymentOutcome) -> None:
        with self._state() as s:
            s["script"] = [o.value for o in outcomes]

    def fault(self, name: str, value: Any = True) -> None:
        with self._state() as s:
            s["faults"][name] = value

    def holds(self) -> dict[str, Any]:
        with self._state() as s:
            return dict(s["holds"])

    def die_at(self, step: str, number: int) -> None:
        """Crash drills: SIGKILL the process when the bank has done its part of the
        `number`-th `step` ("preauth", "settle") and before the kiosk heard of it."""
        with self._state() as s:
            s["faults"]["die_at"] = [step, number]

    def _maybe_die(self, step: str) -> None:
        with self._state() as s:
            count = s.setdefault("counts", {}).get(step, 0) + 1
            s["counts"][step] = count
            die = s["faults"].get("die_at") == [step, count]
        if die:
            os.kill(os.getpid(), signal.SIGKILL)

    # -- the protocol
    def status(self) -> TerminalStatus:
        return TerminalStatus(True, self.terminal_id, 0, "ready")

    def refund(
        self,
        amount_minor: int,
        currency: str,
        reference: str,
        persist: ResultSink,
        on_text: StatusTextSink,
    ) -> CardResult:
        """This double makes no refunds (the ZVT simulator does: tests/core/test_card_refund)."""
        result = CardResult(PaymentOutcome.ERROR, 0, currency, reference=reference)
        persist(result)
        return result

    def last_result(self, currency: str) -> CardResult | None:
        """This double makes no refunds, so recovery never needs to ask it."""
        return None

    def preauthorise(
        self,
        amount_minor: int,
        currency: str,
        reference: str,
        persist: ResultSink,
        on_text: StatusTextSink,
    ) -> CardResult:
        on_text("Present card")
        with self._state() as s:
            outcome = PaymentOutcome(s["script"].pop(0)) if s["script"] else PaymentOutcome.APPROVED
            wait_abort = s["faults"].pop("wait_for_abort", False)
            if s["faults"].get("offline"):
                raise DeviceTimeout("card terminal: no answer (offline)")
        if wait_abort:
            self._abort.wait(30)
            self._abort.clear()
            outcome = PaymentOutcome.CANCELLED
        if outcome is not PaymentOutcome.APPROVED:
            result = CardResult(
                outcome, 0, currency, raw_result_code=5, terminal_id=self.terminal_id
            )
            persist(result)
            return result
        with self._state() as s:
            receipt, trace = s["next_receipt"], s["next_trace"]
            s["next_receipt"] += 1
            s["next_trace"] += 1
            s["holds"][str(receipt)] = {
                "amount": amount_minor,
                "status": "pending_ack",
                "booked": None,
                "ops": ["preauth"],
                "reference": reference,
            }
        self._maybe_die("preauth")
        result = CardResult(
            PaymentOutcome.APPROVED,
            amount_minor,
            currency,
            raw_result_code=0,
            receipt_no=receipt,
            trace_no=trace,
            terminal_id=self.terminal_id,
            auth_code="750071",
            masked_pan=self.MASKED_PAN,
            card_brand="MasterCard",
            reference=reference,
        )
        try:
            acknowledged = persist(result)
        except BaseException:
            with self._state() as s:  # not acknowledged: the terminal reverses it
                s["holds"][str(receipt)]["status"] = "auto_reversed"
                s["holds"][str(receipt)]["ops"].append("auto_reversal")
            raise
        with self._state() as s:
            s["holds"][str(receipt)]["status"] = "open"
        if acknowledged is not None:
            acknowledged()
        return result

    def settle(self, auth: CardResult, final_minor: int, persist: ResultSink) -> CardResult:
        with self._state() as s:
            if s["faults"].get("offline"):
                raise DeviceTimeout("card terminal: no answer (offline)")
            hold = s["holds"].get(str(auth.receipt_no))
            if hold is None or hold["status"] != "open" or final_minor > hold["amount"]:
                if hold is not None:
                    hold["ops"].append(f"refused:{final_minor}")
                refused = True
            else:
                refused = False
                hold["ops"].append(f"settle:{final_minor}")
                hold["status"] = "booked" if final_minor > 0 else "reversed"
                hold["booked"] = final_minor
                trace = s["next_trace"]
                s["next_trace"] += 1
            lose_answer = bool(s["faults"].pop("lose_settle_answer", False))
        if not refused:
            self._maybe_die("settle")
        if refused:
            result = CardResult(
                PaymentOutcome.ERROR, final_minor, auth.currency, raw_result_code=0xB7
            )
            persist(result)
            return result
        if lose_answer:
            raise DeviceTimeout("card terminal: link lost before the result arrived")
        result = CardResult(
            PaymentOutcome.APPROVED,
            final_minor,
            auth.currency,
            raw_result_code=0,
            receipt_no=auth.receipt_no,
            trace_no=trace,
            terminal_id=self.terminal_id,
        )
        acknowledged = persist(result)
        if acknowledged is not None:
            acknowledged()
        return result

    def abort(self) -> None:
        self._abort.set()

    def open_preauths(self) -> list[OpenPreauth]:
        with self._state() as s:
            if s["faults"].get("offline"):
                raise DeviceTimeout("card terminal: no answer (offline)")
            return [
                OpenPreauth(int(r), h["amount"])
                for r, h in sorted(s["holds"].items())
                if h["status"] == "open"
            ]

    def end_of_day(self) -> EndOfDayTotals:
        with self._state() as s:
            total = sum(h["booked"] or 0 for h in s["holds"].values())
        return EndOfDayTotals(PaymentOutcome.APPROVED, total, "EUR")


class Plant:
    """Vehicle + controller + meter of one connector, in one file, driven by the clock."""

    def __init__(self, path: Path, now: Now, power_w: float = 11000.0) -> None:
        self.path = path
        self.now = now
        with locked_json(path, self._default(power_w)):
            pass

    @staticmethod
    def _default(power_w: float) -> dict[str, Any]:
        return {
            "plugged": False,
            "wants_energy": True,
            "enabled": False,
            "energy_wh": 100_000.0,
            "power_w": power_w,
            "last_at": None,
            "meter_fault": False,
            "controller_fault": None,
            "pilot_error": False,
        }

    @contextmanager
    def state(self) -> Iterator[dict[str, Any]]:
        with locked_json(self.path, self._default(11000.0)) as s:
            now = self.now()
            if s["last_at"] is not None:
                seconds = (now - datetime.fromisoformat(s["last_at"])).total_seconds()
                if seconds > 0 and self._flowing(s):
                    s["energy_wh"] += s["power_w"] * seconds / 3600
            s["last_at"] = now.isoformat()
            yield s

    @staticmethod
    def _flowing(s: dict[str, Any]) -> bool:
        return bool(s["plugged"] and s["wants_energy"] and s["enabled"] and not s["pilot_error"])

    def set(self, **values: Any) -> None:
        with self.state() as s:
            s.update(values)

    def get(self) -> dict[str, Any]:
        with self.state() as s:
            return dict(s)


class PlantMeter:
    def __init__(self, plant: Plant) -> None:
        self.plant = plant

    def read(self) -> MeterReading:
        with self.plant.state() as s:
            if s["meter_fault"]:
                raise DeviceTimeout("meter: no answer on the bus")
            power = s["power_w"] if Plant._flowing(s) else 0.0
            return MeterReading(self.plant.now(), int(s["energy_wh"]), power_w=power)


class PlantController:
    def __init__(self, plant: Plant) -> None:
        self.plant = plant

    def status(self) -> ControllerStatus:
        with self.plant.state() as s:
            if s["controller_fault"]:
                raise DeviceTimeout(f"controller: {s['controller_fault']}")
            if s["pilot_error"]:
                state = IecState.F
            elif not s["plugged"]:
                state = IecState.A
            elif s["wants_energy"] and s["enabled"]:
                state = IecState.C
            else:
                state = IecState.B
            return ControllerStatus(self.plant.now(), state, state.value, bool(s["enabled"]))

    def enable_charging(self, enabled: bool) -> None:
        with self.plant.state() as s:
            if s["controller_fault"]:
                raise DeviceTimeout(f"controller: {s['controller_fault']}")
            s["enabled"] = enabled

    def set_current_limit(self, amps: float) -> None:
        return None


class FileBackend:
    """The operator backend's payment-link side, in a file, with a hand for the phone."""

    def __init__(self, path: Path, now: Now) -> None:
        self.path = path
        self.now = now

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        with locked_json(self.path, {"links": {}, "offline": False}) as data:
            yield data

    @staticmethod
    def _link(link_id: str, raw: dict[str, Any]) -> PaymentLink:
        return PaymentLink(
            link_id,
            f"http://127.0.0.1/pay/{link_id}",
            LinkStatus(raw["status"]),
            datetime.fromisoformat(raw["expires_at"]),
            raw["amount"],
            raw["currency"],
        )

    def set_offline(self, offline: bool) -> None:
        with self._state() as s:
            s["offline"] = offline

    def links(self) -> dict[str, Any]:
        with self._state() as s:
            return dict(s["links"])

    def create_payment_link(
        self,
        connector_id: str,
        amount_minor: int,
        currency: str,
        tariff: Any,
        idempotency_key: str,
    ) -> PaymentLink:
        with self._state() as s:
            if s["offline"]:
                raise BackendError("backend: connection refused")
            for link_id, raw in s["links"].items():
                if raw["key"] == idempotency_key:  # the same request twice: the same link
                    return self._link(link_id, raw)
            link_id = f"L{len(s['links']) + 1}"
            s["links"][link_id] = {
                "status": "pending",
                "expires_at": (self.now() + timedelta(minutes=5)).isoformat(),
                "amount": amount_minor,
                "currency": currency,
                "key": idempotency_key,
            }
            return self._link(link_id, s["links"][link_id])

    def pay(self, link_id: str, status: LinkStatus = LinkStatus.AUTHORIZED) -> None:
        with self._state() as s:
            s["links"][link_id]["status"] = status.value

    def wait_payment_link(self, link_id: str, wait_s: float) -> PaymentLink:
        with self._state() as s:
            if s["offline"]:
                raise BackendError("backend: connection refused")
            return self._link(link_id, s["links"][link_id])

    def cancel_payment_link(self, link_id: str) -> PaymentLink:
        with self._state() as s:
            raw = s["links"][link_id]
            if raw["status"] in ("pending", "authorized"):
                raw["status"] = "cancelled"
            return self._link(link_id, raw)

    def report(self, kind: str, idempotency_key: str, payload: Any) -> BackendAck:
        return BackendAck(True, 200)
