"""Simulated Modbus meter and charge controller that speak real Modbus, for tests and demos.

In-process::

    from drivers.modbus_sim import SimStation, Fault

    with SimStation.start(transport="tcp",            # or "pty" (RTU on a pty pair),
                          meter_profile="sdm630",       #    "rtu-tcp" (RTU via socket://)
                          controller_profile="phoenix-ev-eth") as station:
        station.meter_port, station.meter.unit              # PORT string and unit id
        station.controller_port, station.controller.unit    # for the drivers / CLI
        station.plug_in(soc=0.3)                            # the car arrives
        station.set_ev(soc=0.79, max_power_w=7_400)         # its state of charge, max power
        station.unplug()
        station.set_controller_error("F")                   # IEC state E or F, None clears
        station.inject("meter", Fault.SILENCE, count=2)     # or "silence", "garbage", "crc",
        station.inject("meter", "slow", delay_s=1.5)        # "exception", "slow", "no_value",
        station.inject("meter", "counter_reset")            # "block_refused", "holes_refused",
                                                            # "frozen", "counter_reset"
        station.clear_faults()

The meter's energy follows the controller: it rises only while the car is plugged in, the
controller is enabled (by the Modbus master, as on the real device) and the car wants energy.
On "tcp" the two devices have separate ports; on "pty" and "rtu-tcp" they share one line with
distinct unit ids. `SimStation.start(clock=..., speed=...)` injects the model's clock.

As a subprocess: `evkiosk sim meter --listen tcp://127.0.0.1:0 [--charger-listen ...]` prints
one JSON line with the ports, then takes commands on stdin, one per line (`plug 0.3`, `unplug`,
`ev soc=0.5 max_power_w=7400`, `fault meter silence 2`, `clear`, `error F`), answering `ok` or
`error: ...`. `SimProcess` in drivers.modbus_sim.process wraps that.
"""

from drivers.modbus_sim.faults import Fault
from drivers.modbus_sim.model import ChargingModel
from drivers.modbus_sim.station import SimStation

__all__ = ["ChargingModel", "Fault", "SimStation"]
