"""A session's trail on the operator page carries the provider's settlement lines, oldest first."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend.models import ChargingSession
from tests.backend.conftest import Backend
from tests.backend.ops_steps import make_operator, signed_in
from tests.backend.test_reconcile_books import _plant


def test_trail_lists_settlement_and_dispute_lines(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    _plant(b).close()  # S-5: settled, then charged back (Adyen sample)
    make_operator(b, "vera", "viewer")
    with b.svc.db.read() as s:
        pk = s.scalar(select(ChargingSession.pk).where(ChargingSession.session_id == "S-5"))
    c = signed_in(b, "vera")
    html = c.get(f"/ops/sessions/{pk}").text
    c.close()
    kinds = re.findall(r'<li data-kind="([a-z_]+)">', html)
    assert kinds[-2:] == ["settlement", "settlement"], kinds  # booked on 5 March
    assert "adyen booked charge €6.25, fee €0.18, payout 7" in html.replace("\u00a0", " ")
    assert "adyen booked dispute -€6.25" in html.replace("\u00a0", " ")
