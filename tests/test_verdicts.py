"""The judgement rule: its truth tables, and planted data judged end to end through the runner."""

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import Result
from pydantic import PositiveInt, ValidationError

from shardlab.analysis.verdicts import (
    Claim,
    Precondition,
    Test,
    all_of,
    equivalence,
    exact,
    judge,
    precondition,
    superiority,
)
from shardlab.errors import ShardlabError
from shardlab.experiments import registry
from shardlab.experiments.base import ExperimentConfig

CLAIM = Claim(id="X1", claim="c", prediction="effect > 0.1", contrast="none")


@pytest.mark.parametrize(
    ("effect", "ci", "direction", "expected"),
    [
        (0.3, (0.1, 0.5), 1, "supported"),
        (0.05, (0.01, 0.09), 1, "not supported"),  # clears 0, confidently below the margin
        (0.08, (0.01, 0.2), 1, "inconclusive"),  # clears 0, but the point misses the margin
        (0.25, (0.0, 0.5), 1, "inconclusive"),  # touching 0 is not beyond it
        (-0.3, (-0.5, -0.1), 1, "not supported"),  # opposite sign
        (-0.3, (-0.5, -0.15), -1, "supported"),
        (0.3, (0.1, 0.5), -1, "not supported"),
        (0.0, (-0.2, 0.15), 1, "inconclusive"),
    ],
)
def test_superiority_truth_table(
    effect: float, ci: tuple[float, float], direction: int, expected: str
) -> None:
    test = Test(name="t", kind="superiority", effect=effect, ci=ci, margin=0.1,
                direction=direction)  # fmt: skip
    assert test.verdict == expected


@pytest.mark.parametrize(
    ("ci", "ci90", "expected"),
    [
        ((-0.09, 0.09), (-0.05, 0.05), "supported"),  # 90% CI inside ±margin
        ((-0.12, 0.09), (-0.08, 0.05), "supported"),  # only the 90% CI must be inside
        ((-0.2, 0.2), (-0.15, 0.15), "inconclusive"),
        ((0.12, 0.4), (0.15, 0.35), "not supported"),  # 95% CI entirely beyond +margin
        ((-0.4, -0.11), (-0.35, -0.15), "not supported"),
    ],
)
def test_equivalence_truth_table(
    ci: tuple[float, float], ci90: tuple[float, float], expected: str
) -> None:
    test = Test(name="t", kind="equivalence", effect=sum(ci) / 2, ci=ci, ci90=ci90, margin=0.1)
    assert test.verdict == expected


def test_a_test_needs_a_positive_margin_and_equivalence_its_90_interval() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        Test(name="t", kind="superiority", effect=1.0, ci=(0.5, 1.5), margin=0.0)
    with pytest.raises(ValidationError, match="ci90"):
        Test(name="t", kind="equivalence", effect=0.0, ci=(-0.1, 0.1), margin=0.5)


def test_preconditions_pass_when_the_ci_clears_the_threshold() -> None:
    def check(ci: tuple[float, float], direction: int) -> bool:
        return Precondition(name="p", value=sum(ci) / 2, ci=ci, threshold=0.5,
                            direction=direction).passed  # fmt: skip

    assert check((0.6, 0.9), 1) and not check((0.4, 0.9), 1)
    assert check((0.1, 0.4), -1) and not check((0.1, 0.6), -1)
    assert exact("deterministic", 3.0, threshold=2.0).passed


def test_all_of() -> None:
    assert all_of(["supported", "supported"]) == "supported"
    assert all_of(["supported", "inconclusive"]) == "inconclusive"
    assert all_of(["inconclusive", "not supported"]) == "not supported"
    assert all_of(["supported", "not testable"]) == "not testable"


def test_judge_combines_tests_and_gives_a_reason() -> None:
    good = Test(name="big", kind="superiority", effect=0.3, ci=(0.2, 0.4), margin=0.1)
    small = Test(name="small", kind="superiority", effect=0.02, ci=(0.01, 0.05), margin=0.1)
    result = judge(CLAIM, [good, small], n=8)
    assert result.verdict == "not supported"
    assert "'small'" in result.reason and "'big'" not in result.reason
    assert (result.effect, result.ci, result.unit) == (0.3, (0.2, 0.4), "seed")
    failed = Precondition(name="task learned", value=0.0, ci=(-0.1, 0.1), threshold=0.0)
    untestable = judge(CLAIM, [good], [failed], n=8)
    assert untestable.verdict == "not testable"
    assert "task learned" in untestable.reason and "0" in untestable.reason
    with pytest.raises(ValueError, match="at least one test"):
        judge(CLAIM, [], n=8)


