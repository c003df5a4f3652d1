"""The language experiments end to end in quick mode: tables, verdicts and figures."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import check_summary, run_quick

from shardlab.experiments import language_value_change as value_change
from shardlab.experiments.registry import get

EXPERIMENTS = {"valence-from-language": ("M1", "V5"), "propaganda": ("M2",),
               "ideology-bundling": ("M3",)}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_quick_run(name: str, tmp_path) -> None:
    path, _ = run_quick(get(name), tmp_path)
    summary = json.loads((path / "summary.json").read_text())
    assert tuple(c["id"] for c in summary["claims"]) == EXPERIMENTS[name]
    assert all(c["verdict"] in {"supported", "not supported", "inconclusive", "not testable"}
               for c in summary["claims"])
    assert list((path / "figures").glob("*.png"))


def test_value_change_quick(tmp_path) -> None:
    """M6 end to end in quick mode: a judged claim whose summary matches a fresh evaluation."""
    experiment = get("value-change")
    path, config = run_quick(experiment, tmp_path)
    check_summary(experiment, path, config)
    assert (path / "figures" / "value_change.png").exists()


def test_lag_on_planted_curves() -> None:
    """A step 30 trials after the shift has lag 30; a linear fall over 40 trials is halfway
    after 20; a curve that never moves is charged the whole budget."""
    before, after = np.ones(100), np.r_[np.ones(30), np.zeros(170)]
    assert value_change.lag(np.r_[before, after], 100, 50, new=0.0) == 30
    ramp = np.r_[np.linspace(1, 0, 41), np.zeros(159)]
    assert value_change.lag(np.r_[before, ramp], 100, 50, new=0.0) == 20
    assert value_change.lag(np.ones(300), 100, 50, new=0.0) == 200


def test_habit_prior_slows_a_planted_reversal() -> None:
    """A planted two-option task shaped like M6's: the favourite pays 0.6 and then −0.3 (the
    other option 0), and the choice's z moves halfway to a new direction at the shift. The same
    16 agents with the same keys take longer to move halfway to the new choice share with the
    habit prior on than off; without it they learn the first preference and then reverse it."""
    before, after, window, n = 100, 200, 50, 16
    old, moved = jax.random.normal(jax.random.key(0), (2, 768)) * 2 / np.sqrt(768)
    contexts = jnp.broadcast_to(jnp.stack([old, (old + moved) / np.sqrt(2)]), (2 * n, 2, 768))
    payoffs = jnp.broadcast_to(jnp.array([[0.6, 0.0], [-0.3, 0.0]]), (2 * n, 2, 2))
    keys = jnp.repeat(jax.random.split(jax.random.key(1), n), 2, axis=0)  # on and off share keys
    share = np.asarray(value_change.choices_population(
        contexts, payoffs, jnp.tile(jnp.array([0.5, 0.0]), n), keys, before, after))
    on, off = share[0::2].mean(0), share[1::2].mean(0)
    new = off[-window:].mean()
    assert off[before - window:before].mean() > 0.9 and new < 0.25
    assert value_change.lag(on, before, window, new) > value_change.lag(off, before, window,
                                                                        new) + 20
