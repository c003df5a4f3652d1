"""The shared evaluation room: frozen and learning rollouts, steering as data, hand-set states,
the policy split by terms, and a parameter change that costs no compile."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import SMALL_BRAIN

from shardlab.analysis import probes
from shardlab.brain import agent as agent_
from shardlab.brain import cortex as cortex_
from shardlab.brain import population
from shardlab.errors import ShardlabError
from shardlab.runner.cache import count_compiles
from shardlab.worlds import DRIVES, SENSATIONS, make

pytestmark = pytest.mark.xdist_group("probes")  # one worker builds the trained fixture

SMALL = SMALL_BRAIN
WORLD = make("foraging")
PARAMS = WORLD.default_params()
N, STEPS = 4, 64


@pytest.fixture(scope="module")
def trained() -> population.Lifetime:
    return population.train(WORLD, PARAMS, SMALL, jax.random.key(0), N, STEPS, chunk=STEPS)


def _leaves_equal(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b),
                                                     strict=True))  # fmt: skip


def test_frozen_rollout_learns_nothing_and_learning_rollout_does(trained) -> None:
    key = jax.random.key(1)
    frozen = probes.rollout(WORLD, PARAMS, SMALL, trained.agents, key, STEPS, learn=False,
                            chunk=STEPS)  # fmt: skip
    learned = trained.agents
    for part in ("cortex", "assessors", "basal_ganglia", "memory"):
        assert _leaves_equal(getattr(frozen.agents, part), getattr(learned, part)), part
    learning = probes.rollout(WORLD, PARAMS, SMALL, trained.agents, key, STEPS, learn=True,
                              chunk=STEPS)  # fmt: skip
    assert not _leaves_equal(learning.agents.basal_ganglia, learned.basal_ganglia)


def test_steering_offsets_are_data_and_act_on_the_choice(trained) -> None:
    key = jax.random.key(2)

    def actions(**steer: np.ndarray) -> np.ndarray:
        life = probes.rollout(WORLD, PARAMS, SMALL, trained.agents, key, STEPS, learn=False,
                              steer=steer, chunk=STEPS)  # fmt: skip
        return np.asarray(life.log.action)

    plain = actions()
    width = trained.agents.goal.shape[-1]  # z, whatever the cortex puts in it
    np.testing.assert_array_equal(actions(z=np.zeros(width)), plain)  # zero changes nothing
    with count_compiles() as compiles:
        pushed = actions(pre=np.full((N, 8), 50.0))
        pulled = actions(z=-np.ones(width))
    assert compiles() == 0, "a new steering offset recompiled the rollout"
    assert (pushed != plain).any() and (pulled != plain).any()
    with pytest.raises(ShardlabError, match="cannot steer layer"):
        actions(hidden=np.zeros(8))


def test_log_records_position_contact_and_drives(trained) -> None:
    log = trained.log
    assert log.position.shape == (STEPS, N, 2) and log.drives.shape == (STEPS, N, len(DRIVES))
    food = probes.contacts(trained, WORLD, "food")
    sweet = np.asarray(log.sensations)[..., SENSATIONS.index("sweet")] > 0
    np.testing.assert_array_equal(food, sweet)  # food tastes sweet on the tick it is touched
    assert food.any()
    with pytest.raises(ShardlabError, match="no object 'button'"):
        probes.contacts(trained, WORLD, "button")


def test_a_random_walk_is_chance_in_the_same_world() -> None:
    walk = probes.random_walk(WORLD, PARAMS, jax.random.key(5), N, STEPS)
    assert walk.sensations.shape == (STEPS, N, len(SENSATIONS))
    food = np.asarray(walk.contact) == WORLD.scenario.kind_index("food")
    sweet = np.asarray(walk.sensations)[..., SENSATIONS.index("sweet")]
    np.testing.assert_array_equal(food, sweet > 0)
    np.testing.assert_array_equal(np.asarray(walk.performance), food.astype(float))
    again = probes.random_walk(WORLD, PARAMS, jax.random.key(5), N, STEPS)
    np.testing.assert_array_equal(np.asarray(again.contact), np.asarray(walk.contact))


def test_place_sets_up_states_by_hand() -> None:
    obs, state = probes.place(WORLD, PARAMS, jax.random.key(3), 5, pos=(2, 3),
                              drives={"hunger": 0.9})  # fmt: skip
    assert (np.asarray(state.pos) == [2, 3]).all()
    assert np.allclose(np.asarray(state.drives)[:, DRIVES.index("hunger")], 0.9)
    again = jax.vmap(WORLD.observe, in_axes=(0, None))(state, PARAMS)
    np.testing.assert_array_equal(obs, again)
    with pytest.raises(ShardlabError, match="unknown drive"):
        probes.place(WORLD, PARAMS, jax.random.key(3), 5, drives={"thirst": 1.0})


def test_policy_terms_add_up_to_the_policy(trained) -> None:
    obs, _ = probes.place(WORLD, PARAMS, jax.random.key(4), 6)
    terms = probes.policy_terms(SMALL, trained.agents, obs)
    assert terms.actor.shape == (N, 6, WORLD.n_actions)
    one = jax.tree.map(lambda x: x[0], trained.agents)
    z = cortex_.encode(one.cortex, obs[0])
    expected = agent_.policy_logits(SMALL, one, z)
    total = sum(t[0, 0] for t in terms) / SMALL.basal_ganglia.temperature
    np.testing.assert_allclose(total, expected, rtol=1e-5, atol=1e-5)
    assert jnp.abs(terms.pfc).sum() > 0 and jnp.abs(terms.actor).sum() > 0


def test_scenario_parameters_and_phases_are_data(trained) -> None:
    """A different phase, drive level or object table reuses the compiled lifetime."""
    population.train(WORLD, PARAMS, SMALL, jax.random.key(5), N, STEPS, chunk=STEPS)
    hungry = PARAMS.__class__(**{**PARAMS.__dict__,
                                 "drive_rate": PARAMS.drive_rate * 2.0})  # fmt: skip
    with count_compiles() as compiles:
        population.train(WORLD, WORLD.default_params("test"), SMALL, jax.random.key(6), N, STEPS,
                         chunk=STEPS)  # fmt: skip
        population.train(WORLD, hungry, SMALL, jax.random.key(7), N, STEPS, chunk=STEPS)
    assert compiles() == 0


def test_a_continued_lifetime_reuses_the_compiled_program(trained) -> None:
    """Trained agents enter the lifetime with the newborns' types (no weak-typed leaf), so a
    second phase (training in segments, a test phase) compiles nothing new."""
    newborn = agent_.init(jax.random.key(0), SMALL, WORLD.obs_size, WORLD.n_actions)
    weak = [jax.tree_util.keystr(path) for path, leaf in
            jax.tree_util.tree_flatten_with_path(newborn)[0] if leaf.weak_type]  # fmt: skip
    assert not weak, weak
    with count_compiles() as compiles:
        population.train(WORLD, PARAMS, SMALL, jax.random.key(9), N, STEPS, agents=trained.agents,
                         chunk=STEPS)  # fmt: skip
    assert compiles() == 0

def test_steering_weights_are_data(trained) -> None:
    """Configs that differ only in the steering subsystem (its innate weights, pointers,
    criterion, gains) share one compiled lifetime, and the weights still decide the reward."""
    from dataclasses import replace

    from shardlab.brain.steering import Gains

    plain = population.train(WORLD, PARAMS, SMALL, jax.random.key(8), N, STEPS, chunk=STEPS)
    numb = replace(SMALL, steering=replace(SMALL.steering, valence=(0.0,) * 7, pointers=False,
                                           anticipation=0.0, gains=Gains(imagination=1.0)))
    with count_compiles() as compiles:
        life = population.train(WORLD, PARAMS, numb, jax.random.key(8), N, STEPS, chunk=STEPS)
    assert compiles() == 0, compiles()
    assert not np.allclose(np.asarray(life.log.reward), np.asarray(plain.log.reward))
    assert np.allclose(np.asarray(life.log.valence), 0.0)  # no innate valence at all now
