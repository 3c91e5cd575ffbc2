"""OCPI tariff and CDR JSON -> validated model; every error names its JSON path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kiosk.tariff.model import Tariff
from kiosk.tariff.periods import Cdr


def parse_tariff(obj: Mapping[str, object]) -> Tariff:
    raise NotImplementedError


def load_tariff(path: str | Path) -> Tariff:
    raise NotImplementedError


def parse_cdr(obj: Mapping[str, object]) -> Cdr:
    raise NotImplementedError


def load_cdr(path: str | Path) -> Cdr:
    raise NotImplementedError
