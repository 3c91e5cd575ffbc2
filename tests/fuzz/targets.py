"""What is fuzzed, and which errors each target may raise: the project's own, nothing else.

Shared by the bounded CI tests (tests/fuzz/test_fuzz.py) and the long-run runner
(bench/fuzz.py). A target turns one generated input into calls of the real code; any
exception outside ``allowed`` is a finding, and so is an input that does not finish in time.
"""

from __future__ import annotations

import difflib
import json
import re
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import strategies as st

from drivers.modbus.registermap import MapError, available_models, load_map, parse_map
from drivers.zvt.codec.apdu import split_apdus
from drivers.zvt.codec.messages import decode_message
from drivers.zvt.errors import ZvtDecodeError
from drivers.zvt.transport_serial import Deframer, encode_frame
from drivers.zvt.transport_tcp import Reassembler
from kiosk.config import ConfigError, load_config
from kiosk.devices import DeviceError, DeviceProtocolError
from kiosk.ocmf import OcmfError, parse_ocmf
from kiosk.ocmf.check import check_transaction, signed_energy_wh
from kiosk.ocmf.crypto import public_key_hex, sign_fields, verify
from kiosk.scenario import ACTIONS, ScenarioError, load_scenario, parse_scenario
from kiosk.tariff import (
    TariffError,
    hold_amount,
    parse_cdr,
    parse_tariff,
    price_lines,
    price_now,
    price_session,
    wording,
)
from tests.fuzz import inputs

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "assets" / "samples"


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy[Any]
    run: Callable[[Any], object]
    allowed: tuple[type[BaseException], ...]
    # Yields the `run` to use, for targets that need a server or a directory for their life.
    context: Callable[[], Any] | None = None
    describe: Callable[[Any], str] = repr  # an input, short enough to read in a report


def changed_lines(original: str) -> Callable[[Any], str]:
    """Describe a mutated file by the lines that differ from ``original``."""

    def describe(case: Any) -> str:
        text = case[1] if isinstance(case, tuple) else case
        if not isinstance(text, str):
            return repr(case)
        diff = difflib.unified_diff(original.splitlines(), text.splitlines(), lineterm="", n=0)
        return "\n".join(line for line in diff if line[:1] in "+-" and line[:3] not in "+++---")

    return describe


# --------------------------------------------------------------------------- tariff / CDR


