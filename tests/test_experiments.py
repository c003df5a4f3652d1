"""Each registered experiment end-to-end in quick mode, with verdicts computed from its data."""

import json

import pandas as pd
import pytest
from conftest import run_quick

from shardlab.analysis.statistics import claim_result
from shardlab.experiments import reward_button
from shardlab.experiments.registry import all_experiments, get


def test_every_experiment_is_registered_with_claims() -> None:
    names = [e.name for e in all_experiments()]
    assert "reward-button" in names
    for experiment in all_experiments():
        assert experiment.claims, experiment.name


@pytest.fixture(scope="module")
def reward_button_run(tmp_path_factory: pytest.TempPathFactory):
    return run_quick(get("reward-button"), tmp_path_factory.mktemp("runs"))


def test_reward_button_quick_end_to_end(reward_button_run) -> None:
    run_dir, config = reward_button_run
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [c["id"] for c in summary["claims"]] == ["S3", "R2", "R4"]
    for claim in summary["claims"]:
        assert claim["verdict"] in {"supported", "not supported", "inconclusive"}
        assert claim["n"] == config.seeds
        lo, hi = claim["ci"]
        assert lo <= claim["effect"] <= hi
    assert (run_dir / "report.html").stat().st_size > 1000
    figures = {p.name for p in (run_dir / "figures").iterdir()}
    assert figures >= {"press_rate.png", "training.png", "shards.png"}


def test_reward_button_verdicts_come_from_the_data(reward_button_run) -> None:
    """Recompute R4 from the stored per-seed tables: the summary must agree."""
    run_dir, config = reward_button_run
    frames = [
        pd.read_parquet(p).assign(seed=int(p.parent.name))
        for p in sorted((run_dir / "seeds").glob("*/summary.parquet"))
    ]
    rates = pd.concat(frames).pivot(index="seed", columns="condition", values="press_rate")
    expected = claim_result(reward_button.R4, rates["planner"], rates["reflective"], paired=True)
    summary = json.loads((run_dir / "summary.json").read_text())
    r4 = next(c for c in summary["claims"] if c["id"] == "R4")
    assert r4["effect"] == pytest.approx(expected.effect)
    assert r4["verdict"] == expected.verdict
    assert set(rates.columns) == {"hidden", "early", "cue", "reflective", "planner"}
    assert ((rates >= 0) & (rates <= 1)).all().all()
