"""S7 (goodhart-assessors) and R5 (learned-reward-model) end-to-end in quick mode, plus what they
share: the best-of-N estimator (against an analytic answer), the held-out fall (which must be
able to fail both ways) and the reward-model wire."""

import jax
import numpy as np
import pytest
from conftest import check_summary, run_quick

from shardlab.experiments import _proxy, goodhart, learned_reward  # noqa: F401 (registers them)
from shardlab.experiments.registry import get
from shardlab.runner.store import RunStore
from shardlab.worlds import SENSATIONS


def test_best_of_n_matches_the_expected_maximum() -> None:
    """E[max of N uniforms] = N / (N + 1); selecting on the value itself must reproduce it."""
    u = np.random.default_rng(0).uniform(size=(8, 4096))
    curve = _proxy.best_of_n(u, u, [1, 4, 64]).mean(0)
    assert curve == pytest.approx([n / (n + 1) for n in (1, 4, 64)], abs=0.01)


def test_held_out_fall_is_negative_for_a_rising_curve_and_positive_past_a_peak() -> None:
    rising = np.array([[0.0, 1.0, 2.0, 3.0], [0.1, 1.1, 2.1, 3.1]])
    assert _proxy.held_out_fall(rising) == pytest.approx(-1.0)
    peaked = np.array([[0.0, 2.0, 1.0, 0.5], [0.0, 3.0, 1.0, 1.0]])
    # Half 0 picks pressure 1, judged on half 1: 3 − 1; half 1 picks 1, judged on half 0: 2 − 0.5.
    assert _proxy.held_out_fall(peaked) == pytest.approx((2.0 + 1.5) / 2)


def test_held_out_fall_chooses_the_peak_on_the_other_half() -> None:
    """A peak that is noise in one half is not the other half's peak."""
    curves = np.array([[0.0, 5.0, 0.0, 1.0], [0.0, 0.0, 5.0, 1.0]])
    # Half 0 picks pressure 1, where half 1 is 0: fall −1; and vice versa.
    assert _proxy.held_out_fall(curves) == pytest.approx(-1.0)
    # A contrast: peaks chosen on another curve are measured on this one.
    flat = np.ones((2, 4))
    assert _proxy.held_out_fall(flat, chooser=curves) == pytest.approx(0.0)


def test_the_wire_carries_the_reward_model_on_top_of_the_world() -> None:
    """The wired world senses what the plain world does, plus wᵀo′ + b on the wire's channel
    (o′ the observation the tick arrives at); with w = 0, b = 0 it is the plain world."""
    world = _proxy.WORLD
    plain_params = world.world.default_params("train")
    w, b = np.random.default_rng(0).normal(size=world.obs_size), 0.3
    key, k_step = jax.random.split(jax.random.key(0))
    _, state = world.reset_batch(key, 4, world.params())
    action = jax.numpy.arange(4)
    _, _, wired, _, _, outcome = jax.jit(world.step_batch_outcome)(k_step, state, action,
                                                                   world.params(w, b))
    _, _, plain, _, _, _ = jax.jit(world.world.step_batch_outcome)(k_step, state, action,
                                                                   plain_params)
    seen = jax.vmap(world.world.observe, in_axes=(0, None))(outcome, plain_params)
    for name in SENSATIONS:
        extra = np.asarray(seen) @ w + b if name == _proxy.WIRE else 0.0
        np.testing.assert_allclose(wired[name], np.asarray(plain[name]) + extra, rtol=1e-5,
                                   atol=1e-5)


@pytest.fixture(scope="module", params=["goodhart-assessors", "learned-reward-model"])
def quick_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    experiment = get(request.param)  # importing the modules above registered them
    return experiment, *run_quick(experiment, tmp_path_factory.mktemp("runs"))


def test_quick_end_to_end(quick_run) -> None:
    experiment, run_dir, config = quick_run
    summary = check_summary(experiment, run_dir, config)
    assert len(list((run_dir / "figures").glob("*.png"))) == 1
    (claim,) = summary["claims"]
    assert len(claim["tests"]) == 2  # the fall, and the contrast inside the verdict
    tables = RunStore(run_dir).load_tables()
    if experiment.name == "goodhart-assessors":
        curve = tables["curves"]
        assert set(curve["pressure"]) == set(_proxy.pressures(config.max_pressure))
        assert set(curve["half"]) == {0, 1}
        # The assessor optimiser's own score cannot fall as N grows (nested disjoint groups).
        mine = curve[curve["optimiser"] == "assessor"]
        means = mine.groupby("pressure")["proxy"].mean()
        assert (np.diff(means.to_numpy()) >= -1e-6).all()
    else:
        curve = tables["segments"]
        assert set(curve["arm"]) == {"learned", "rule"}
        assert set(curve["segment"]) == set(range(config.segments))
        # The rule agents are not paid by the reward model, but their score is recorded.
        assert curve["wire"].notna().all()
