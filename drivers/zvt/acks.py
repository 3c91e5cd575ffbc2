"""The acknowledgement sinks of one exchange: collected while results are persisted, called once
the exchange ended with every message acknowledged (the terminal keeps it only after that)."""

from __future__ import annotations

import logging

from kiosk.devices import AckSink

log = logging.getLogger("drivers.zvt")


def keep(acks: list[AckSink], ack: AckSink | None) -> None:
    if ack is not None:
        acks.append(ack)


def acknowledged(acks: list[AckSink]) -> None:
    """The exchange ended with every message acknowledged: tell the sinks, in order."""
    for ack in acks:
        try:
            ack()
        except Exception as exc:  # the journal: the result stays "not known acknowledged"
            log.warning("ZVT: acknowledgement not recorded (%s); recovery will ask", exc)