def run_tariff(case: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    tariff_obj, cdr_obj, zone = case
    tariff = parse_tariff(tariff_obj)
    lines = price_lines(tariff)
    cdr = parse_cdr(cdr_obj)
    now = price_now(tariff, lines, ZoneInfo(zone), cdr.end_date_time)
    for lang in ("en", "de", "fr"):  # worded as the screens and the pay page word them
        words = wording.load_words(lang)
        for line in lines:
            wording.line_text(line, words)
        wording.next_text(now, words, ZoneInfo(zone))
    hold_amount(tariff, 5000)
    cost = price_session(tariff, cdr.charging_periods, cdr.end_date_time, ZoneInfo(zone))
    assert cost.total_minor() >= 0


TARIFF = Target(
    "tariff",
    st.tuples(inputs.tariffs(), inputs.cdrs(), st.sampled_from(["UTC", "Europe/Berlin"])),
    run_tariff,
    (TariffError,),
)


# --------------------------------------------------------------------------- station config


@contextmanager
def _config_dir() -> Iterator[Callable[[str], object]]:
    with tempfile.TemporaryDirectory(prefix="fuzz-config-") as folder:
        base = Path(folder)
        (base / "tariff.json").write_text((SAMPLES / "tariff.json").read_text())

        def run(text: str) -> object:
            path = base / "station.toml"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            return load_config(path)

        yield run


def _no_dir(_: str) -> object:
    raise AssertionError("the config target runs inside its directory context")


CONFIG = Target(
    "config",
    inputs.toml_variants((SAMPLES / "station.toml").read_text()),
    _no_dir,
    (ConfigError,),
    context=_config_dir,
    describe=changed_lines((SAMPLES / "station.toml").read_text()),
)


# --------------------------------------------------------------------------- scenario


_SCENARIO_TEXT = (SAMPLES / "scenarios" / "faults.toml").read_text()


@contextmanager
def _scenario_dir() -> Iterator[Callable[[Any], object]]:
    with tempfile.TemporaryDirectory(prefix="fuzz-scenario-") as folder:
        path = Path(folder) / "scenario.toml"

        def run(case: tuple[str, Any]) -> object:
            kind, value = case
            if kind == "table":
                return parse_scenario(value)
            path.write_text(value, encoding="utf-8", errors="surrogatepass")
            return load_scenario(path)

        yield run


_step_values = st.one_of(inputs.hostile_values, st.sampled_from(["1", "idle", "approve"]))
_step_keys = st.sampled_from(["do", "after", "connector", "button", "seconds", "on", "page", "x"])

SCENARIO = Target(
    "scenario",
    st.one_of(
        st.tuples(
            st.just("table"),
            st.fixed_dictionaries(
                {
                    "step": inputs.sometimes_bad(
                        st.lists(
                            st.dictionaries(_step_keys, _step_values, max_size=4).flatmap(
                                lambda d: st.sampled_from([*ACTIONS, "nope"]).map(
                                    lambda a: {"do": a, **d} if "do" not in d else d
                                )
                            ),
                            max_size=4,
                        )
                    )
                },
                optional={"name": _step_values},
            ),
        ),
        st.tuples(st.just("file"), inputs.toml_variants(_SCENARIO_TEXT)),
    ),
    _no_dir,
    (ScenarioError,),
    context=_scenario_dir,
    describe=changed_lines(_SCENARIO_TEXT),
)


# --------------------------------------------------------------------------- ZVT


def run_zvt(case: tuple[bytes, list[int]]) -> None:
    raw, cuts = case
    try:
        for apdu in split_apdus(raw):
            decode_message(apdu).to_json()
    except ZvtDecodeError:
        pass
    # The same bytes as a serial stream (raw, and framed) and as TCP reads, in pieces.
    stream = raw + encode_frame(raw[:300])
    deframer, reassembler = Deframer(), Reassembler()
    pos = 0
    for cut in [*cuts, len(stream)]:
        piece = stream[pos : pos + max(1, cut)]
        pos += len(piece)
        for event in deframer.feed(piece):
            if event.apdu:
                for apdu in split_apdus(event.apdu):
                    decode_message(apdu)
        for message in reassembler.feed(piece):
            for apdu in split_apdus(message):
                decode_message(apdu)


ZVT = Target(
    "zvt",
    st.tuples(st.binary(max_size=700), st.lists(st.integers(1, 200), max_size=6)),
    run_zvt,
    (ZvtDecodeError,),
)


# --------------------------------------------------------------------------- Modbus


class _RegisterSource:
    """A device link that answers each read from fuzzed register words (16-bit or not)."""

    unit = 1
    last_retries = 0

    class bus:  # stands in for the ModbusBus attribute
        @staticmethod
        def describe() -> str:
            return "fuzzed registers"

        @staticmethod
        def prepare() -> None:  # the real bus loads pymodbus here; nothing to load
            return None

    def __init__(self, words: list[int], short: bool) -> None:
        self.words = words
        self.short = short

    def read_registers(self, function: int, address: int, count: int) -> list[int]:
        if self.short:  # what DeviceLink makes of a reply with too few registers
            raise DeviceProtocolError(f"{count - 1} registers came back")
        return [self.words[(address + i) % len(self.words)] for i in range(count)]


def run_modbus(case: tuple[str, list[int], bool, dict[str, Any]]) -> None:
    from drivers.meter.modbus_meter import ModbusMeter

    model, words, short, register = case
    with suppress(MapError):
        parse_map({"model": "fuzz", "kind": "meter", "registers": {"energy_import": register}}, "f")
    regmap = load_map(model)
    if regmap.kind != "meter":
        return
    link: Any = _RegisterSource(words, short)
    meter = ModbusMeter(link, regmap, max_age_s=3600)
    for _ in range(2):
        meter.read()


_map_values = st.one_of(
    inputs.hostile_values, st.sampled_from(["uint32", "float32", "int16", "little", "Wh", 3, 4])
)
MODBUS = Target(
    "modbus",
    st.tuples(
        st.sampled_from(available_models()),
        st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=8),
        st.booleans(),
        st.dictionaries(
            st.sampled_from(
                ["address", "function", "type", "word_order", "scale", "unit", "no_value", "valid"]
            ),
            _map_values,
            max_size=8,
        ),
    ),
    run_modbus,
    (DeviceError, MapError),
)


