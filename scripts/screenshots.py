"""Render every kiosk screen in English and German (French on request) at 800x480 and
1280x800 into docs/screenshots/ (offscreen), from the example snapshots in ui/preview.py
filled with the sample station and tariff (assets/samples, see ui/sample_preview.py).

    .venv/bin/python scripts/screenshots.py [--out DIR] [--sizes 800x480,1280x800]
                                            [--langs en,de,fr]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.config import load_config  # noqa: E402
from ui import preview  # noqa: E402
from ui.i18n import load_languages  # noqa: E402
from ui.qt import QApplication  # noqa: E402
from ui.sample_preview import SAMPLE, sample_screens  # noqa: E402
from ui.settings import UiSettings, hash_pin  # noqa: E402
from ui.window import KioskWindow  # noqa: E402

Extra = Callable[[KioskWindow], None]


def _stop_confirm(w: KioskWindow) -> None:
    w.pages["charging"].stop.click()


def _service_pin(w: KioskWindow) -> None:
    w.long_press.fire_for_test()
    for digit in "47":
        w.service.press(digit)


def _service_menu(w: KioskWindow) -> None:
    w.long_press.fire_for_test()
    for digit in "4711":
        w.service.press(digit)
    w.service.submit_pin()


def _service_terminal(w: KioskWindow) -> None:
    _service_menu(w)
    w.service.tabs.setCurrentIndex(3)  # terminal: status, holds, end-of-day, card refund


def _error(w: KioskWindow) -> None:
    w.show_error(RuntimeError("example"))


def _large_text(w: KioskWindow) -> None:
    w.large_button.click()


def _high_contrast(w: KioskWindow) -> None:
    w.contrast_button.click()


# name -> (snapshot name, what to do after rendering it)
EXTRAS: dict[str, tuple[str, Extra]] = {
    "stop_confirm": ("charging", _stop_confirm),
    "service_pin": ("charging", _service_pin),
    "service_menu": ("charging", _service_menu),
    "service_menu_signed": ("charging_signed", _service_menu),
    "service_menu_terminal": ("charging", _service_terminal),
    "stop_confirm_signed": ("charging_signed", _stop_confirm),
    "charging_large_text": ("charging", _large_text),
    "receipt_large_text": ("receipt", _large_text),
    "error": ("charging", _error),
    "idle_high_contrast": ("idle", _high_contrast),
    "charging_high_contrast": ("charging", _high_contrast),
    "price_large_text": ("price", _large_text),
}


def shoot(out: Path, sizes: list[tuple[int, int]], langs: list[str]) -> list[Path]:
    app = QApplication.instance() or QApplication([])
    languages = load_languages()
    settings = UiSettings(service_pin_hash=hash_pin("4711", iterations=1000))
    snapshots = sample_screens()
    zone = ZoneInfo(load_config(SAMPLE).timezone)  # times as the sample station shows them
    plan: list[tuple[str, str, Extra | None]] = [(n, n, None) for n in snapshots]
    plan += [(name, snap, extra) for name, (snap, extra) in EXTRAS.items()]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for width, height in sizes:
        for lang in langs:
            for name, snap_name, extra in plan:
                # A fresh window per shot: overlays and modes never leak into the next one.
                window = KioskWindow(
                    languages,
                    lambda _: None,
                    settings=settings,
                    clock=lambda: preview.NOW,
                    zone=zone,
                )
                window.resize(width, height)
                window.show()
                window.show_snapshot(snapshots[snap_name])
                window.set_language(lang)
                if extra is not None:
                    extra(window)
                app.processEvents()
                path = out / f"{lang}-{width}x{height}-{name}.png"
                window.grab().save(str(path))
                written.append(path)
                window.close()
                window.deleteLater()
                app.processEvents()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--sizes", default="800x480,1280x800")
    parser.add_argument("--langs", default="en,de")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    written = shoot(args.out, sizes, args.langs.split(","))  # type: ignore[arg-type]
    sys.stdout.write(f"{len(written)} screenshots in {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
