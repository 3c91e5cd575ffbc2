"""The station's end of one OCPP-J websocket: the `ocpp` library's charge point, sending
payloads that were queued as JSON text exactly as they were written (amounts keep their
decimals: the library's own encoder would round a Decimal to one place)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ocpp.messages import Call, MessageType, validate_payload
from ocpp.routing import on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call_result
from ocpp.v21.enums import Action

from drivers.ocpp.reset import ResetPlan
from drivers.ocpp.tariffs import CsmsTariffs
from drivers.ocpp.variables import DeviceModel
from drivers.ocpp.web_payments import WebPayments

# The library logs every frame at INFO; the link's own log says what matters.
WIRE_LOG = logging.getLogger("drivers.ocpp.wire")
WIRE_LOG.setLevel(logging.WARNING)


_UNSUPPORTED = {"reasonCode": "NotSupported"}
_NO_REMOTE_START = {
    "reasonCode": "NotSupported",
    "additionalInfo": "charging starts after a payment at the station's own terminal or QR code",
}


# (transaction id, the CSMS's running total cost or None, its text or None): for display.
OperatorFigureSink = Callable[[str, Decimal | None, str | None], None]


class CsmsRefused(Exception):
    """The CSMS answered with a CallError."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class LinkClosed(ConnectionError):
    """The websocket closed while a call waited for its answer."""


