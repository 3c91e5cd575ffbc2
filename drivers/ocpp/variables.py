"""The device-model variables a CSMS may read (GetVariables) and set (SetVariables) for the
payment controllers (OCPP 2.1: PaymentCtrlr, TariffCostCtrlr, WebPaymentsCtrlr). What the
CSMS sets is kept in the journal, so it survives a restart; read-only ones say what this
station does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.journal.store import Journal


@dataclass(frozen=True, slots=True)
class Variable:
    default: str
    writable: bool = False
    check: Callable[[str], bool] | None = None  # a value the station accepts
    write_only: bool = False  # a secret: GetVariables does not give it away


def _is_bool(value: str) -> bool:
    return value in ("true", "false")


def _is_text(value: str) -> bool:
    return 0 < len(value) <= 1000


def _is_url_template(value: str) -> bool:
    return value.startswith("https://") and len(value) <= 2000


def _is_validity(value: str) -> bool:
    return value.isdigit() and 6 <= int(value) <= 3600  # C25: 6 s to one hour


def _is_totp_length(value: str) -> bool:
    return value.isdigit() and 6 <= int(value) <= 64


def _is_secret(value: str) -> bool:
    return 8 <= len(value) <= 255


def registry(currency: str) -> dict[tuple[str, str], Variable]:
    return {
        ("PaymentCtrlr", "Enabled"): Variable("true"),
        # true: the CSMS accepts each payment (Authorize) before charging (C18, C19).
        ("PaymentCtrlr", "AuthorizeDirectPayment"): Variable("false", True, _is_bool),
        ("PaymentCtrlr", "ReceiptByCSMS"): Variable("true", True, _is_bool),
        ("TariffCostCtrlr", "Enabled"): Variable("true"),  # local cost (I07–I12)
        ("TariffCostCtrlr", "Currency"): Variable(currency),
        ("TariffCostCtrlr", "TariffFallbackMessage"): Variable("", True, _is_text),
        ("TariffCostCtrlr", "TotalCostFallbackMessage"): Variable("", True, _is_text),
        # C25 dynamic QR: the URL template, and the one-time password's secret, length and
        # validity ("TOTP algorithm, version 1", drivers/ocpp/webpay.py).
        ("WebPaymentsCtrlr", "Enabled"): Variable("false", True, _is_bool),
        ("WebPaymentsCtrlr", "URLTemplate"): Variable("", True, _is_url_template),
        ("WebPaymentsCtrlr", "ValidityTime"): Variable("30", True, _is_validity),
        ("WebPaymentsCtrlr", "Length"): Variable("12", True, _is_totp_length),
        ("WebPaymentsCtrlr", "TOTPVersion"): Variable("v1", True, lambda v: v == "v1"),
        ("WebPaymentsCtrlr", "SharedSecret"): Variable("", True, _is_secret, write_only=True),
    }


class DeviceModel:
    def __init__(
        self,
        journal: Journal,
        currency: str,
        on_set: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.journal = journal
        self.on_set = on_set  # told each value once it is kept
        self.known = registry(currency)
        self.components = {component for component, _ in self.known}

    def get(self, item: dict[str, Any]) -> dict[str, Any]:
        component, variable = _names(item)
        result: dict[str, Any] = {"component": item["component"], "variable": item["variable"]}
        attribute = item.get("attribute_type") or "Actual"
        status = self._status(component, variable)
        if status == "Accepted" and attribute != "Actual":
            status = "NotSupportedAttributeType"
        if status == "Accepted" and self.known[(component, variable)].write_only:
            status = "Rejected"
        result["attributeStatus"] = status
        if status == "Accepted":
            stored = self.journal.csms_variables().get((component, variable))
            result["attributeValue"] = (
                stored if stored is not None else self.known[(component, variable)].default
            )
        return result

    def set(self, item: dict[str, Any]) -> dict[str, Any]:
        component, variable = _names(item)
        value = str(item.get("attribute_value", ""))
        result: dict[str, Any] = {"component": item["component"], "variable": item["variable"]}
        status = self._status(component, variable)
        if status == "Accepted":
            spec = self.known[(component, variable)]
            if (item.get("attribute_type") or "Actual") != "Actual":
                status = "NotSupportedAttributeType"
            elif not spec.writable or (spec.check is not None and not spec.check(value)):
                status = "Rejected"
            else:
                self.journal.csms_set_variable(component, variable, value)
                if self.on_set is not None:
                    self.on_set(component, variable, value)
        result["attributeStatus"] = status
        return result

    def value(self, component: str, variable: str) -> str:
        """The value in force: the CSMS's, kept in the journal, else the station's default."""
        stored = self.journal.csms_variables().get((component, variable))
        return stored if stored is not None else self.known[(component, variable)].default

    def values(self, component: str) -> dict[str, str]:
        """Every value in force of one component, by variable name."""
        return {v: self.value(c, v) for c, v in self.known if c == component}

    def _status(self, component: str, variable: str) -> str:
        if component not in self.components:
            return "UnknownComponent"
        if (component, variable) not in self.known:
            return "UnknownVariable"
        return "Accepted"


def _names(item: dict[str, Any]) -> tuple[str, str]:
    return str(item["component"]["name"]), str(item["variable"]["name"])
