"""A connector's signing meter from the station config's meter settings (Eichrecht).

`[meters.left]` with `model = "em580"` (the live-value map) and `signing = "em580"` (the
signing map), `evse_id = "DE*EVK*E0001*1"` (written into every record as the charge point, as
printed on the station) and optionally `missing_rule = "no_energy_charge"`. The signer talks
through the live meter's own link: one bus, one owner thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drivers.modbus.bus import DeviceLink
    from kiosk.runtime.devices import SigningSetup

SIGNING_KEYS = frozenset({"signing", "evse_id", "missing_rule"})


def split_settings(settings: Mapping[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """(the live meter's settings, the signing settings)."""
    live = {k: v for k, v in settings.items() if k not in SIGNING_KEYS}
    signing = {k: v for k, v in settings.items() if k in SIGNING_KEYS}
    return live, signing


def signing_model(name: str, signing: Mapping[str, object]) -> str | None:
    model = signing.get("signing")
    if model is None:
        if signing:
            raise ValueError(f"{name}.signing: name the signing meter model (e.g. em580)")
        return None
    if not isinstance(model, str):
        raise ValueError(f"{name}.signing: must be a signing meter model name, not {model!r}")
    return model


def build_signing(
    name: str,
    signing: Mapping[str, object],
    link: DeviceLink,
    *,
    wall: Callable[[], datetime],
    sleep: Callable[[float], None] | None = None,
) -> SigningSetup:
    """ValueError naming the key when a setting is wrong."""
    # The signer's protocol, maps and billing rules load only for a station that has a
    # signing meter: a station without one never needs them (nor their start-up time).
    from drivers.modbus.bus import DeviceLink  # noqa: PLC0415
    from drivers.modbus.registermap import MapError  # noqa: PLC0415
    from drivers.ocmf_meter.protocol import build_signer  # noqa: PLC0415
    from drivers.ocmf_meter.signing_map import load_signing_map  # noqa: PLC0415
    from kiosk.ocmf.billing import MissingRule  # noqa: PLC0415
    from kiosk.runtime.devices import SigningSetup  # noqa: PLC0415

    model = signing_model(name, signing)
    assert model is not None
    try:
        smap = load_signing_map(model)
    except MapError as exc:
        raise ValueError(f"{name}.signing: {exc}") from None
    evse = signing.get("evse_id")
    if not isinstance(evse, str) or not evse.strip() or "|" in evse:
        raise ValueError(f"{name}.evse_id: the EVSE id as printed on the station, not {evse!r}")
    rules = ", ".join(r.value for r in MissingRule)
    try:
        rule = MissingRule(signing.get("missing_rule", MissingRule.NO_ENERGY_CHARGE.value))
    except ValueError:
        raise ValueError(f"{name}.missing_rule: must be one of {rules}") from None
    options: dict[str, object] = {"wall": wall}
    if sleep is not None:
        options["sleep"] = sleep
    signer = build_signer(DeviceLink(link.bus, link.unit, link.gap_s), smap, **options)
    return SigningSetup(signer, evse.strip(), rule)
