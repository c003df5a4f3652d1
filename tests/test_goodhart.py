"""S7 (goodhart-assessors) and R5 (learned-reward-model) end-to-end in quick mode, plus the
best-of-N estimator they share, checked against an analytic answer."""

import numpy as np
import pandas as pd
import pytest
from conftest import check_summary, run_quick

from shardlab.experiments import _proxy, goodhart, learned_reward  # noqa: F401 (registers them)
from shardlab.experiments.registry import get
from shardlab.runner.store import RunStore


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
    check_summary(experiment, run_dir, config)
    assert len(list((run_dir / "figures").glob("*.png"))) == 1
    curve = RunStore(run_dir).load_tables()["curves"]
    assert set(curve["pressure"]) == set(_proxy.pressures(config.max_pressure))
    # A proxy optimiser's own proxy score cannot fall as N grows (same candidates, nested max).
    for optimiser in set(curve["optimiser"]) - {"true"}:
        means = curve[curve["optimiser"] == optimiser].groupby("pressure")["proxy"].mean()
        assert (np.diff(means.to_numpy()) >= -1e-6).all()
