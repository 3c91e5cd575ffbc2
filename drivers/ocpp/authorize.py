"""OCPP 2.1 C18 with `PaymentCtrlr.AuthorizeDirectPayment` true: the CSMS accepts each payment.

After the terminal approved the hold, the core issues AuthorizeAtCsms and keeps charging off;
this sends `Authorize` with the payment's DirectPayment idToken (the same token the transaction
is reported with) and posts the CSMS's `idTokenInfo.status` back as an event. The core starts
charging only on `Accepted`; anything else (a refusal, no boot, a link that drops, no answer in
time) releases the hold and the CSMS hears NotifySettlement Canceled (C19). Authorize is asked
live, not queued: a payment waiting for it across a restart is released like any other
authorised session that was not charging.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from websockets.exceptions import WebSocketException

from drivers.ocpp.peer import CsmsRefused, LinkClosed
from kiosk.journal.csms_feed import id_token
from kiosk.session.commands import AuthorizeAtCsms

if TYPE_CHECKING:
    from drivers.ocpp.link import CsmsLink

log = logging.getLogger(__name__)

NO_ANSWER = "NoAnswer"


class PaymentAuthorizer:
    def __init__(self, link: CsmsLink, answer: Callable[[str, str], None]) -> None:
        self.link = link
        self.answer = answer  # (session id, status): posts the event to the runtime

    def __call__(self, command: AuthorizeAtCsms) -> None:
        """Called on the machine thread: hand the question to the link's loop."""
        link, sid = self.link, command.session_id
        loop, peer = link.loop, link.peer
        if loop is None or peer is None or not link.accepted:
            log.warning("csms: payment of %s not authorised: the CSMS is not connected", sid)
            self.answer(sid, NO_ANSWER)
            return
        if link.dialect.version != "2.1":
            # 2.0.1 and 1.6 have no DirectPayment token: their payment stays local.
            self.answer(sid, "Accepted")
            return
        try:
            asyncio.run_coroutine_threadsafe(self._ask(peer, command), loop)
        except RuntimeError:  # the loop closed meanwhile
            self.answer(sid, NO_ANSWER)

    async def _ask(self, peer: object, command: AuthorizeAtCsms) -> None:
        payload = {"idToken": id_token(command.auth)}
        try:
            reply = await peer.call_dict(  # type: ignore[attr-defined]
                "Authorize", payload, self.link.next_id()
            )
            status = str(reply["idTokenInfo"]["status"])
        except (CsmsRefused, OSError, TimeoutError, WebSocketException, LinkClosed) as exc:
            log.warning("csms: Authorize of %s not answered: %s", command.session_id, exc)
            status = NO_ANSWER
        log.info("csms: Authorize of %s: %s", command.session_id, status)
        self.answer(command.session_id, status)
