"""An idle connector's meter is read only to know that it answers; its controller, which sees
a plug, and the meter of a connector a driver has chosen are read at every poll."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from doubles.rig import Rig

from kiosk.devices import ControllerStatus, MeterReading
from kiosk.snapshot import ChooseConnector, ConnectorStatus


def counting(rig: Rig, cid: str) -> tuple[list[int], list[int]]:
    """[meter reads], [controller reads] of a connector, counted from now."""
    meter, controller = rig.rt.devices.meters[cid], rig.rt.devices.controllers[cid]
    reads, statuses = [0], [0]
    read: Callable[[], MeterReading] = meter.read
    status: Callable[[], ControllerStatus] = controller.status

    def counted_read() -> MeterReading:
        reads[0] += 1
        return read()

    def counted_status() -> ControllerStatus:
        statuses[0] += 1
        return status()

    meter.read = counted_read  # type: ignore[method-assign]
    controller.status = counted_status  # type: ignore[method-assign]
    return reads, statuses


def test_an_idle_meter_is_read_every_ten_seconds_a_chosen_one_every_second(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path, connectors=("1", "2")).start()
    rig.advance(10)  # past the reads of the start
    reads, statuses = counting(rig, "1")
    rig.advance(20)
    assert reads[0] == 2  # once per 10 s
    assert statuses[0] == 20  # a plug is seen within a poll
    rig.send(ChooseConnector("1"))
    reads2, _ = counting(rig, "2")
    rig.advance(5)
    assert reads[0] >= 2 + 5  # the chosen connector: every poll
    assert reads2[0] <= 1  # the other one stays idle
    rig.stop()


def test_a_meter_that_stops_answering_at_idle_makes_its_connector_unavailable(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path).start()
    rig.advance(3)
    assert rig.snap.connectors[0].status is ConnectorStatus.AVAILABLE
    rig.plants["1"].set(meter_fault=True)
    rig.advance(10)
    assert rig.snap.connectors[0].status is ConnectorStatus.UNAVAILABLE
    assert rig.snap.connectors[0].reason_code == "meter_offline"
    reads, _ = counting(rig, "1")
    rig.advance(3)
    assert reads[0] == 3  # a failed meter is tried at every poll
    rig.plants["1"].set(meter_fault=False)
    rig.advance(1)
    assert rig.snap.connectors[0].status is ConnectorStatus.AVAILABLE
    rig.stop()
