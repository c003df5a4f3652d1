"""Bootstrap CIs against analytic answers, and the verdict rule's truth table."""

import numpy as np
import pytest

from shardlab.analysis.statistics import (
    bootstrap_ci,
    bootstrap_diff_ci,
    claim_result,
    paired_diff_ci,
    verdict,
)
from shardlab.experiments.base import Claim

CLAIM = Claim(id="X1", claim="c", prediction="effect > 0", contrast="none")


def assert_close_interval(ci: tuple[float, float], centre: float, half_width: float) -> None:
    """Within 10% of the half-width: the Monte Carlo error of 10k resamples is a few percent."""
    assert ci[0] == pytest.approx(centre - half_width, abs=0.1 * half_width)
    assert ci[1] == pytest.approx(centre + half_width, abs=0.1 * half_width)


def test_ci_of_large_normal_sample_matches_normal_theory() -> None:
    x = np.random.default_rng(1).normal(3.0, 2.0, 5_000)
    assert_close_interval(bootstrap_ci(x), x.mean(), 1.96 * x.std(ddof=1) / np.sqrt(x.size))


def test_diff_ci_of_independent_samples_matches_normal_theory() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(1.0, 1.0, 4_000), rng.normal(0.0, 2.0, 3_000)
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert_close_interval(bootstrap_diff_ci(a, b), a.mean() - b.mean(), 1.96 * se)


def test_paired_diff_removes_shared_noise() -> None:
    b = np.random.default_rng(3).normal(0.0, 10.0, 50)
    assert paired_diff_ci(b + 1.5, b) == pytest.approx((1.5, 1.5))
    with pytest.raises(ValueError, match="differ in length"):
        paired_diff_ci([1.0, 2.0], [1.0])


def test_constant_sample_has_degenerate_ci() -> None:
    assert bootstrap_ci(np.full(8, 2.5)) == (2.5, 2.5)


def test_bootstrap_is_deterministic_in_its_seed() -> None:
    x = np.random.default_rng(4).normal(size=10)
    assert bootstrap_ci(x, seed=7) == bootstrap_ci(x, seed=7)
    assert bootstrap_ci(x, seed=7) != bootstrap_ci(x, seed=8)


def test_other_statistics_and_levels() -> None:
    x = np.random.default_rng(5).exponential(size=200)
    lo, hi = bootstrap_ci(x, statistic=np.median)
    assert lo < np.median(x) < hi
    wide, narrow = bootstrap_ci(x), bootstrap_ci(x, level=0.5)
    assert wide[0] < narrow[0] < x.mean() < narrow[1] < wide[1]
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(x, level=1.0)


def test_empty_sample_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci([])


@pytest.mark.parametrize(
    ("ci", "direction", "margin", "expected"),
    [
        ((0.1, 0.5), +1, 0.0, "supported"),
        ((0.0, 0.5), +1, 0.0, "inconclusive"),  # touching 0 is not strictly beyond it
        ((-0.1, 0.2), +1, 0.0, "inconclusive"),
        ((-0.5, -0.1), +1, 0.0, "not supported"),  # opposite sign
        ((-0.5, -0.1), -1, 0.0, "supported"),
        ((0.1, 0.5), -1, 0.0, "not supported"),
        ((-0.2, 0.05), +1, 0.1, "not supported"),  # confidently below the smallest effect
        ((-0.2, 0.15), +1, 0.1, "inconclusive"),
        ((0.01, 0.05), +1, 0.1, "supported"),
        ((-0.15, 0.2), -1, 0.1, "inconclusive"),
        ((-0.05, 0.2), -1, 0.1, "not supported"),
    ],
)
def test_verdict_truth_table(
    ci: tuple[float, float], direction: int, margin: float, expected: str
) -> None:
    assert verdict(ci, direction, margin) == expected


def test_verdict_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="direction"):
        verdict((0.0, 1.0), direction=0)
    with pytest.raises(ValueError, match="margin"):
        verdict((0.0, 1.0), margin=-0.1)


def test_claim_result_one_sample_and_contrasts() -> None:
    rng = np.random.default_rng(6)
    treated, control = rng.normal(1.0, 0.1, 8), rng.normal(0.0, 0.1, 8)
    one = claim_result(CLAIM, treated, detail="d")
    assert (one.id, one.prediction, one.n, one.verdict, one.detail) == (
        "X1", "effect > 0", 8, "supported", "d"
    )
    assert one.effect == pytest.approx(treated.mean())
    assert one.ci == bootstrap_ci(treated)
    diff = claim_result(CLAIM, control, treated)
    assert diff.effect == pytest.approx(control.mean() - treated.mean())
    assert diff.ci == bootstrap_diff_ci(control, treated)
    assert diff.verdict == "not supported"
    paired = claim_result(CLAIM, treated, control, paired=True, direction=-1)
    assert paired.ci == paired_diff_ci(treated, control)
    assert paired.verdict == "not supported"
