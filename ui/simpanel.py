"""The installer's simulator control panel (simulated-hardware mode only): plug or unplug a
car, choose what the next card does, pay the open QR link, switch faults on and off.
English only: it is a tool for the installer, not a driver screen."""

from __future__ import annotations

import logging

from ui.ports import SimulatorPort
from ui.qt import QGridLayout, QLayout, QPushButton, QRect, QSize, QVBoxLayout, QWidget
from ui.widgets import button, label

log = logging.getLogger(__name__)

PANEL_SIZE = QSize(420, 640)


def placement(screen: QRect, kiosk: QRect, panel: QSize = PANEL_SIZE) -> tuple[QRect, QRect]:
    """Where the kiosk and the panel go on `screen` so the panel never covers the kiosk:
    beside it (right, else left) when there is room; else docked at the screen's right
    edge, with the kiosk made narrower to leave it the strip. A bare X server without a window
    manager puts every new window at 0,0: this is the placement it does not do."""
    height = min(panel.height(), screen.height())
    if screen.right() - kiosk.right() >= panel.width():
        return kiosk, QRect(kiosk.right() + 1, kiosk.top(), panel.width(), height)
    if kiosk.left() - screen.left() >= panel.width():
        return kiosk, QRect(kiosk.left() - panel.width(), kiosk.top(), panel.width(), height)
    width = min(panel.width(), screen.width() // 3)
    docked = QRect(screen.right() + 1 - width, screen.top(), width, screen.height())
    narrower = QRect(kiosk.topLeft(), kiosk.size())
    narrower.setLeft(max(kiosk.left(), screen.left()))
    narrower.setRight(min(kiosk.right(), docked.left() - 1))
    narrower.setTop(max(kiosk.top(), screen.top()))
    narrower.setBottom(min(kiosk.bottom(), screen.bottom()))
    return narrower, docked


class SimulatorPanel(QWidget):
    def __init__(self, sim: SimulatorPort) -> None:
        super().__init__()
        self.setWindowTitle("evkiosk simulator")
        self.setObjectName("simulator_panel")
        self.sim = sim
        box = QVBoxLayout(self)
        # A separate top-level window: its layout must not push size hints to the platform.
        box.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        box.addWidget(label("Simulated hardware", role="title"))
        self.result = label(role="muted")
        self.result.setObjectName("sim_result")

        box.addWidget(label("Vehicle"))
        cars = QGridLayout()
        self.plug_buttons: dict[str, QPushButton] = {}
        self.pause_buttons: dict[str, QPushButton] = {}
        for i, cid in enumerate(sim.connectors()):
            plug = button(f"Plug in {cid}", name=f"sim_plug_{cid}")
            unplug = button(f"Unplug {cid}", name=f"sim_unplug_{cid}")
            plug.clicked.connect(
                lambda _=False, c=cid: self._do(f"plugged {c}", self.sim.plug, c, True)
            )
            unplug.clicked.connect(
                lambda _=False, c=cid: self._do(f"unplugged {c}", self.sim.plug, c, False)
            )
            pause = button(f"Car {cid} pauses", name=f"sim_pause_{cid}")
            pause.setCheckable(True)
            pause.toggled.connect(lambda on, c=cid: self._pause(c, on))
            cars.addWidget(plug, i, 0)
            cars.addWidget(unplug, i, 1)
            cars.addWidget(pause, i, 2)
            self.plug_buttons[cid] = plug
            self.pause_buttons[cid] = pause
        box.addLayout(cars)

        box.addWidget(label("Next card"))
        cards = QGridLayout()
        self.card_buttons: dict[str, QPushButton] = {}
        for i, behaviour in enumerate(sim.card_behaviours()):
            b = button(behaviour, name=f"sim_card_{behaviour}")
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, v=behaviour: self._card(v))
            cards.addWidget(b, i // 3, i % 3)
            self.card_buttons[behaviour] = b
        box.addLayout(cards)

        pay = button("Pay the QR link", role="primary", name="sim_pay_link")
        pay.clicked.connect(self._pay)
        box.addWidget(pay)

        box.addWidget(label("Faults"))
        faults = QGridLayout()
        self.fault_buttons: dict[str, QPushButton] = {}
        for i, fault in enumerate(sim.faults()):
            b = button(fault, name=f"sim_fault_{fault}")
            b.setCheckable(True)
            b.toggled.connect(
                lambda on, f=fault: self._do(f"{f} {'on' if on else 'off'}", self.sim.inject, f, on)
            )
            faults.addWidget(b, i // 2, i % 2)
            self.fault_buttons[fault] = b
        box.addLayout(faults)
        box.addStretch(1)
        box.addWidget(self.result)

    def _do(self, what: str, call: object, *args: object) -> None:
        try:
            call(*args)  # type: ignore[operator]
        except Exception as exc:  # shown in the panel; a simulator hiccup is no app failure
            log.warning("simulator: %s failed: %s", what, exc)
            self.result.setText(f"{what}: failed ({exc})")
            return
        self.result.setText(what)

    def _pause(self, connector_id: str, paused: bool) -> None:
        what = f"car {connector_id} {'pauses' if paused else 'draws again'}"
        self._do(what, self.sim.pause_vehicle, connector_id, paused)

    def _toggle_fault(self, fault: str, on: bool) -> None:
        self._do(f"{fault} {'on' if on else 'off'}", self.sim.inject, fault, on)

    def _card(self, behaviour: str) -> None:
        for name, b in self.card_buttons.items():
            b.setChecked(name == behaviour)
        self._do(f"next card: {behaviour}", self.sim.set_card_behaviour, behaviour)

    def _pay(self) -> None:
        try:
            self.result.setText(self.sim.pay_link())
        except Exception as exc:
            self.result.setText(f"paying the link failed ({exc})")
