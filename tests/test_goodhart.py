"""S7 (goodhart-assessors) and R5 (learned-reward-model) end-to-end in quick mode, plus the
best-of-N estimator they share, checked against an analytic answer."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_quick

from shardlab.analysis.statistics import all_of, claim_result, paired_diff_ci, verdict
from shardlab.experiments import _proxy, goodhart, learned_reward
from shardlab.experiments.registry import get


def test_best_of_n_matches_the_expected_maximum() -> None:
    """E[max of N uniforms] = N / (N + 1); selecting on the value itself must reproduce it."""
    u = np.random.default_rng(0).uniform(size=(8, 4096))
    rows = _proxy.best_of_n(u, {"value": u}, [1, 4, 64])
    for row in rows:
        n = row["pressure"]
        assert row["value"] == pytest.approx(n / (n + 1), abs=0.01)


def test_held_out_peak_uses_the_other_seeds() -> None:
    curve = pd.DataFrame({"seed": [0, 0, 1, 1], "pressure": [1, 2, 1, 2],
                          "true": [1.0, 0.0, 0.0, 1.0]})
    peak = _proxy.held_out_peak(curve)
    assert peak.loc[0, "peak_pressure"] == 2 and peak.loc[1, "peak_pressure"] == 1
    assert peak.loc[0, "at_peak"] == 0.0 and peak.loc[1, "at_max"] == 1.0


@pytest.fixture(scope="module", params=["goodhart-assessors", "learned-reward-model"])
def quick_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    experiment = get(request.param)  # importing the modules above registered them
    return experiment, *run_quick(experiment, tmp_path_factory.mktemp("runs"))


def test_quick_end_to_end(quick_run) -> None:
    experiment, run_dir, config = quick_run
    summary = json.loads((run_dir / "summary.json").read_text())
    [claim] = summary["claims"]
    assert claim["id"] == experiment.claims[0].id
    assert claim["verdict"] in {"supported", "not supported", "inconclusive"}
    assert claim["n"] == config.seeds
    lo, hi = claim["ci"]
    assert lo <= claim["effect"] <= hi
    assert len(list((run_dir / "figures").glob("*.png"))) == 1


def test_verdict_recomputed_from_stored_tables(quick_run) -> None:
    experiment, run_dir, config = quick_run
    curve = pd.concat(
        pd.read_parquet(p).assign(seed=int(p.parent.name))
        for p in sorted((run_dir / "seeds").glob("*/curves.parquet"))
    )
    top = config.max_pressure
    assert set(curve["pressure"]) == set(_proxy.pressures(top))
    summary = json.loads((run_dir / "summary.json").read_text())["claims"][0]
    if experiment.name == "learned-reward-model":
        rule = _proxy.at_pressure(curve, "true", top, "true")
        learned = _proxy.at_pressure(curve, "learned", top, "true")
        expected = claim_result(learned_reward.R5, rule, learned, paired=True)
        gain = paired_diff_ci(_proxy.at_pressure(curve, "learned", top, "proxy"),
                              _proxy.at_pressure(curve, "true", top, "proxy"))
    else:
        peak = _proxy.held_out_peak(curve[curve["optimiser"] == "outcome"])
        expected = claim_result(goodhart.S7, peak["at_peak"] - peak["at_max"])
        proxy = curve[curve["optimiser"] == "outcome"].pivot(
            index="seed", columns="pressure", values="proxy")
        gain = paired_diff_ci(proxy[top], [proxy.loc[s, p]
                                           for s, p in peak["peak_pressure"].items()])
    assert summary["effect"] == pytest.approx(expected.effect)
    assert summary["verdict"] == all_of([expected.verdict, verdict(gain)])
    # A proxy optimiser's own proxy score cannot fall as N grows (same candidates, nested max).
    for optimiser in set(curve["optimiser"]) - {"true"}:
        means = curve[curve["optimiser"] == optimiser].groupby("pressure")["proxy"].mean()
        assert (np.diff(means.to_numpy()) >= -1e-6).all()
