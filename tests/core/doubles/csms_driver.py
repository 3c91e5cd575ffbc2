"""A Driver that also keeps what the CSMS would be told of each step (kiosk.journal.csms_feed)."""

from __future__ import annotations

from datetime import datetime

from doubles.builders import Driver, station
from kiosk.journal.csms_feed import CsmsCall, CsmsFeed
from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.model import Policy


class FedDriver(Driver):
    def __init__(self, policy: Policy | None = None) -> None:
        super().__init__(station(policy=policy))
        self.feed = CsmsFeed({"1": 1})
        self.calls: list[CsmsCall] = []

    def __call__(self, event: ev.Event) -> tuple[cmd.Command, ...]:
        before = self.st
        commands = super().__call__(event)
        self.calls += self.feed.calls(event, before, self.st, commands, _never)
        return commands


def _never(_sid: str) -> datetime | None:
    return None