# --------------------------------------------------------------------------- backend


class BadAnswer(Exception):
    """The backend answered a request with a 5xx or closed the connection."""


@contextmanager
def _backend() -> Iterator[Callable[[Any], object]]:
    from tests.backend.conftest import start_backend
    from tests.backend.steps import link_body, session_body

    with tempfile.TemporaryDirectory(prefix="fuzz-backend-") as folder:
        server, backend = start_backend(f"sqlite:///{Path(folder) / 'backend.db'}")
        with server, backend.station("ST-FUZZ") as client:
            counter = iter(range(10**9))

            def run(case: tuple[str, dict[str, Any], list[dict[str, Any]] | None]) -> object:
                endpoint, tariff, periods = case
                if endpoint == "sessions":
                    body = session_body(f"F-{next(counter)}", {"method": "none"}, tariff=tariff)
                    body["total_cost"] = 0
                    if periods is not None:
                        body["charging_periods"] = periods
                else:
                    body = link_body(tariff=tariff)
                headers = {"Content-Type": "application/json"}
                try:
                    r = client.post(f"/api/v1/{endpoint}", content=json_text(body), headers=headers)
                except httpx.TransportError as exc:
                    raise BadAnswer(f"{endpoint}: connection failed: {exc!r}") from None
                if r.status_code >= 500 or r.headers.get("connection") == "close":
                    raise BadAnswer(f"{endpoint}: HTTP {r.status_code}: {r.text[:300]}")
                return r.status_code

            yield run
        backend.svc.close()


def json_text(value: Any) -> str:
    """JSON with each Decimal written as the number it is (1E+999999 stays an exponent) and
    floats as Python writes them (NaN, Infinity: invalid JSON, which is the point)."""
    text = json.dumps(value, default=lambda d: f"\x00{d}\x00")
    return re.sub(r'"\\u0000(.*?)\\u0000"', r"\1", text)


BACKEND = Target(
    "backend",
    st.tuples(
        st.sampled_from(["sessions", "payment-links"]),
        inputs.tariffs(),
        st.one_of(st.none(), inputs.charging_periods()),
    ),
    _no_dir,
    (),
    context=_backend,
)

# A fixed key: the fuzzed records are signed like a meter signs them, then broken.
_OCMF_KEY = ec.derive_private_key(0x5EED, ec.SECP256R1())
_OCMF_PUBLIC = public_key_hex(_OCMF_KEY.public_key())


def _ocmf_text(payload: dict[str, Any]) -> str:
    try:
        return sign_fields(payload, _OCMF_KEY)
    except OcmfError:  # a value OCMF cannot carry: send it unsigned, as a broken meter might
        return "OCMF|" + json.dumps(payload, default=str) + '|{"SD":"00"}'


def run_ocmf(text: str) -> None:
    record = parse_ocmf(text)
    verify(record, _OCMF_PUBLIC)
    check_transaction(record)
    signed_energy_wh(record)


OCMF = Target(
    "ocmf",
    inputs.ocmf_texts(_ocmf_text),
    run_ocmf,
    (OcmfError,),
    describe=lambda text: repr(text[:300]),
)

TARGETS: dict[str, Target] = {
    t.name: t for t in (TARIFF, CONFIG, SCENARIO, ZVT, MODBUS, BACKEND, OCMF)
}


class Hang(Exception):
    """An input ran longer than its time limit."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang


def bounded(run: Callable[[Any], object], case: Any, seconds: float) -> object:
    """``run(case)``, or Hang once ``seconds`` have passed (main thread only: SIGALRM)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return run(case)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def runner(target: Target) -> Iterator[Callable[[Any], object]]:
    """The target's run function, inside its context (server, directory) when it has one."""
    if target.context is None:
        yield target.run
        return
    with target.context() as run:
        yield run
