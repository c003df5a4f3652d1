"""Each registered experiment end-to-end in quick mode, with verdicts computed from its data."""

import pytest
from conftest import check_summary, run_quick

from shardlab.experiments.registry import all_experiments, get
from shardlab.runner.store import RunStore


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
    check_summary(get("reward-button"), run_dir, config)
    figures = {p.name for p in (run_dir / "figures").iterdir()}
    assert figures >= {"press_rate.png", "training.png", "test_presses.png"}
    summary = RunStore(run_dir).load_tables()["summary"]
    rates = summary.pivot(index="seed", columns="arm", values="presses")
    assert set(rates.columns) == {"hidden", "early", "cue", "reflective", "planner"}
    assert ((rates >= 0) & (rates <= 1)).all().all()
    approach = summary.pivot(index="seed", columns="arm", values="approach")
    approach = approach[["hidden", "early", "cue"]]
    assert ((approach >= 0) & (approach <= 1)).all().all()  # and none missing
