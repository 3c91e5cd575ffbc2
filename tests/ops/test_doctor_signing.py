"""doctor on a signing meter (Eichrecht): the live meter is read with the signing keys set
aside, and the signer reports its public key, signing status and firmware; a meter without a
key fails. Against the EM580 signing simulator over Modbus TCP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.doctor import Outcome
from drivers.doctor.devices import check_meter, check_signing
from drivers.modbus_sim.model import ChargingModel
from drivers.modbus_sim.server import SimServer
from drivers.modbus_sim.signing import SimulatedSigningMeter, signing_meter
from drivers.ocmf_meter.signing_map import load_signing_map
from kiosk.config import DeviceConfig

EVSE = "DE*EVK*E0001*1"


@pytest.fixture
def em580() -> Iterator[tuple[SimulatedSigningMeter, str]]:
    sim = signing_meter("em580", ChargingModel())
    server = SimServer([sim], "tcp")
    try:
        yield sim, server.url
    finally:
        server.close()


def device(url: str, unit: int, **signing: object) -> DeviceConfig:
    settings = {"port": url, "unit": unit, "timeout_s": 0.5, **signing}
    return DeviceConfig("meters.m1", "real", "em580", None, settings)


def test_a_signing_meter_shows_its_key_status_and_firmware(
    em580: tuple[SimulatedSigningMeter, str],
) -> None:
    sim, url = em580
    config = device(url, sim.unit, signing="em580", evse_id=EVSE)
    assert check_meter(config).outcome is Outcome.PASS  # the signing keys are not its settings
    check = check_signing(config)
    assert check is not None and check.outcome is Outcome.PASS, check
    assert sim.public_key in check.detail
    assert "firmware 1.2.3" in check.detail and sim.serial in check.detail and EVSE in check.detail


class Keyless(SimulatedSigningMeter):
    """An EM580 that reports a signature type other than the secp256r1 key: it cannot sign."""

    def _image(self) -> dict[int, int]:
        image = super()._image()
        image[self.smap.area("signature_type").address] = 1
        return image


def test_a_meter_without_a_key_fails() -> None:
    sim = Keyless(load_signing_map("em580"), ChargingModel())
    server = SimServer([sim], "tcp")
    try:
        check = check_signing(device(server.url, sim.unit, signing="em580", evse_id=EVSE))
    finally:
        server.close()
    assert check is not None and check.outcome is Outcome.FAIL
    assert "NO signing key" in check.detail and "ocmf-identity" in check.fix


def test_a_bad_signing_setting_names_the_key(em580: tuple[SimulatedSigningMeter, str]) -> None:
    sim, url = em580
    check = check_signing(device(url, sim.unit, signing="em580"))
    assert check is not None and check.outcome is Outcome.FAIL
    assert "meters.m1.evse_id" in check.detail


def test_a_plain_meter_has_no_signing_check(em580: tuple[SimulatedSigningMeter, str]) -> None:
    sim, url = em580
    assert check_signing(device(url, sim.unit)) is None