class StationPeer(ChargePoint21):  # type: ignore[misc]  # the library is untyped
    def __init__(
        self,
        identity: str,
        connection: Any,
        response_timeout: float,
        *,
        model: DeviceModel | None = None,
        trigger: Callable[[str], bool] | None = None,
        remote_stop: Callable[[str], bool] | None = None,
        tariffs: CsmsTariffs | None = None,
        running: Callable[[str], str | None] | None = None,
        reset: ResetPlan | None = None,
        operator: OperatorFigureSink | None = None,
        web_payments: WebPayments | None = None,
    ) -> None:
        super().__init__(identity, connection, response_timeout, logger=WIRE_LOG)
        self.web_payments = web_payments
        self.reset = reset
        self.operator = operator
        self.reader: asyncio.Task[None] | None = None
        self.model = model
        self.trigger = trigger
        self.remote_stop = remote_stop
        self.tariffs = tariffs
        self.running = running or (lambda _transaction_id: None)
        self._raw_call = "[]"

    async def route_message(self, raw_msg: str) -> Any:
        # The library hands handlers floats; a tariff is read again from the frame's text,
        # with exact decimals.
        self._raw_call = raw_msg
        return await super().route_message(raw_msg)

    def _exact_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self._raw_call, parse_float=Decimal)[3]
        return payload

    # ------------------------------------------------------------------ calls from the CSMS

    @on(Action.get_variables)  # type: ignore[untyped-decorator]
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        assert self.model is not None
        results = [self.model.get(item) for item in get_variable_data]
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)  # type: ignore[untyped-decorator]
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        assert self.model is not None
        results = [self.model.set(item) for item in set_variable_data]
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.trigger_message)  # type: ignore[untyped-decorator]
    def on_trigger_message(self, requested_message: str, **_: Any) -> Any:
        done = self.trigger is not None and self.trigger(requested_message)
        return call_result.TriggerMessage(status="Accepted" if done else "NotImplemented")

    @on(Action.request_stop_transaction)  # type: ignore[untyped-decorator]
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        done = self.remote_stop is not None and self.remote_stop(transaction_id)
        return call_result.RequestStopTransaction(status="Accepted" if done else "Rejected")

    @on(Action.request_start_transaction)  # type: ignore[untyped-decorator]
    def on_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        # A session starts with the driver at the station's terminal (C18). A CSMS-started one
        # pays elsewhere: only a web payment's DirectPayment token (C25, the CSMS's PSP holds
        # the money) while the CSMS enabled web payments; else nothing here would hold the
        # money it charges against, so it is refused, saying why.
        web = self.web_payments
        if web is None or self._ocpp_version != "2.1":
            return call_result.RequestStartTransaction(
                status="Rejected", status_info=_NO_REMOTE_START
            )
        token = self._exact_payload()["idToken"]  # as sent (the library renames the keys)
        status, info = web.request_start(evse_id, token, remote_start_id)
        return call_result.RequestStartTransaction(status=status, status_info=info)

    @on(Action.notify_web_payment_started)  # type: ignore[untyped-decorator]
    def on_notify_web_payment_started(self, evse_id: int, timeout: int, **_: Any) -> Any:
        if self.web_payments is not None:
            self.web_payments.notify_started(evse_id, timeout)
        return call_result.NotifyWebPaymentStarted()

    @on(Action.reset)  # type: ignore[untyped-decorator]
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        if self.reset is None:
            return call_result.Reset(status="Rejected", status_info=_UNSUPPORTED)
        status, reason = self.reset.request(type, evse_id)
        info = None if reason is None else {"reasonCode": reason}
        return call_result.Reset(status=status, status_info=info)

    @on(Action.set_default_tariff)  # type: ignore[untyped-decorator]
    def on_set_default_tariff(self, **_: Any) -> Any:
        payload = self._exact_payload()
        if self.tariffs is None:
            return call_result.SetDefaultTariff(status="Rejected", status_info=_UNSUPPORTED)
        answer = self.tariffs.set_default(int(payload["evseId"]), payload["tariff"])
        return call_result.SetDefaultTariff(
            status=answer["status"], status_info=answer.get("statusInfo")
        )

    @on(Action.get_tariffs)  # type: ignore[untyped-decorator]
    def on_get_tariffs(self, evse_id: int, **_: Any) -> Any:
        if self.tariffs is None:
            return call_result.GetTariffs(status="NoTariff")
        answer = self.tariffs.get(evse_id)
        return call_result.GetTariffs(
            status=answer["status"],
            status_info=answer.get("statusInfo"),
            tariff_assignments=answer.get("tariffAssignments"),
        )

    @on(Action.clear_tariffs)  # type: ignore[untyped-decorator]
    def on_clear_tariffs(
        self, tariff_ids: list[str] | None = None, evse_id: int | None = None, **_: Any
    ) -> Any:
        if self.tariffs is None:
            return call_result.ClearTariffs(clear_tariffs_result=[{"status": "NoTariff"}])
        answer = self.tariffs.clear(tariff_ids, evse_id)
        return call_result.ClearTariffs(clear_tariffs_result=answer["clearTariffsResult"])

    @on(Action.change_transaction_tariff)  # type: ignore[untyped-decorator]
    def on_change_transaction_tariff(self, **_: Any) -> Any:
        payload = self._exact_payload()
        if self.tariffs is None:
            return call_result.ChangeTransactionTariff(status="TxNotFound")
        answer = self.tariffs.change_transaction(
            str(payload["transactionId"]), payload["tariff"], self.running
        )
        return call_result.ChangeTransactionTariff(
            status=answer["status"], status_info=answer.get("statusInfo")
        )

    # ------------------------------------------------------------------ calls to the CSMS

    def listen(self) -> asyncio.Task[None]:
        self.reader = asyncio.ensure_future(self.start())
        return self.reader

    async def call_json(self, action: str, payload_json: str, message_id: str) -> dict[str, Any]:
        """Send one call whose payload is JSON text; return the CSMS's answer payload."""
        payload = json.loads(payload_json)
        await validate_payload(Call(message_id, action, payload), self._ocpp_version)
        frame = f"[{MessageType.Call},{json.dumps(message_id)},{json.dumps(action)},{payload_json}]"
        async with self._call_lock:
            await self._send(frame)
            response = await self._answer(message_id)
        if response.message_type_id == MessageType.CallError:
            raise CsmsRefused(str(response.error_code), str(response.error_description))
        response.action = action
        await validate_payload(response, self._ocpp_version)
        answer: dict[str, Any] = response.payload
        return answer

    async def call_dict(self, action: str, payload: dict[str, Any], message_id: str) -> Any:
        return await self.call_json(action, json.dumps(payload), message_id)

    async def _answer(self, message_id: str) -> Any:
        waiting = asyncio.ensure_future(
            self._get_specific_response(message_id, self._response_timeout)
        )
        reader = self.reader
        watch = {waiting} if reader is None else {waiting, reader}
        done, _ = await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
        if waiting not in done:
            waiting.cancel()
            raise LinkClosed("the CSMS closed the connection before it answered")
        return waiting.result()
