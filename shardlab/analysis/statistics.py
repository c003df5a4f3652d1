"""Percentile-bootstrap confidence intervals and the verdict rule every claim is judged by.

Seeds are few (typically 8), so the bootstrap makes no normality assumption; the resampling is
vectorised and seeded, so a summary is reproducible to the last digit.
"""

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from shardlab.experiments.base import Claim, ClaimResult, Verdict

Statistic = Callable[..., np.ndarray]  # a numpy reduction that accepts `axis`, e.g. np.mean
Interval = tuple[float, float]

_CHUNK_ELEMENTS = 1 << 22  # resample in chunks of this many draws to bound memory


def _sample(values: ArrayLike, name: str = "values") -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise ValueError(f"{name} is empty; a confidence interval needs at least one value")
    return array


def _replicates(
    values: np.ndarray, statistic: Statistic, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """`n_boot` bootstrap replicates of `statistic(values)`."""
    rows = max(1, _CHUNK_ELEMENTS // values.size)
    chunks = []
    for start in range(0, n_boot, rows):
        index = rng.integers(0, values.size, size=(min(rows, n_boot - start), values.size))
        chunks.append(statistic(values[index], axis=1))
    return np.concatenate(chunks)


def _interval(replicates: np.ndarray, level: float) -> Interval:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    tail = (1 - level) / 2
    lo, hi = np.quantile(replicates, [tail, 1 - tail])
    return float(lo), float(hi)


def bootstrap_ci(
    values: ArrayLike,
    statistic: Statistic = np.mean,
    n_boot: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile-bootstrap CI of `statistic` over one sample."""
    rng = np.random.default_rng(seed)
    return _interval(_replicates(_sample(values), statistic, n_boot, rng), level)


def bootstrap_diff_ci(
    a: ArrayLike,
    b: ArrayLike,
    statistic: Statistic = np.mean,
    n_boot: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """CI of statistic(a) − statistic(b) for two independent samples, each resampled on its own."""
    rng = np.random.default_rng(seed)
    a_reps = _replicates(_sample(a, "a"), statistic, n_boot, rng)
    b_reps = _replicates(_sample(b, "b"), statistic, n_boot, rng)
    return _interval(a_reps - b_reps, level)


def paired_diff_ci(
    a: ArrayLike,
    b: ArrayLike,
    statistic: Statistic = np.mean,
    n_boot: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """CI of statistic(a − b) for paired samples (e.g. agent vs contrast on the same seeds)."""
    a_arr, b_arr = _sample(a, "a"), _sample(b, "b")
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"paired samples differ in length: {a_arr.size} vs {b_arr.size}")
    return bootstrap_ci(a_arr - b_arr, statistic, n_boot, level, seed)


def verdict(ci: Interval, direction: int = +1, margin: float = 0.0) -> Verdict:
    """Judge a predicted effect by its CI.

    "supported": the CI lies strictly beyond 0 in the predicted direction. "not supported": the
    CI lies entirely below `margin` in that direction (the effect is confidently smaller than the
    smallest effect of interest, or has the opposite sign). Otherwise "inconclusive".
    """
    if direction not in (+1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    lo, hi = sorted((direction * ci[0], direction * ci[1]))
    if lo > 0:
        return "supported"
    if hi < margin:
        return "not supported"
    return "inconclusive"


def all_of(verdicts: Sequence[Verdict]) -> Verdict:
    """A claim with several predicted effects is supported only if every one is."""
    if all(v == "supported" for v in verdicts):
        return "supported"
    return "not supported" if "not supported" in verdicts else "inconclusive"


def claim_result(
    claim: Claim,
    samples: ArrayLike,
    baseline: ArrayLike | None = None,
    *,
    paired: bool = False,
    direction: int = +1,
    margin: float = 0.0,
    detail: str = "",
    n_boot: int = 10_000,
    seed: int = 0,
) -> ClaimResult:
    """Judge `claim` from per-seed samples.

    Without `baseline` the effect is mean(samples); with it, the mean difference samples − baseline
    (paired or independent). `n` counts the units in `samples`, usually seeds.
    """
    values = _sample(samples, "samples")
    if baseline is None:
        effect = float(values.mean())
        ci = bootstrap_ci(values, n_boot=n_boot, seed=seed)
    else:
        control = _sample(baseline, "baseline")
        effect = float(values.mean() - control.mean())
        diff_ci = paired_diff_ci if paired else bootstrap_diff_ci
        ci = diff_ci(values, control, n_boot=n_boot, seed=seed)
    return ClaimResult(
        id=claim.id,
        prediction=claim.prediction,
        effect=effect,
        ci=ci,
        n=values.size,
        verdict=verdict(ci, direction, margin),
        detail=detail,
    )
