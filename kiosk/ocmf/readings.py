"""The journaled counter values re-based onto the billed energy of a signing meter's session.

The live readings give the session's time profile (charging and parking periods); the signed
record gives its energy. Both the kiosk's price and the report the backend recomputes from use
these values, so the two ledgers agree and add up to the signed energy exactly.
"""

from __future__ import annotations

from collections.abc import Sequence


def billed_energies(energies: Sequence[int], energy_wh: int) -> list[int]:
    """Counter values from the first one, capped at first + energy_wh, the last set to it.

    One value only: a second (first + energy_wh) is appended, for the caller to time."""
    if not energies:
        return []
    start = energies[0]
    out = [start + min(max(0, e - start), energy_wh) for e in energies]
    if len(out) == 1:
        return out if energy_wh == 0 else [start, start + energy_wh]
    out[-1] = start + energy_wh
    return out
