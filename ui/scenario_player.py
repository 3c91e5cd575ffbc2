"""Replays a scenario (kiosk.scenario) against the running app: simulator events and taps on
the real screens, one step after another on the GUI thread, each after its `after` delay.

A step that cannot be done (a button not on the screen, a page that does not come in time, a
payment link that cannot be paid) stops the replay and reports it: `finished(False)`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.scenario import DEFAULT_WAIT_FOR_S, Scenario, ScenarioError, Step, check_names
from ui.ports import SimulatorPort
from ui.qt import QObject, QPushButton, QTimer, QWidget, Signal
from ui.window import KioskWindow

log = logging.getLogger(__name__)
POLL_MS = 100


class ScenarioPlayer(QObject):
    finished = Signal(bool)  # True when every step was done

    def __init__(
        self,
        scenario: Scenario,
        window: KioskWindow,
        simulator: SimulatorPort,
        *,
        panel: QWidget | None = None,
        screenshots: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        check_names(
            scenario,
            connectors=simulator.connectors(),
            card_outcomes=[*simulator.card_behaviours(), "no_card"],
            faults=simulator.faults(),
            pages=list(window.pages),
        )
        self.scenario = scenario
        self.window = window
        self.sim = simulator
        self.panel = panel
        self.screenshots = screenshots or Path.cwd()
        self.done_steps = 0
        self._clock = clock
        self._index = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._step)
        self._waiting_until: float | None = None

    def start(self) -> None:
        log.info("scenario %r: %d steps", self.scenario.name, len(self.scenario.steps))
        self._schedule()

    # ---------------------------------------------------------------- sequencing

    def _schedule(self) -> None:
        if self._index >= len(self.scenario.steps):
            log.info("scenario %r: done", self.scenario.name)
            self.finished.emit(True)
            return
        step = self.scenario.steps[self._index]
        self._timer.start(int(step.after_s * 1000))

    def _next(self, delay_s: float = 0.0) -> None:
        self._index += 1
        self.done_steps += 1
        self._waiting_until = None
        if delay_s > 0:  # a `wait` step: its own delay, then the next step's `after`
            QTimer.singleShot(int(delay_s * 1000), self._schedule)
        else:
            self._schedule()

    def _fail(self, step: Step, why: str) -> None:
        log.error("scenario %r: %s failed: %s", self.scenario.name, step.describe(), why)
        self.finished.emit(False)

    def _step(self) -> None:
        step = self.scenario.steps[self._index]
        if step.action == "wait_for":
            self._wait_for(step)
            return
        if step.action == "tap" and "timeout" in step.args and not self._waited_for_button(step):
            return
        log.info("scenario %r: %s", self.scenario.name, step.describe())
        try:
            delay = self._do(step)
        except (ScenarioError, KeyError, ValueError, OSError) as exc:
            self._fail(step, str(exc))
            return
        self._next(delay)

    def _wait_for(self, step: Step) -> None:
        now = self._clock()
        if self._waiting_until is None:
            log.info("scenario %r: %s", self.scenario.name, step.describe())
            self._waiting_until = now + step.seconds("timeout", DEFAULT_WAIT_FOR_S)
        if self.window.current_page == step.text("page"):
            self._next()
        elif now > self._waiting_until:
            self._fail(step, f"the screen is still {self.window.current_page!r}")
        else:
            self._timer.start(POLL_MS)

    def _waited_for_button(self, step: Step) -> bool:
        """A `tap` with a `timeout`: True once the button can be tapped; polls until then (an
        option that appears when its service answers, e.g. QR once the backend is reachable)."""
        now = self._clock()
        if self._waiting_until is None:
            self._waiting_until = now + step.seconds("timeout", 0.0)
        if self._button(step.text("button")) is not None:
            return True
        if now > self._waiting_until:
            return True  # tapped anyway: the step fails naming the button and the screen
        self._timer.start(POLL_MS)
        return False

    # ---------------------------------------------------------------- actions

    def _do(self, step: Step) -> float:
        """Do one step; returns seconds to wait before the next one."""
        action = step.action
        if action in ("plug", "unplug"):
            self.sim.plug(step.text("connector"), action == "plug")
        elif action == "pause_car":
            self.sim.pause_vehicle(step.text("connector"), step.flag("paused"))
        elif action == "card":
            self.sim.set_card_behaviour(step.text("outcome"))
        elif action == "fault":
            self.sim.inject(step.text("name"), step.flag("on"))
        elif action == "pay_link":
            result = self.sim.pay_link()
            if not result.startswith("paid link"):
                raise ScenarioError(result)
            log.info("scenario %r: %s", self.scenario.name, result)
        elif action == "tap":
            self._tap(step.text("button"))
        elif action == "screenshot":
            path = self.screenshots / step.text("file")
            path.parent.mkdir(parents=True, exist_ok=True)
            if not self.window.grab().save(str(path)):
                raise ScenarioError(f"could not write {path}")
        elif action == "wait":
            return step.seconds("seconds", 0.0)
        return 0.0

    def _tap(self, name: str) -> None:
        button = self._button(name)
        if button is None:
            raise ScenarioError(
                f"no button {name!r} can be tapped on the {self.window.current_page!r} screen"
            )
        button.click()

    def _button(self, name: str) -> QPushButton | None:
        page = self.window.stack.currentWidget()
        roots: list[QWidget] = [self.window.timeout_warning, self.window.service]
        if page is not None:
            roots.append(page)
        if self.panel is not None:
            roots.append(self.panel)
        for root in roots:
            for found in root.findChildren(QPushButton, name):
                if found.isVisible() and found.isEnabled():
                    return found
        return None
