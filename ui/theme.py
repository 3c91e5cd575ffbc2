"""Colours, sizes and the style sheet: two palettes (normal, high contrast), two text scales.

The palette pairs that carry text are listed in `TEXT_PAIRS` so a test can compute every
WCAG contrast ratio from the same data the style sheet is built from. No `:hover` styles:
hover sticks on touch panels after a tap.
"""

from __future__ import annotations

from dataclasses import dataclass

MM_PER_INCH = 25.4
TOUCH_TARGET_MM = 15.0
BORDER_PX = 2


@dataclass(frozen=True)
class Palette:
    name: str
    background: str
    surface: str  # cards, tiles
    text: str
    muted: str  # secondary text
    accent: str  # primary button background
    accent_text: str
    danger: str  # stop button background
    danger_text: str
    ok: str  # status: available
    warn: str  # status: paused, occupied
    bad: str  # status: faulted
    disabled_bg: str
    disabled_text: str
    border: str


NORMAL = Palette(
    name="normal",
    background="#0f1720",
    surface="#1c2733",
    text="#f4f7fa",
    muted="#b9c4cf",
    accent="#0b6e4f",
    accent_text="#ffffff",
    danger="#b3261e",
    danger_text="#ffffff",
    ok="#5fd3a0",
    warn="#f2c14e",
    bad="#ff8a80",
    disabled_bg="#2a3440",
    disabled_text="#a9b4bf",
    border="#8393a4",
)

HIGH_CONTRAST = Palette(
    name="high_contrast",
    background="#000000",
    surface="#000000",
    text="#ffffff",
    muted="#ffffff",
    accent="#ffff00",
    accent_text="#000000",
    danger="#ffffff",
    danger_text="#000000",
    ok="#ffffff",
    warn="#ffff00",
    bad="#ffff00",
    disabled_bg="#000000",
    disabled_text="#c0c0c0",
    border="#ffffff",
)

PALETTES = (NORMAL, HIGH_CONTRAST)

# (foreground, background) attribute pairs that carry text somewhere in the style sheet.
TEXT_PAIRS = (
    ("text", "background"),
    ("text", "surface"),
    ("muted", "background"),
    ("muted", "surface"),
    ("accent_text", "accent"),
    ("danger_text", "danger"),
    ("ok", "surface"),
    ("warn", "surface"),
    ("bad", "surface"),
    ("disabled_text", "disabled_bg"),
)
# Outlines of controls against what surrounds them (WCAG 1.4.11: 3:1).
GRAPHIC_PAIRS = (("border", "background"), ("border", "surface"))


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def touch_target_px(dpi: float, mm: float = TOUCH_TARGET_MM) -> int:
    """The smallest button side, in logical pixels, for `mm` on a panel of `dpi`."""
    return int(mm * dpi / MM_PER_INCH + 0.999)


@dataclass(frozen=True)
class Metrics:
    """Sizes in logical pixels for one window size and text mode."""

    base: int  # body text
    title: int
    figure: int  # live values on the charging screen
    small: int
    target: int  # minimum touch target side
    gap: int


