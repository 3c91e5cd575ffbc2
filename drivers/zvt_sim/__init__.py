"""A simulated ZVT payment terminal (the PT side), for tests, benchmarks and installers.

It speaks real ZVT over a pty pair (DLE/STX framing, CRC, ACK/NAK, resends) or over TCP,
keeps its open pre-auths in a JSON file that survives a restart, and can be scripted and
made to fail on purpose.

In-process::

    from drivers.zvt_sim import Behaviour, Card, Delays, Fault, TerminalSimulator

    sim = TerminalSimulator.start_tcp()            # OS-chosen port; sim.address = "tcp://127.0.0.1:PORT"
    sim = TerminalSimulator.start_pty(state_file=Path("pt.json"))  # sim.address = "/dev/pts/N"
    sim.script(Behaviour.DECLINE)                  # the next card: decline 05
    sim.script(Card(Behaviour.SLOW_HOST, host_seconds=3, status_every=0.5))
    sim.script(Card(card_type=0x0A, card_name="VISA"))
    sim.set_delays(Delays.zero())                  # no card/host delays (benchmarks)
    sim.inject(Fault.NAK, count=2)                 # see ``Fault`` for every fault
    sim.set_hostile("4761739001010010")            # that PAN in clear in every field (tests)
    sim.ledger()    # {"open": {...}, "booked": [...], "reversed": [...], "batch": [...], ...}
    sim.stop()

Behaviours: approve (default when nothing is scripted), decline (05), pin_required (41),
unreadable (64), slow_host, customer_abort (6C), no_card (waits for the kiosk's 06 B0).
Faults: nak, no_ack, drop_ack, bad_crc (serial only), garbage, no_response,
drop_before_result, drop_after_result (the PT keeps the approved transaction),
lose_result (approved and kept, but its 04 0F never reaches the kiosk), refuse_booking (the
next booking of an amount is declined, 05; the hold stays open).

As a subprocess (same API, through a JSON-lines control socket)::

    from drivers.zvt_sim.control import SimulatorProcess
    with SimulatorProcess.start("tcp", state_file=path) as sim:   # or "pty"
        sim.address; sim.script("decline"); sim.inject("nak", 2); sim.set_delays(card_seconds=0)
        sim.ledger()

Standalone: ``evkiosk sim terminal --listen tcp://127.0.0.1:20007`` or ``--pty``.
"""

from drivers.zvt_sim.script import Behaviour, Card, Delays, Fault
from drivers.zvt_sim.server import TerminalSimulator

__all__ = ["Behaviour", "Card", "Delays", "Fault", "TerminalSimulator"]
