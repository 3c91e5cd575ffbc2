"""The e2e rig with the station joined to the independent CSMS (tests/ocpp/peer.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from drivers.ocpp import CsmsLink, LinkTiming, connect_station
from drivers.station import BackendAccess
from kiosk.config import load_config
from kiosk.session.names import Phase
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.rig import Kiosk, kiosk
from tests.ocpp.peer import ocpp_section, write_password

# Reconnects quickly: the drills take the CSMS down and bring it back.
FAST = LinkTiming(backoff_first_s=0.1, backoff_max_s=0.5, response_timeout_s=20, poll_s=0.2)


@contextmanager
def ocpp_kiosk(
    workdir: Path,
    access: BackendAccess,
    csms_url: str,
    before_start: Callable[[Kiosk], None] | None = None,
    versions: tuple[str, ...] = ("2.1",),
    *,
    on_link: Callable[[CsmsLink], None] | None = None,
    **options: Any,
) -> Iterator[tuple[Kiosk, CsmsLink]]:
    """`versions`: the [ocpp] section's, offered to the CSMS in this order; `on_link` sees the
    link before it starts."""
    workdir.mkdir(parents=True, exist_ok=True)
    section = ocpp_section(csms_url, write_password(workdir), versions=versions)
    links: list[CsmsLink] = []

    def join(k: Kiosk) -> None:
        config = load_config(workdir / "station.toml").ocpp
        assert config is not None
        links.append(connect_station(k.station.runtime, config, timing=FAST))
        if on_link is not None:
            on_link(links[0])
        if before_start is not None:
            before_start(k)

    with kiosk(workdir, access, before_start=join, extra_toml=section, **options) as k:
        link = links[0]
        link.start()
        try:
            yield k, link
        finally:
            link.stop()


def pay_and_charge(
    k: Kiosk,
    seconds: int,
    connector: str = "1",
    *,
    while_charging: Callable[[], None] = lambda: None,
) -> str:
    """Plug in, pay by card (terminal simulator), charge `seconds`, call `while_charging`
    (the session still charging), stop: at the receipt."""
    sim = k.station.sims[connector]
    sim.plug_in(soc=0.3)
    k.advance(2)
    k.send(ChooseConnector(connector))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
    k.advance(seconds, step=10)
    assert k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING
    while_charging()
    k.send(StopCharging(sid))
    k.advance(5)
    assert k.snap.focus is not None and k.snap.focus.phase is Phase.RECEIPT
    return sid
