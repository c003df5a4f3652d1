"""The Abbeel & Ng (2004) sample bound for apprenticeship learning.

With k reward features φ ∈ [0, 1]ᵏ, ‖w‖₁ ≤ 1 and discount γ, m expert trajectories suffice to
find, with probability 1 − δ, a policy within ε of the expert's value when

    m ≥ 2k / (ε(1 − γ))² · ln(2k / δ).

It grows like k·ln k: the seed's case that values must pass through a low-dimensional bottleneck.
"""

from __future__ import annotations

import math

from shardlab.errors import ShardlabError


def abbeel_ng(k: int, gamma: float, epsilon: float, delta: float) -> float:
    """Trajectories that suffice for an ε-good policy with probability 1 − δ (k features)."""
    if k < 1:
        raise ShardlabError(f"the reward dimension k must be >= 1, got {k}")
    if not 0 <= gamma < 1:
        raise ShardlabError(f"the discount gamma must be in [0, 1), got {gamma}")
    if epsilon <= 0 or not 0 < delta < 1:
        raise ShardlabError(f"need epsilon > 0 and delta in (0, 1), got {epsilon} and {delta}")
    return 2 * k / (epsilon * (1 - gamma)) ** 2 * math.log(2 * k / delta)


SEED_TABLE: dict[tuple[float, int], float] = {
    (0.9, 10): 1.2e6,
    (0.9, 1000): 2.12e8,
    (0.99, 10): 1.2e8,
    (0.99, 1000): 2.12e10,
}
"""The seed's table at ε = 0.1, δ = 0.05, keyed (γ, k), as printed (2–3 significant digits)."""
SEED_EPSILON, SEED_DELTA, SEED_RATIO = 0.1, 0.05, 177.0


def printed_digits(value: float) -> int:
    """Significant digits the seed printed `value` with (1.2e6 → 2, 2.12e8 → 3)."""
    mantissa = f"{value:e}".split("e")[0].rstrip("0").rstrip(".")
    return max(1, len(mantissa.replace(".", "").replace("-", "")))


def matches_printed(computed: float, printed: float) -> bool:
    """`computed` rounds to `printed` at the precision `printed` was written with."""
    digits = printed_digits(printed)
    return float(f"{computed:.{digits - 1}e}") == printed
