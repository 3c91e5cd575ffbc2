"""The tariff text a signing meter signs (OCMF `TT`): the prices the kiosk's price screen shows.

Worded from the session's frozen offer in the station's first language, the same words as the
price screen (kiosk.tariff.wording), so the text in the signed record is the one the driver
read. OCMF allows at most 250 characters and no `|`: the full lines if they fit, else the
compact form of the connector tiles.
"""

from __future__ import annotations

from kiosk.session.model import Offer
from kiosk.tariff import wording
from kiosk.tariff.lines import AFIR_ORDER

MAX_TARIFF_TEXT = 250


def tariff_text(offer: Offer, language: str) -> str:
    """ValueError if `language` has no translation file."""
    words = wording.load_words(language)
    rank = {d: i for i, d in enumerate(AFIR_ORDER)}
    lines = sorted(offer.price_lines, key=lambda line: rank.get(line.dimension, len(rank)))
    with_vat = len({line.vat_percent for line in lines}) > 1
    full = "; ".join(wording.line_text(line, words, with_vat=with_vat) for line in lines)
    short = " + ".join(wording.short_text(line, words) for line in lines)
    for candidate in (full, short):
        text = candidate.replace("|", "/")
        if len(text) <= MAX_TARIFF_TEXT:
            return text
    return short.replace("|", "/")[: MAX_TARIFF_TEXT - 1] + "…"