def metrics(
    width: int, height: int, dpi: float, large_text: bool, base: int | None = None
) -> Metrics:
    """`base`: the body text size a page was fitted to (large text steps down towards the
    normal size on a page that would not fit the panel otherwise)."""
    short = min(width, height)
    normal = max(15, round(short / 26))
    if base is None:
        base = normal
        if large_text:
            base = large_text_px(width, height, dpi)
    # Large text grows the body text most; titles and figures grow less, so a page keeps its
    # controls on screen. Never smaller than in normal mode.
    title = max(round(base * 1.2), round(normal * 1.45)) if large_text else round(base * 1.45)
    figure = max(round(base * 1.45), round(normal * 1.9)) if large_text else round(base * 1.9)
    return Metrics(
        base=base,
        title=title,
        figure=figure,
        small=max(13, round(base * 0.85)),
        target=touch_target_px(dpi),
        gap=max(6, short // 60),
    )


def large_text_px(width: int, height: int, dpi: float) -> int:
    """EN 301 549 5.1.4: a mode with cap height >= 0.7 degrees (about 6 mm at 500 mm)."""
    normal = max(15, round(min(width, height) / 26))
    return max(normal * 13 // 10, round(6.1 / 0.7 * dpi / MM_PER_INCH))


def style_sheet(
    p: Palette, m: Metrics, chip_px: int | None = None, station_px: int | None = None
) -> str:
    """`chip_px`, `station_px`: the header's language and mode buttons and the station name
    keep these sizes in large-text mode, so they still fit and are found where they were."""
    chip = chip_px or m.small
    station = station_px or round(m.base * 1.2)
    # QSS min sizes are for the content box: padding and border make up the rest of the
    # touch target, so the whole button is `target` and not a padding larger.
    inner = max(0, m.target - 2 * m.gap - 2 * BORDER_PX)
    chip_inner = max(0, m.target - 2 * (m.gap // 2) - 2 * BORDER_PX)
    return f"""
QWidget {{ background: {p.background}; color: {p.text}; font-size: {m.base}px; }}
QLabel {{ background: transparent; }}
QLabel[role="title"] {{ font-size: {m.title}px; font-weight: bold; }}
QLabel[role="figure"] {{ font-size: {m.figure}px; font-weight: bold; }}
QLabel[role="muted"] {{ color: {p.muted}; }}
QLabel[role="small"] {{ color: {p.muted}; font-size: {m.small}px; }}
QLabel[role="strong"] {{ font-size: {round(m.base * 1.2)}px; font-weight: bold; }}
QLabel[role="station"] {{ font-size: {station}px; font-weight: bold; }}
QLabel[role="compact"] {{ font-size: {m.small}px; }}
QLabel[role="compact-total"] {{ font-size: {m.base}px; font-weight: bold; color: {p.warn}; }}
QLabel[role="notice"] {{ color: {p.warn}; font-weight: bold; }}
QLabel[role="status-ok"] {{ color: {p.ok}; font-weight: bold; }}
QLabel[role="status-warn"] {{ color: {p.warn}; font-weight: bold; }}
QLabel[role="status-bad"] {{ color: {p.bad}; font-weight: bold; }}
QFrame[role="card"] {{ background: {p.surface}; border: 2px solid {p.border};
    border-radius: {m.gap}px; }}
QFrame[role="card"] QLabel {{ background: transparent; }}
QPushButton {{ background: {p.surface}; color: {p.text}; border: {BORDER_PX}px solid {p.border};
    border-radius: {m.gap}px; padding: {m.gap}px {m.gap * 2}px;
    min-height: {inner}px; min-width: {inner}px; }}
QPushButton:pressed {{ background: {p.border}; }}
QPushButton:checked {{ background: {p.accent}; color: {p.accent_text}; }}
QPushButton:disabled {{ background: {p.disabled_bg}; color: {p.disabled_text}; }}
QPushButton[role="primary"] {{ background: {p.accent}; color: {p.accent_text};
    font-weight: bold; border-color: {p.accent}; }}
QPushButton[role="danger"] {{ background: {p.danger}; color: {p.danger_text};
    font-weight: bold; font-size: {m.title}px; border-color: {p.danger}; }}
QPushButton[role="tile"] {{ text-align: left; padding: {m.gap * 2}px; }}
QPushButton[role="tile"]:disabled {{ background: {p.disabled_bg}; color: {p.disabled_text}; }}
QPushButton[role="chip"] {{ font-size: {chip}px; padding: {m.gap // 2}px {m.gap}px;
    min-height: {chip_inner}px; min-width: {chip_inner}px; }}
QFrame[role="overlay"] {{ background: {p.background}; border: 3px solid {p.text};
    border-radius: {m.gap}px; }}
QPlainTextEdit, QListWidget {{ background: {p.surface}; color: {p.text};
    font-size: {m.small}px; border: 1px solid {p.border}; }}
QScrollBar:vertical {{ width: {m.gap * 3}px; background: {p.surface}; }}
QScrollBar::handle:vertical {{ background: {p.border}; min-height: {m.target}px; }}
QTabBar::tab {{ min-height: {m.target}px; min-width: {m.target - 2 * m.gap}px;
    padding: 0 {m.gap}px; background: {p.surface};
    font-size: {m.small}px;
    color: {p.text}; border: 1px solid {p.border}; }}
QTabBar::tab:selected {{ background: {p.accent}; color: {p.accent_text}; }}
"""
