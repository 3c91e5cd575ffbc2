"""The station's devices as the runtime sees them, and which owner thread each belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kiosk.devices import Backend, CardTerminal, ChargeController, EnergyMeter
from kiosk.ocmf.billing import MissingRule
from kiosk.ocmf.meter import SignedTransactionMeter


@dataclass(frozen=True)
class SigningSetup:
    """A connector whose meter signs (Eichrecht): the signer on the meter's owner thread, the
    EVSE id it writes into each record, and the operator's rule for a missing record."""

    meter: SignedTransactionMeter
    charge_point_id: str
    rule: MissingRule = MissingRule.NO_ENERGY_CHARGE


@dataclass(frozen=True)
class StationDevices:
    """meters/controllers by connector id. `buses` maps a device key ("meter:1",
    "controller:1", "terminal", "backend") to an owner name; devices sharing a serial port or
    an RS485 bus must share an owner. Unlisted devices get an owner of their own."""

    terminal: CardTerminal | None
    backend: Backend | None
    meters: Mapping[str, EnergyMeter]
    controllers: Mapping[str, ChargeController]
    buses: Mapping[str, str] = field(default_factory=dict)
    signing: Mapping[str, SigningSetup] = field(default_factory=dict)  # by connector id

    def owner_name(self, key: str) -> str:
        return self.buses.get(key, key)