def test_tests_from_samples() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0.0, 0.05, 8)
    assert superiority("paired", base + 0.5, base, margin=0.1, paired=True).verdict == "supported"
    assert superiority("null", rng.normal(0, 0.05, 8), margin=0.1).verdict == "not supported"
    down = superiority("slope", rng.normal(-0.5, 0.05, 8), margin=0.1, direction=-1)
    assert down.verdict == "supported" and down.effect < 0
    same = equivalence("null", rng.normal(0, 0.05, 8), rng.normal(0, 0.05, 8), margin=0.2)
    assert same.verdict == "supported" and same.ci90 is not None
    assert precondition("control", rng.normal(1.0, 0.1, 8)).passed


def test_a_bounded_effect_keeps_its_interval_in_bounds() -> None:
    rho = np.array([1.0, 1.0, 1.0, 0.4, 1.0, 1.0, 0.9, 1.0])  # per-seed Spearman ρ
    free = superiority("ρ", rho, margin=0.8)
    cut = superiority("ρ", rho, margin=0.8, bounds=(-1.0, 1.0))
    assert free.ci[1] > 1.0 and cut.ci == (free.ci[0], 1.0) and cut.verdict == free.verdict


PLANTED = {
    "toy-coin": "supported",  # a planted effect
    "toy-coin-null": "not supported",  # a planted null, superiority test with a margin
    "toy-coin-equivalent": "supported",  # the same null under an equivalence test
    "toy-coin-untestable": "not testable",  # a planted effect, but the control failed
}


def test_planted_data_are_judged_rightly_end_to_end(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli("reproduce", *PLANTED, "--workers", "1", "--out", str(tmp_path))
    assert result.code == 0, result.err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["quick"] is False
    assert {c["experiment"]: c["verdict"] for c in summary["claims"]} == PLANTED
    untestable = next(c for c in summary["claims"] if c["experiment"] == "toy-coin-untestable")
    assert untestable["reason"].startswith("not testable: precondition 'the control coin")
    assert "supported" in untestable["tests"][0]["verdict"]  # the test itself would have passed


def test_quick_runs_are_labelled_smoke_tests(cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("reproduce", "toy-coin", "--quick", "--workers", "1", "--out", str(tmp_path))
    assert result.code == 0 and "smoke test" in result.out
    top = json.loads((tmp_path / "summary.json").read_text())
    run = json.loads((tmp_path / top["runs"][0] / "summary.json").read_text())
    assert top["quick"] is True and run["quick"] is True
    assert top["claims"][0]["verdict"] == "supported"  # the JSON value stays four-valued
    assert "smoke test" in (tmp_path / "report.html").read_text()


def test_every_experiment_has_enough_seeds_and_rejects_none() -> None:
    for experiment in registry.all_experiments():
        assert experiment.configure().seeds >= 8, experiment.name
        assert experiment.configure(quick=True).seeds >= 3, experiment.name
        for bad in (0, -3):
            with pytest.raises(ShardlabError, match="greater than 0"):
                experiment.configure(overrides={"seeds": bad})


def test_an_experiment_cannot_weaken_its_seeds() -> None:
    base = registry.all_experiments()[0]

    class PlainInt(ExperimentConfig):
        seeds: int = 8

    class SixSeeds(ExperimentConfig):
        seeds: PositiveInt = 6

    with pytest.raises(ValueError, match="PositiveInt"):
        dataclasses.replace(base, name="plain", config_type=PlainInt, quick={})
    with pytest.raises(ValueError, match=">= 8 seeds"):
        dataclasses.replace(base, name="six", config_type=SixSeeds, quick={})
    with pytest.raises(ValueError, match=">= 3 in quick mode"):
        dataclasses.replace(base, name="two", config_type=ExperimentConfig, quick={"seeds": 2})


def test_zero_seeds_on_a_real_experiment_is_one_clear_error(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    for seeds in ("0", "-3"):
        result = cli("run", "reward-button", "--seeds", seeds, "--out", str(tmp_path))
        assert result.code == 2 and "greater than 0" in result.err
        assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())
