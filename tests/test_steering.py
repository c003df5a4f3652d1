"""Steering vectors: recovery of a planted direction, the equal-norm controls, why offsets go
before the tanh, batched closed-loop doses, the steering tests on planted data, and S8
end-to-end in quick mode."""

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_BRAIN, check_summary, run_quick

from shardlab.analysis import steering
from shardlab.brain import agent, basal_ganglia, hippocampus, pfc
from shardlab.errors import ShardlabError
from shardlab.experiments import _steering
from shardlab.runner.store import RunStore
from shardlab.worlds import make
from shardlab.worlds.scenario import ACTIONS

# The small test brain with only the actor choosing, so its logits are the actor's.
CONFIG = replace(SMALL_BRAIN, pfc=pfc.PFCConfig(weight=0.0),
                 hippocampus=hippocampus.HippocampusConfig(enabled=False),
                 basal_ganglia=basal_ganglia.BasalGangliaConfig(habit_weight=0.0))  # fmt: skip


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


def test_random_like_draws_many_directions_of_equal_norm() -> None:
    vector = steering.SteeringVector(np.arange(12.0).reshape(3, 4) + 1)
    control = steering.random_like(vector, jax.random.key(1), n=20)
    assert control.direction.shape == (3, 20, 4)
    np.testing.assert_allclose(control.norm, np.repeat(vector.norm[:, None], 20, 1))


def _agent(config: agent.AgentConfig, obs_size: int) -> agent.AgentState:
    """A newborn whose actor pushes "up" by ten times the sum of the latent's units."""
    state = agent.init(jax.random.key(0), config, obs_size=obs_size, n_actions=len(ACTIONS))
    actor = np.zeros(state.basal_ganglia.actor_w.shape, np.float32)
    actor[:, ACTIONS.index("up")] = 10.0
    return state._replace(basal_ganglia=state.basal_ganglia._replace(actor_w=jnp.asarray(actor)))


def test_pre_activation_offsets_act_by_state_and_latent_offsets_by_a_constant_shift() -> None:
    """Why steering acts before the tanh: after it, the linear actor turns any offset into the
    same logit shift in every state."""
    state = _agent(CONFIG, obs_size=10)
    obs = jax.random.uniform(jax.random.key(2), (2, 10)) * 3
    offset = jax.random.normal(jax.random.key(3), (CONFIG.cortex.latent,))
    pre = steering.activations(jax.tree.map(lambda x: x[None], state), obs, "pre")[0]
    np.testing.assert_allclose(np.tanh(pre),
                               steering.activations(jax.tree.map(lambda x: x[None], state), obs,
                                                    "z")[0], rtol=1e-5)  # fmt: skip
    logits = jax.jit(jax.vmap(lambda z: agent.policy_logits(CONFIG, state, z)))
    plain = logits(jnp.tanh(pre))
    after = np.asarray(logits(jnp.tanh(pre) + offset) - plain)
    before = np.asarray(logits(jnp.tanh(pre + offset)) - plain)
    np.testing.assert_allclose(after[0], after[1], atol=1e-5)
    assert np.abs(before[0] - before[1]).max() > 0.1
    with pytest.raises(ShardlabError, match="no layer"):
        steering.activations(jax.tree.map(lambda x: x[None], state), obs, "v1")


