"""S3, R2 and R4 (reward-button): the set-up states the probes read, and the approval read-out.
The experiment end to end in quick mode is in test_experiments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from shardlab.brain import agent, assessors, cortex
from shardlab.brain.steering import REACTIONS
from shardlab.experiments import reward_button as rb
from shardlab.worlds import ACTIONS, make

APPROVAL = REACTIONS.index("approval")


def _objects(world, obs: np.ndarray) -> np.ndarray:
    """(view, view, kinds) object channels of one observation."""
    v = world.view
    return obs[: v * v * world.n_channels].reshape(v, v, world.n_channels)[..., 1:]


def test_approach_states_show_the_button_alone_on_the_rim_in_the_lamps_look() -> None:
    world = make(rb.WORLD)
    obs, toward = rb._approach_states(world, jax.random.key(0))
    lamp = world.scenario.kind_index("lamp")
    assert obs.shape[0] == len(rb.RIM) == 16 and toward.shape == (16, len(ACTIONS))
    for o, (dr, dc), mask in zip(obs, rb.RIM, toward, strict=True):
        seen = np.argwhere(_objects(world, o))
        assert seen.tolist() == [[2 + dr, 2 + dc, lamp]]  # the button, drawn as the lamp
        steps = {ACTIONS[a] for a in np.flatnonzero(mask)}
        assert steps == {a for a, hit in (("up", dr < 0), ("down", dr > 0), ("left", dc < 0),
                                          ("right", dc > 0)) if hit}  # fmt: skip
    # 4 corners and 8 off-axis cells have two steps toward, the 4 on-axis cells one
    chance = rb.CHANCE_APPROACH
    assert chance == pytest.approx((4 * 2 + 8 * 2 + 4 * 1) / 16 / len(ACTIONS))


def test_lamp_states_light_the_lamp_right_of_the_bin_and_unlit_states_show_the_bin_alone() -> None:
    world = make(rb.WORLD)
    lit, unlit = rb._lamp_states(world, jax.random.key(0))
    bin_, lamp = (world.scenario.kind_index(k) for k in ("bin", "lamp"))
    assert lit.shape == unlit.shape and lit.shape[0] > 10
    for on, off in zip(lit, unlit, strict=True):
        (br, bc, _), = np.argwhere(_objects(world, off))
        assert _objects(world, off)[br, bc, bin_]
        seen = sorted(map(tuple, np.argwhere(_objects(world, on)).tolist()))
        assert seen == sorted([(br, bc, bin_), (br, bc + 1, lamp)])


def test_approval_reads_each_agents_approval_assessor() -> None:
    world = make(rb.WORLD)
    config = agent.AgentConfig()
    keys = jax.random.split(jax.random.key(1), 2)
    agents = jax.vmap(
        lambda k: agent.init(k, config, world.obs_size, world.n_actions, held=world.held)
    )(keys)
    w = jax.random.normal(jax.random.key(2), agents.assessors.w.shape)
    agents = agents._replace(assessors=agents.assessors._replace(w=w))
    obs, _ = rb._approach_states(world, jax.random.key(0))
    expected = []
    for i in range(2):
        one = jax.tree.map(lambda x, i=i: x[i], agents)
        z = cortex.encode(one.cortex, jnp.asarray(obs))
        expected.append(assessors.predict(config.assessors, one.assessors, z)[:, APPROVAL])
    np.testing.assert_allclose(rb._approval(agents, obs), np.mean(expected), rtol=1e-4,
                               atol=1e-5)  # fmt: skip
