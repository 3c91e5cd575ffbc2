"""The one module that imports PySide6: everything the app uses from Qt, re-exported.

Keeping the toolkit behind one name means a binding upgrade (or a port) touches one file.
"""

from __future__ import annotations

import ctypes
import sys


def _pin_singletons() -> None:
    """Keep None, True and False alive on Python 3.11 under PySide6 6.12.

    PySide6 6.12.0 (abi3 wheel) returns None from void methods (setText, show, parent(),
    findChild() with no match, ...) without taking a reference. On Python 3.12+ None is
    immortal (PEP 683) and nothing happens; on 3.11 every such call lowers None's reference
    count by one, and after a few thousand calls the interpreter aborts with "none_dealloc".
    A longer run also ended in "bool_dealloc" at exit, so True and False get the same.
    Giving them a huge count is what 3.12 does by design (immortal objects), done once here.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt: the first field
        refcount.value += 1 << 40


_pin_singletons()

from PySide6.QtCore import (  # noqa: E402  (after the fix above, which must come first)
    QByteArray,
    QEvent,
    QObject,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (  # noqa: E402
    QColor,
    QCursor,
    QFont,
    QGuiApplication,
    QIcon,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtSvg import QSvgRenderer  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

__all__ = [
    "QApplication",
    "QBoxLayout",
    "QByteArray",
    "QColor",
    "QCursor",
    "QEvent",
    "QFont",
    "QFrame",
    "QGridLayout",
    "QGuiApplication",
    "QHBoxLayout",
    "QIcon",
    "QImage",
    "QLabel",
    "QLayout",
    "QLineEdit",
    "QListWidget",
    "QMouseEvent",
    "QObject",
    "QPaintEvent",
    "QPainter",
    "QPixmap",
    "QPlainTextEdit",
    "QPoint",
    "QPushButton",
    "QRect",
    "QRectF",
    "QResizeEvent",
    "QScrollArea",
    "QScroller",
    "QSize",
    "QSizePolicy",
    "QStackedWidget",
    "QSvgRenderer",
    "QTabWidget",
    "QTimer",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "Signal",
    "Slot",
]