@pytest.mark.xdist_group("probes")  # the program of test_probes' frozen rollout: compiled once
def test_dose_rollout_steers_each_copy_of_an_agent_by_its_own_offset() -> None:
    world = make("foraging")
    agents = jax.tree.map(lambda x: jnp.stack([x, x]), _agent(SMALL_BRAIN, world.obs_size))
    width = steering.activations(agents, np.zeros((1, world.obs_size)))[0].shape[-1]
    offsets = np.zeros((2, 2, width), np.float32)
    offsets[:, 0] = 20.0  # saturates every unit: "up" wins by ten times the latent's width
    offsets[:, 1] = -20.0  # every unit at −1: "up" loses by as much
    log = steering.dose_rollout(world, world.default_params(), SMALL_BRAIN, agents,
                                jax.random.key(4), 64, offsets)  # fmt: skip
    assert log.action.shape == (64, 2, 2)
    up = (log.action == ACTIONS.index("up")).mean(0)
    assert (up[:, 0] == 1).all() and (up[:, 1] == 0).all()
    with pytest.raises(ValueError, match="offsets for 3 agents"):
        steering.dose_rollout(world, world.default_params(), SMALL_BRAIN, agents,
                              jax.random.key(4), 64, np.zeros((3, 1, width)))  # fmt: skip


def test_doses_lay_out_the_vector_then_random_directions_at_plus_minus_the_top() -> None:
    vector = steering.SteeringVector(np.arange(8.0).reshape(2, 4) + 1)
    offsets, labels = _steering.doses(vector, jax.random.key(0), (-2.0, 0.0, 1.0, 2.0))
    assert offsets.shape == (2, 4 + 2 * _steering.RANDOM, 4) and len(labels) == offsets.shape[1]
    np.testing.assert_allclose(offsets[:, 2], vector.direction)
    rand = labels.direction != _steering.VECTOR
    assert set(labels.coefficient[rand]) == {-2.0, 2.0}
    np.testing.assert_allclose(np.linalg.norm(offsets[:, rand.to_numpy()], axis=-1),
                               np.repeat(2 * vector.norm[:, None], rand.sum(), 1))  # fmt: skip
    with pytest.raises(ValueError, match="must hold 0"):
        _steering.doses(vector, jax.random.key(0), (-1.0, 2.0))


def test_steering_tests_on_planted_dose_responses() -> None:
    """A monotone vector against nearly flat random directions: beats them by its span and is
    perfectly monotone; a measure that dips by 0.3 at both ends is not specific, though its
    value at −c* and +c* is the same."""
    coefficients = (-1.0, 0.0, 1.0)
    rows = []
    for seed in range(3):
        for c in coefficients:
            rows.append({"seed": seed, "direction": _steering.VECTOR, "coefficient": c,
                         "y": c, "z": -0.3 * abs(c)})  # fmt: skip
        for j in range(_steering.RANDOM):
            for c in (-1.0, 1.0):
                rows.append({"seed": seed, "direction": f"random {j}", "coefficient": c,
                             "y": c * j / 100, "z": 0.0})  # fmt: skip
    doses = pd.DataFrame(rows)
    q95 = np.quantile(2 * np.arange(_steering.RANDOM) / 100, 0.95)
    np.testing.assert_allclose(_steering.excess(doses, "y"), 2 - q95)
    np.testing.assert_allclose(_steering.monotonicity(doses, "y"), 1.0)
    np.testing.assert_allclose(_steering.effects(doses, "z")[_steering.VECTOR], 0.0)
    np.testing.assert_allclose(_steering.deviation(doses, "z"), 0.3)
    verdicts = [t.verdict for t in _steering.tests(doses, "y", 0.1, {"z": "z"})]
    assert verdicts == ["supported", "supported", "not supported"]


@pytest.mark.xdist_group("maze")  # shares the maze brain's compiled lifetime with S2's test
def test_steering_vectors_quick_end_to_end(tmp_path) -> None:
    from shardlab.experiments import steering_vectors

    run_dir, config = run_quick(steering_vectors.EXPERIMENT, tmp_path)
    check_summary(steering_vectors.EXPERIMENT, run_dir, config)
    assert (run_dir / "figures" / "dose_response.png").exists()
    doses = RunStore(run_dir).load_tables()["doses"]
    assert doses[["reach", "other_actions"]].stack().between(0, 1).all()
    per_seed = doses.groupby(["seed", "agent"]).size()
    assert (per_seed == len(config.coefficients) + 2 * _steering.RANDOM).all()
