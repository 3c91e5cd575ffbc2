"""Card data masking: a PAN shows at most its first 6 and last 4 digits, track data never."""

from __future__ import annotations

import re

MASK = "*"
_VISIBLE_HEAD = 6
_VISIBLE_TAIL = 4
# Below this length, first 6 + last 4 would reveal (nearly) the whole number.
_MIN_LEN_FOR_HEAD = 13


def mask_pan(digits: str) -> str:
    """Mask a PAN given as digits (``*`` or ``E`` already masked); keeps <= 6 + 4 digits."""
    cleaned = "".join(MASK if c in "Ee*" else c for c in digits.rstrip("Ff"))
    size = len(cleaned)
    if size >= _MIN_LEN_FOR_HEAD:
        keep_head, keep_tail = _VISIBLE_HEAD, _VISIBLE_TAIL
    elif size > _VISIBLE_TAIL * 2:
        keep_head, keep_tail = 0, _VISIBLE_TAIL
    else:
        keep_head, keep_tail = 0, 0
    out = [
        c if (i < keep_head or i >= size - keep_tail) and c.isdigit() else MASK
        for i, c in enumerate(cleaned)
    ]
    return "".join(out)


def mask_pan_nibbles(nibbles: str) -> str:
    """PAN as BCD nibbles from BMP 22: ``E`` is a masked digit, ``F`` pads odd lengths."""
    return mask_pan(nibbles)


# 13 or more digits, optionally grouped by single spaces or dashes: what a PAN looks like in
# text. A terminal's texts (display, receipt, card name) are free text; a hostile or buggy one
# may put a whole PAN there, so every such run is masked before the text goes anywhere.
_PAN_LIKE = re.compile(r"[0-9](?:[ -]?[0-9]){12,}")
_PAN_LIKE_BYTES = re.compile(rb"[0-9](?:[ -]?[0-9]){12,}")


def _mask_run(run: str) -> str:
    digits = [c for c in run if c.isdigit()]
    masked = iter(mask_pan("".join(digits)))
    return "".join(next(masked) if c.isdigit() else c for c in run)


def scrub_pans(text: str) -> str:
    """``text`` with every PAN-like digit run masked (first 6 / last 4 kept), same length."""
    return _PAN_LIKE.sub(lambda m: _mask_run(m.group()), text)


def scrub_pans_bytes(raw: bytes) -> bytes:
    """The same for single-byte text (ASCII, CP437, Latin-1), in place: same length."""
    return _PAN_LIKE_BYTES.sub(lambda m: _mask_run(m.group().decode("ascii")).encode("ascii"), raw)
