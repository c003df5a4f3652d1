"""`shardlab bench learning` at tiny sizes: the JSON shape end to end (random and plain
actor-critic, which need neither torch nor SB3 and compile in seconds), the ratio rule on
planted numbers, and the command's error paths."""

import json

import jax
import numpy as np
import pytest

from shardlab.bench import learning
from shardlab.brain import steering
from shardlab.worlds import SENSATIONS


def test_bench_learning_json_shape(cli) -> None:
    result = cli("bench", "learning", "--json", "--scenarios", "foraging", "--learners",
                 "random,actor-critic", "--steps", "20", "--seeds", "2", "--agents", "2")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert [(r["learner"], r["steps"]) for r in out["results"]] == [
        ("random", 20), ("actor-critic", 20)]
    for r in out["results"]:
        assert r["scenario"] == "foraging" and len(r["per_seed"]) == 2
        assert r["ci"][0] <= r["performance"] <= r["ci"][1]
    assert out["ratios"] == {"brain_vs_ppo": {"foraging": None},
                             "brain_minus_random": {"foraging": None}}
    assert "foraging" in out["notes"]


def _row(scenario: str, learner: str, per_seed: list[float], ci: tuple[float, float]) -> dict:
    return {"scenario": scenario, "learner": learner, "performance": float(np.mean(per_seed)),
            "ci": list(ci), "per_seed": per_seed}


def test_brain_vs_ppo_is_defined_only_when_ppo_beats_random() -> None:
    results = [
        _row("beaten", "brain", [0.3, 0.5, 0.4], (0.3, 0.5)),
        _row("beaten", "ppo", [0.6, 0.6, 0.6], (0.55, 0.65)),
        _row("beaten", "random", [0.1, 0.1, 0.1], (0.1, 0.1)),
        _row("unbeaten", "brain", [0.3, 0.3, 0.3], (0.3, 0.3)),
        _row("unbeaten", "ppo", [0.0, 0.2, 0.1], (0.0, 0.2)),  # CI reaches random's mean
        _row("unbeaten", "random", [0.1, 0.1, 0.1], (0.1, 0.1)),
    ]
    ratios, notes = learning.ratios(results)
    assert ratios["brain_vs_ppo"]["beaten"] == pytest.approx((0.4 - 0.1) / (0.6 - 0.1))
    assert ratios["brain_vs_ppo"]["unbeaten"] is None
    assert "does not beat random" in notes["unbeaten"] and "beaten" not in notes
    minus = ratios["brain_minus_random"]["beaten"]
    assert minus["effect"] == pytest.approx(0.3)
    assert minus["ci"][0] < 0.3 < minus["ci"][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenarios", "nowhere"], "unknown scenario 'nowhere'"),
        (["--learners", "brain,oracle"], "unknown learner 'oracle'"),
        (["--steps", "0"], "--steps must be positive"),
        (["--seeds", "1"], "--seeds must be at least 2"),
    ],
)
def test_bench_learning_rejects_bad_input(cli, args: list[str], message: str) -> None:
    result = cli("bench", "learning", *args)
    assert result.code == 2
    assert result.err.startswith("error: ") and message in result.err
    assert len(result.err.strip().splitlines()) == 1 and result.out == ""


def test_innate_reward_fn_pays_what_the_steering_subsystem_pays() -> None:
    rng = np.random.default_rng(0)
    batch = {name: rng.uniform(0, 1, 5).astype(np.float32) for name in SENSATIONS}
    paid = np.asarray(steering.innate_reward_fn()(batch))
    state = steering.init(steering.SteeringConfig())
    for i in range(5):
        row = steering.sensation_vector({name: batch[name][i] for name in SENSATIONS})
        assert paid[i] == pytest.approx(float(steering.innate_reward(state, row)), rel=1e-5)
    single = {name: float(value[0]) for name, value in batch.items()}
    assert float(steering.innate_reward_fn()(single)) == pytest.approx(paid[0], rel=1e-5)
    assert jax.numpy.shape(steering.innate_reward_fn()(single)) == ()
