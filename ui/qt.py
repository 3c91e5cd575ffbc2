"""The one module that imports PySide6: everything the app uses from Qt, re-exported.

Keeping the toolkit behind one name means a binding upgrade (or a port) touches one file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QObject,
    QRect,
    QRectF,
    QSize,
    QSocketNotifier,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QGuiApplication, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

# Types the idle screen does not use (the service menu's, event types named only in
# annotations): PySide6 builds a type with its enums when it is first touched, ~10 ms of CPU
# for these before the first frame, so they are looked up when first asked for.
_LATER = {
    "QByteArray": "QtCore",
    "QPoint": "QtCore",
    "Slot": "QtCore",
    "QColor": "QtGui",
    "QCursor": "QtGui",
    "QFont": "QtGui",
    "QIcon": "QtGui",
    "QImage": "QtGui",
    "QMouseEvent": "QtGui",
    "QPaintEvent": "QtGui",
    "QResizeEvent": "QtGui",
    "QLineEdit": "QtWidgets",
    "QListWidget": "QtWidgets",
    "QPlainTextEdit": "QtWidgets",
    "QTabWidget": "QtWidgets",
}

if TYPE_CHECKING:
    from PySide6.QtCore import QByteArray, QPoint, Slot
    from PySide6.QtGui import (
        QColor,
        QCursor,
        QFont,
        QIcon,
        QImage,
        QMouseEvent,
        QPaintEvent,
        QResizeEvent,
    )
    from PySide6.QtWidgets import QLineEdit, QListWidget, QPlainTextEdit, QTabWidget


def __getattr__(name: str) -> Any:
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    value = getattr(importlib.import_module(f"PySide6.{module}"), name)
    globals()[name] = value
    return value


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
    "QSocketNotifier",
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
