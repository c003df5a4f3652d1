"""Steering vectors: recovery of a planted direction, the equal-norm control, exact logit shifts
through a linear policy, the context manager's bookkeeping, and S8 end-to-end in quick mode."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import check_summary, run_quick

from shardlab.analysis import steering
from shardlab.brain import agent


def test_mean_difference_recovers_a_planted_direction() -> None:
    rng = np.random.default_rng(0)
    planted = rng.normal(size=16)
    base = rng.normal(size=(500, 16))
    vector = steering.mean_difference(base + planted, base, name="planted")
    np.testing.assert_allclose(vector.direction, planted, atol=1e-12)
    noisy = steering.mean_difference(rng.normal(size=(4000, 16)) + planted,
                                     rng.normal(size=(4000, 16)))  # fmt: skip
    cosine = noisy.direction @ planted / (noisy.norm * np.linalg.norm(planted))
    assert cosine > 0.98
    pca = steering.pca_direction(base + planted + 0.01 * rng.normal(size=base.shape), base)
    assert pca.direction @ planted / (pca.norm * np.linalg.norm(planted)) > 0.99


def test_random_like_has_equal_norm_per_agent() -> None:
    vector = steering.SteeringVector(np.arange(12.0).reshape(3, 4) + 1)
    control = steering.random_like(vector, jax.random.key(1))
    np.testing.assert_allclose(control.norm, vector.norm)
    assert control.direction.shape == vector.direction.shape
    assert not np.allclose(control.normalised().direction, vector.normalised().direction)


def test_steering_shifts_linear_policy_logits_by_coefficient_times_direction_w() -> None:
    config = agent.AgentConfig()
    config = config.__class__(
        **{**config.__dict__, "pfc": config.pfc.__class__(weight=0.0),
           "hippocampus": config.hippocampus.__class__(enabled=False),
           "basal_ganglia": config.basal_ganglia.__class__(habit_weight=0.0)}
    )  # fmt: skip
    state = agent.init(jax.random.key(0), config, obs_size=10, n_actions=6)
    w = jax.random.normal(jax.random.key(1), state.basal_ganglia.actor_w.shape)
    state = state._replace(basal_ganglia=state.basal_ganglia._replace(actor_w=w))
    obs = jax.random.uniform(jax.random.key(2), (10,))
    z = state.goal.shape
    vector = steering.SteeringVector(np.asarray(jax.random.normal(jax.random.key(3), z)))
    logits = jax.jit(lambda offset: steering.steered_logits(config, state, obs, offset))
    plain = logits(jnp.asarray(steering.current_offset("z", z), jnp.float32))
    for coefficient in (1.5, -1.5):
        with steering.steer(vector, coefficient):
            offset = jnp.asarray(steering.current_offset("z", z), jnp.float32)
        expected = coefficient * vector.direction @ np.asarray(w)
        np.testing.assert_allclose(logits(offset) - plain, expected, rtol=1e-4, atol=1e-4)


def test_steer_nests_and_restores_on_exit_and_on_exceptions() -> None:
    a = steering.SteeringVector(np.ones(3))
    b = steering.SteeringVector(np.arange(3.0), layer="other")
    with steering.steer(a, 2.0), steering.steer(a, -0.5), steering.steer(b, 1.0):
        np.testing.assert_allclose(steering.current_offset("z", (3,)), 1.5 * np.ones(3))
        np.testing.assert_allclose(steering.current_offset("other", (2, 3)),
                                   np.broadcast_to(np.arange(3.0), (2, 3)))  # fmt: skip
    np.testing.assert_array_equal(steering.current_offset("z", (3,)), np.zeros(3))
    with pytest.raises(RuntimeError), steering.steer(a, 1.0):
        raise RuntimeError("boom")
    np.testing.assert_array_equal(steering.current_offset("z", (3,)), np.zeros(3))
    with pytest.raises(ValueError, match="does not fit"), steering.steer(a, 1.0):
        steering.current_offset("z", (4,))


@pytest.mark.xdist_group("maze")  # shares the maze brain's compiled lifetime with S2's test
def test_steering_vectors_quick_end_to_end(tmp_path) -> None:
    from shardlab.experiments import steering_vectors

    run_dir, config = run_quick(steering_vectors.EXPERIMENT, tmp_path)
    check_summary(steering_vectors.EXPERIMENT, run_dir, config)
    assert (run_dir / "figures" / "dose_response.png").exists()
