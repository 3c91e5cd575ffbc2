"""One line of the doctor's report."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.Enum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    WARN = "warn"  # works now, but something will bite later
    FAIL = "fail"  # the kiosk will not work (or not safely) until this is fixed
    SKIP = "skip"  # not applicable here (simulated device) or blocked by an earlier failure


@dataclass(frozen=True, slots=True)
class Check:
    area: str  # "config", "port", "meter", "controller", "terminal", "backend", ...
    subject: str  # what exactly: a file, a device name, a URL
    outcome: Outcome
    detail: str  # what was found
    fix: str = ""  # what to do, for WARN and FAIL

    def as_json(self) -> dict[str, str]:
        return {
            "area": self.area,
            "subject": self.subject,
            "outcome": self.outcome.value,
            "detail": self.detail,
            "fix": self.fix,
        }


def passed(area: str, subject: str, detail: str) -> Check:
    return Check(area, subject, Outcome.PASS, detail)


def failed(area: str, subject: str, detail: str, fix: str) -> Check:
    return Check(area, subject, Outcome.FAIL, detail, fix)


def warned(area: str, subject: str, detail: str, fix: str) -> Check:
    return Check(area, subject, Outcome.WARN, detail, fix)


def skipped(area: str, subject: str, detail: str) -> Check:
    return Check(area, subject, Outcome.SKIP, detail)
