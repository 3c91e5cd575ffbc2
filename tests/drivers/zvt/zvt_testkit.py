"""Shared helpers of the ZVT tests: short timers, starting simulators, a driver for one."""

from __future__ import annotations

from pathlib import Path

from drivers.zvt.link import Timeouts
from drivers.zvt.terminal import ZvtConfig, ZvtTerminal
from drivers.zvt_sim import Delays, TerminalSimulator

# Short timers so fault paths take a second, not minutes; the protocol logic is the same.
FAST = Timeouts(t1=0.2, t2=0.25, t3=1.0, t4=1.5, resends=2, connect=2.0, poll=0.02)
SIM_DELAYS = Delays(
    card_seconds=0.01,
    host_seconds=0.01,
    card_wait_seconds=5.0,
    repeat_seconds=0.01,
    ack_seconds=1.0,
    drop_seconds=1.0,
)


def start_sim(kind: str, state_file: Path) -> TerminalSimulator:
    if kind == "pty":
        return TerminalSimulator.start_pty(
            state_file=state_file, delays=SIM_DELAYS, link_timeouts=FAST
        )
    return TerminalSimulator.start_tcp(state_file=state_file, delays=SIM_DELAYS)


def make_terminal(sim: TerminalSimulator, **overrides: object) -> ZvtTerminal:
    return ZvtTerminal(ZvtConfig(port=sim.address, timeouts=FAST, **overrides))  # type: ignore[arg-type]
