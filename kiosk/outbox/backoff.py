"""When to try a failed delivery again: exponential backoff with jitter, capped, forever.

The jitter spreads a fleet of kiosks that lost the backend at the same moment, so they do not
all come back in the same second ("equal jitter": between half and all of the step).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass
class Backoff:
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=30)
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the attempts-th failed attempt (1 = the first failure)."""
        exponent = min(max(attempts - 1, 0), 30)  # 2**30 steps is far beyond any cap
        step = min(self.cap, self.base * (2**exponent))
        factor: float = self.rng.uniform(0.5, 1.0)
        return timedelta(seconds=step.total_seconds() * factor)
