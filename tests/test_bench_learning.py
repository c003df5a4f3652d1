"""`shardlab bench learning` at tiny sizes: end to end through the CLI with the real random
policy beside planted learners (the brain and PPO take minutes to compile or need torch, and
this suite is over its time budget), the ratio rule on planted numbers, the innate reward the
non-brain learners are paid, and the command's error paths."""

import json

import jax
import numpy as np
import pytest

from shardlab.bench import learning
from shardlab.brain import steering
from shardlab.worlds import SENSATIONS


def _planted(score: float):
    """A learner that learns nothing in no time: its score, a little different per seed."""

    def learner(scenario: str, seed: int, steps: int, agents: int, advance) -> float:
        advance(steps)
        return score + 0.01 * seed

    return learner


def test_bench_learning_end_to_end(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real random policy (one small compile) beside a planted brain and a planted PPO below
    random's floor (hidden performance per tick is never below -1): the JSON and the table."""
    monkeypatch.setitem(learning.RUNNERS, "brain", _planted(0.5))
    monkeypatch.setitem(learning.RUNNERS, "ppo", _planted(-2.0))
    monkeypatch.setattr(learning, "require", lambda module, extra: None)
    args = ("bench", "learning", "--scenarios", "foraging", "--learners", "brain,ppo,random",
            "--steps", "20", "--seeds", "2", "--agents", "2")
    result = cli(*args, "--json")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert [(r["learner"], r["steps"]) for r in out["results"]] == [
        ("brain", 20), ("ppo", 24), ("random", 20)]  # PPO: whole steps of its 8 envs
    brain, ppo, random = out["results"]
    assert brain["per_seed"] == [0.5, 0.51] and brain["performance"] == pytest.approx(0.505)
    assert -1 <= random["performance"] <= 1 and random["ci"][0] <= random["performance"]
    assert out["ratios"]["brain_vs_ppo"] == {"foraging": None}
    assert out["ratios"]["brain_vs_ppo_ci"] == {"foraging": None}
    assert "PPO does not beat random" in out["notes"]["foraging"]
    minus = out["ratios"]["brain_minus_random"]["foraging"]
    assert minus["effect"] == pytest.approx(0.505 - random["performance"])
    assert minus["ci"][0] <= minus["effect"] <= minus["ci"][1]
    table = cli(*args)
    assert table.code == 0 and "undefined" in table.out and "wall time" in table.out


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
    lo, hi = ratios["brain_vs_ppo_ci"]["beaten"]
    assert lo < (0.4 - 0.1) / (0.6 - 0.1) < hi
    assert ratios["brain_vs_ppo_ci"]["unbeaten"] is None
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
    rows = steering.sensation_vector(batch)
    expected = jax.vmap(lambda row: steering.innate_reward(state, row))(rows)
    np.testing.assert_allclose(paid, expected, rtol=1e-5)
    single = {name: float(value[0]) for name, value in batch.items()}
    assert float(steering.innate_reward_fn()(single)) == pytest.approx(paid[0], rel=1e-5)
    assert jax.numpy.shape(steering.innate_reward_fn()(single)) == ()
