"""Elbows of learning curves with Kneedle (Satopää et al. 2011, the `kneed` package).

A hand-written knee finder would be one more thing to validate; Kneedle is the standard one, and
its parameters are declared by the caller.
"""

from __future__ import annotations

import numpy as np
from kneed import KneeLocator


def kneedle(x: np.ndarray, y: np.ndarray, sensitivity: float = 1.0, online: bool = True) -> float:
    """x at the knee of a concave increasing curve y(x), or NaN when Kneedle finds none."""
    locator = KneeLocator(np.asarray(x, float), np.asarray(y, float), S=sensitivity,
                          curve="concave", direction="increasing", online=online)
    return float("nan") if locator.knee is None else float(locator.knee)
