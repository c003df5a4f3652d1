"""The brain modules against analytic answers, the architecture's contracts, and a learning check.

Compiled functions are shared through module-scoped fixtures and kept small (short latents,
small memories), so the whole file stays fast on two loaded cores."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import SMALL_BRAIN

from shardlab.analysis.statistics import diff_ci
from shardlab.brain import agent as agent_
from shardlab.brain import assessors as assessors_
from shardlab.brain import basal_ganglia as bg
from shardlab.brain import checkpoint, population
from shardlab.brain import cortex as cortex_
from shardlab.brain import hippocampus as hippo
from shardlab.brain import pfc as pfc_
from shardlab.brain import steering as steering_
from shardlab.errors import ShardlabError
from shardlab.worlds import SENSATIONS, make

S = {name: i for i, name in enumerate(SENSATIONS)}
R = {name: i for i, name in enumerate(steering_.REACTIONS)}
K = len(steering_.REACTIONS)

SMALL = SMALL_BRAIN




def sens(**values: float) -> jax.Array:
    v = np.zeros(len(SENSATIONS), np.float32)
    for name, x in values.items():
        v[S[name]] = x
    return jnp.asarray(v)


# ----------------------------------------------------------------------------- basal ganglia


CYCLE = 5
HALF, QUARTER = jnp.full(2, 0.5), jnp.full(4, 0.25)  # the policies actions were drawn from


@partial(jax.jit, static_argnums=(0, 1))
def _run_critic(config: bg.BasalGangliaConfig, n_steps: int) -> bg.BasalGangliaParams:
    """Live the cycle 0→1→2→3→4→0… with reward 1 on 4→0, one-hot features, learning online."""
    eye = jnp.eye(CYCLE)
    params = bg.init(CYCLE, 2)

    def tick(carry, t):
        params, traces = carry
        s, s_next = t % CYCLE, (t + 1) % CYCLE
        reward = (s == CYCLE - 1).astype(jnp.float32)
        delta = bg.td_error(config, params, eye[s], reward, eye[s_next])
        params, traces = bg.update(config, params, traces, eye[s], jnp.int32(0), HALF, delta, 0.0)
        return (params, traces), None

    (params, _), _ = jax.lax.scan(tick, (params, bg.zero_traces(params)), jnp.arange(n_steps))
    return params


def _chain_values(gamma: float, reward: float = 1.0) -> np.ndarray:
    s = np.arange(CYCLE)
    return gamma ** (CYCLE - 1 - s) * reward / (1 - gamma**CYCLE)


@pytest.mark.parametrize("trace", [0.0, 0.8])
def test_critic_converges_to_closed_form_on_a_cycle(trace: float) -> None:
    config = bg.BasalGangliaConfig(
        gamma=0.9, actor_lr=0.0, entropy=0.0, trace=trace, critic_lr=0.3 if trace == 0 else 0.1
    )
    params = _run_critic(config, 3000)
    values = np.asarray(bg.value(params, jnp.eye(CYCLE)))
    np.testing.assert_allclose(values, _chain_values(0.9), atol=1e-2)
    # actor_lr = 0 and entropy = 0: the actor never moves.
    assert not np.any(np.asarray(params.actor_w)) and not np.any(np.asarray(params.actor_b))


def test_long_traces_over_a_world_stream_stay_stable(world) -> None:
    """γ = 0.99, λ = 0.95 on the observations of a random walk in foraging: neighbouring views
    share most of their cells, so a trace sums about twenty near-copies of one view. A step
    normalised by one view's norm then overshoots twentyfold (the values reached 2e28 here);
    normalised by the trace's norm they stay near the true values (about 1: food every ~100
    ticks, 1 / (100 (1 − 0.99)))."""
    params = world.default_params("train")
    reward_fn = steering_.innate_reward_fn()

    @jax.jit
    def walk(key):
        def tick(env, k):
            k_act, k_env = jax.random.split(k)
            action = jax.random.randint(k_act, (), 0, world.n_actions)
            obs, env, s, done = world.sense(k_env, env, action, params)
            return env, (obs, reward_fn(dict(zip(SENSATIONS, s, strict=True))), action, done)

        _, env = world.reset(key, params)
        return jax.lax.scan(tick, env, jax.random.split(key, 3000))[1]

    obs, rewards, actions, done = walk(jax.random.key(1))
    config = bg.BasalGangliaConfig(gamma=0.99, trace=0.95)
    uniform = jnp.full(world.n_actions, 1.0 / world.n_actions)

    @jax.jit
    def learn(obs, rewards, actions, done):
        def tick(carry, x):
            params, traces = carry
            z, z_next, r, a, d = x
            delta = bg.td_error(config, params, z, r, z_next)
            return bg.update(config, params, traces, z, a, uniform, delta, d), None

        p = bg.init(world.obs_size, world.n_actions)
        xs = (obs[:-1], obs[1:], rewards[1:], actions[1:], done[1:].astype(jnp.float32))
        return jax.lax.scan(tick, (p, bg.zero_traces(p)), xs)[0][0]

    values = np.asarray(bg.value(learn(obs, rewards, actions, done), obs))
    assert np.all(np.isfinite(values)) and np.abs(values).max() < 5


def test_habit_prior_learns_action_frequencies() -> None:
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    actions = jax.random.choice(jax.random.key(3), 4, (50_000,), p=jnp.asarray(probs))
    config = bg.BasalGangliaConfig(actor_lr=0.0, entropy=0.0, habit_lr=0.001)
    z = jnp.array([1.0, 0.0, 0.0])

    @jax.jit
    def run(actions):
        def tick(params, a):
            params, _ = bg.update(config, params, bg.zero_traces(params), z, a, QUARTER, 0.0, 0.0)
            return params, None

        params, _ = jax.lax.scan(tick, bg.init(3, 4), actions)
        return jnp.exp(bg.habit_log_prior(params, z))

    empirical = np.bincount(np.asarray(actions), minlength=4) / actions.shape[0]
    np.testing.assert_allclose(np.asarray(run(actions)), empirical, atol=0.03)


# ----------------------------------------------------------------------------- assessors


def test_assessors_converge_to_the_discounted_channel() -> None:
    """Cycle of L one-hot states; the cue is state 0 and the reaction y arrives with state 3,
    two steps after the state following the cue: A(s) = γ^((2 − s) mod L)·y / (1 − γ^L)."""
    length, arrive, y, gamma = 6, 3, 0.7, 0.8
    config = assessors_.AssessorConfig(gamma=gamma, lr=0.1)
    eye = jnp.eye(length)
    channel = R["approval"]

    @jax.jit
    def run():
        def tick(params, t):
            s, s_next = t % length, (t + 1) % length
            target = jnp.zeros(K).at[channel].set(jnp.where(s_next == arrive, y, 0.0))
            params, _ = assessors_.update(config, params, eye[s], target, eye[s_next])
            return params, None

        params, _ = jax.lax.scan(tick, assessors_.init(config, length, K), jnp.arange(4000))
        return assessors_.predict(config, params, eye)

    predicted = np.asarray(run())
    s = np.arange(length)
    expected = gamma ** ((arrive - 1 - s) % length) * y / (1 - gamma**length)
    np.testing.assert_allclose(predicted[:, channel], expected, atol=1e-2)
    assert expected[0] == pytest.approx(gamma**2 * y / (1 - gamma**length))
    others = np.delete(predicted, channel, axis=1)
    np.testing.assert_allclose(others, 0.0, atol=1e-6)


def test_disabled_assessors_issue_nothing_and_do_not_learn() -> None:
    config = assessors_.AssessorConfig(enabled=False)
    params = assessors_.init(config, 3, K)._replace(w=jnp.ones((3, K)), b=jnp.ones(K))
    z = jnp.array([1.0, 0.0, 0.0])
    assert not np.any(np.asarray(assessors_.predict(config, params, z)))
    _, issued = assessors_.issue(config, params._replace(gate_b=jnp.full(K, 9.0)), z,
                                 steering_.issuable(), jax.random.key(0))  # fmt: skip
    assert not np.any(np.asarray(issued))
    new, _ = assessors_.update(config, params, z, jnp.ones(K), z)
    new = assessors_.update_gate(config, new, z, jnp.ones(K), jnp.ones(K), jnp.float32(1.0))
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.all(a == b)), new, params))


# ----------------------------------------------------------------------------- hippocampus


_write = jax.jit(hippo.write)
_retrieve = jax.jit(hippo.retrieve)
_episodic = jax.jit(hippo.episodic_values, static_argnums=(0, 4, 5))


def _remember(memory, key, action, reward, reactions, next_key):
    """Write a transition whose observation and latent are the same vector."""
    return _write(memory, key, key, action, reward, reactions, next_key, next_key)


def test_hippocampus_retrieval_ring_buffer_and_episodic_values() -> None:
    config = hippo.HippocampusConfig(capacity=3, temperature=0.01)
    memory = hippo.init(config, 2, 2, K)
    # Empty memory: nothing is similar, episodic values are zero.
    assert np.all(np.isneginf(np.asarray(hippo.similarity(memory, jnp.array([1.0, 0.0])))))
    np.testing.assert_array_equal(hippo.recall(memory, jnp.array([1.0, 0.0])), 0.0)
    empty = _episodic(config, memory, jnp.array([1.0, 0.0]), jnp.zeros(3), 0.9, 2)
    np.testing.assert_allclose(np.asarray(empty), 0.0)

    keys = [jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]), jnp.array([-1.0, 0.1])]
    for i, key in enumerate(keys):
        memory = _remember(memory, key, jnp.int32(i % 2), jnp.float32(i), jnp.zeros(K), key)
    # Nearest by cosine, whatever the length of the query.
    assert int(_retrieve(memory, jnp.array([5.0, 0.4]))) == 0
    assert int(_retrieve(memory, jnp.array([0.1, 3.0]))) == 1
    assert int(_retrieve(memory, jnp.array([-2.0, 0.0]))) == 2
    # Full: the next write overwrites the oldest slot (0) and the cursor wraps.
    assert int(memory.cursor) == 0
    newest = jnp.array([0.6, 0.8])
    memory = _remember(memory, newest, jnp.int32(1), jnp.float32(5), jnp.zeros(K), keys[0])
    assert int(memory.cursor) == 1 and int(memory.actions[0]) == 1
    assert int(_retrieve(memory, jnp.array([1.0, 0.0]))) == 0  # [.6, .8] is now nearest
    # Recall returns the reactions remembered with the nearest memory.
    felt = jnp.arange(K, dtype=jnp.float32)
    memory = _remember(memory, keys[1], jnp.int32(0), jnp.float32(0), felt, keys[1])
    np.testing.assert_array_equal(hippo.recall(memory, jnp.array([0.0, 2.0])), felt)
    # Reconsolidation replaces a memory's keys, not what was seen.
    moved = hippo.reconsolidate(memory, jnp.array([1]), -keys[1][None], keys[0][None])
    np.testing.assert_array_equal(moved.keys[1], -keys[1])
    np.testing.assert_array_equal(moved.obs, memory.obs)

    # Episodic values: with uniform similarity, the mean remembered outcome r + γV′ per action.
    flat = hippo.HippocampusConfig(capacity=4, temperature=1e6)
    memory = hippo.init(flat, 2, 2, K)
    for a, r in [(0, 1.0), (0, 3.0), (1, -2.0)]:
        key = jnp.array([1.0, 0.0])
        memory = _remember(memory, key, jnp.int32(a), jnp.float32(r), jnp.zeros(K), key)
    next_values = jnp.array([0.5, 0.5, 1.0, 0.0])
    values = _episodic(flat, memory, jnp.array([1.0, 0.0]), next_values, 0.5, 3)
    w = 1 / 3  # three filled slots, equal weight; the 1e-3 in the denominator is a smoothing term
    expected = [w * (1.25 + 3.25) / (2 * w + 1e-3), w * (-1.5) / (w + 1e-3), 0.0]
    np.testing.assert_allclose(np.asarray(values), expected, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------- PFC

Z, A = 4, 3
GAIN = steering_.Gains().imagination


def _hand_built_brain(heads: dict[int, str]) -> pfc_.Brain:
    """transition(z, a) = tanh(2)·e_a whatever z; the assessors map latent unit i to the channel
    heads[i]. The cortex's sensation decoder says e_0 brings the electrode's stimulation."""
    trans_w = jnp.zeros((Z + A, Z)).at[Z + jnp.arange(A), jnp.arange(A)].set(2.0)
    sens_w = jnp.zeros((Z, len(SENSATIONS))).at[0, S["stimulation"]].set(1.5)
    cortex = cortex_.CortexParams(
        jnp.zeros((5, Z)), jnp.zeros(Z), trans_w, jnp.zeros(Z), jnp.zeros((Z, 5)), jnp.zeros(5),
        sens_w, jnp.zeros(len(SENSATIONS)), jnp.zeros((0, 5)),
    )  # fmt: skip
    heads_w = jnp.zeros((Z, K))
    for unit, name in heads.items():
        heads_w = heads_w.at[unit, R[name]].set(1.0)
    assess = assessors_.init(assessors_.AssessorConfig(), Z, K)._replace(w=heads_w)
    return pfc_.Brain(cortex, assess, bg.init(Z, A))


ONE_STEP = pfc_.PFCConfig(horizon=1)


def _plan(brain: pfc_.Brain, body: jax.Array, config: pfc_.PFCConfig = ONE_STEP,
          goal: jax.Array | None = None, steer: steering_.SteeringConfig | None = None,
          z: jax.Array | None = None) -> pfc_.Plan:  # fmt: skip
    state = steering_.init(steer or steering_.SteeringConfig())
    z = jnp.zeros(Z) if z is None else z
    goal = jnp.zeros(Z) if goal is None else goal
    return pfc_.plan(config, assessors_.AssessorConfig(), bg.BasalGangliaConfig(), brain,
                     steering_.reading(state, body), state.params.imagination, z, goal,
                     z[None])  # fmt: skip


def test_pfc_scores_imagined_thoughts_by_learned_valence() -> None:
    """Horizon 1: each action's score is the steering subsystem's valence of the assessors'
    outputs for the imagined latent, at the imagination gain; the plan returns those channels."""
    brain = _hand_built_brain({0: "pain", 1: "sweet"})
    hungry = sens(hunger=1.0)
    plan = _plan(brain, hungry)
    t = float(np.tanh(2.0))
    np.testing.assert_allclose(np.asarray(plan.scores), [-GAIN * t, GAIN * 1.2 * t, 0.0],
                               rtol=1e-5)  # fmt: skip
    assert int(jnp.argmax(plan.scores)) == 1
    np.testing.assert_allclose(np.asarray(plan.imagined[0]), GAIN * t * np.eye(K)[R["pain"]],
                               rtol=1e-5)  # fmt: skip
    # The imagination gain is data: gain 1 doubles the scores of gain 0.5.
    loud = _plan(brain, hungry, steer=steering_.SteeringConfig(
        gains=steering_.Gains(imagination=1.0)))  # fmt: skip
    np.testing.assert_allclose(np.asarray(loud.scores), np.asarray(plan.scores) / GAIN, rtol=1e-5)
    # Conditioning on a value concept adds the imagined thought's match to it.
    goal = jnp.zeros(Z).at[2].set(1.0)
    conditioned = _plan(brain, hungry, pfc_.PFCConfig(horizon=1, goal_weight=2.0), goal)
    np.testing.assert_allclose(np.asarray(conditioned.scores - plan.scores), [0.0, 0.0, 2.0],
                               atol=1e-5)  # fmt: skip


def test_an_electrode_is_invisible_to_planning_until_it_is_experienced() -> None:
    """The world model predicts stimulation after action 0, but the PFC does not decode
    sensations into the innate reward: without a stimulation assessor action 0 scores nothing;
    once the stimulation assessor predicts it, it scores the electrode's innate weight."""
    never = _plan(_hand_built_brain({}), sens()).scores
    np.testing.assert_allclose(np.asarray(never), 0.0)
    felt = _plan(_hand_built_brain({0: "stimulation"}), sens()).scores
    assert int(jnp.argmax(felt)) == 0 and float(felt[0]) > 0


def test_a_sated_agent_plans_for_salt_as_soon_as_it_needs_salt() -> None:
    """Assessors trained only while sated, on a chain near-salt → at-salt (salt taste), learn
    "salt is coming" (the steering subsystem's targets are raw). At a salt-deprived test, with no
    new salt reward and no update, the PFC scores the approach to salt positively; in the
    ablation the assessors learned "this is bad", and the approach still scores negatively."""
    near, at = jnp.eye(Z)[0], jnp.eye(Z)[1]
    sated, deprived = sens(salt_need=0.0), sens(salt_need=1.0)
    salt = sens(salt=1.0, salt_need=0.0)
    config = assessors_.AssessorConfig(lr=0.5)

    @jax.jit
    def learn(body: steering_.SteeringState) -> assessors_.AssessorParams:
        def visit(params, _):  # near → at: the salt taste arrives as the agent reaches it
            quiet = jnp.zeros(K)
            _, out = steering_.step(body, salt, quiet, quiet, quiet)
            params, _ = assessors_.update(config, params, near, out.targets, at)
            _, out = steering_.step(body, sated, quiet, quiet, quiet)
            params, _ = assessors_.update(config, params, at, out.targets, jnp.zeros(Z))
            return params, None

        return jax.lax.scan(visit, assessors_.init(config, Z, K), None, 200)[0]

    def trained(steer: steering_.SteeringConfig) -> pfc_.Brain:
        return _hand_built_brain({})._replace(assessors=learn(steering_.init(steer)))

    for steer, sign_when_deprived in ((steering_.SteeringConfig(), 1.0),
                                      (steering_.SteeringConfig(pointers=False), -1.0)):
        brain = trained(steer)
        # Action 0 leads to `near` (tanh(2)·e_0), action 2 to nothing.
        training = _plan(brain, sated, steer=steer).scores
        test = _plan(brain, deprived, steer=steer).scores
        assert float(training[0] - training[2]) < 0  # avoided while sated
        assert np.sign(float(test[0] - test[2])) == sign_when_deprived


def test_reflective_mode_vetoes_reinforcing_what_current_values_reject() -> None:
    """The critic (from old rewards) values e_0 highly, so acting 0 would be reinforced; but the
    current assessors see pain there. Reflecting on the future self that reinforcement would
    make, the PFC scores action 0 down and action 1 (sweet, valued now) up."""
    brain = _hand_built_brain({0: "pain", 1: "sweet"})
    brain = brain._replace(basal_ganglia=brain.basal_ganglia._replace(
        critic_w=jnp.zeros(Z).at[0].set(10.0)))  # fmt: skip
    z = jnp.array([0.0, 0.0, 0.0, 1.0])  # a context of its own, so the actor update is local
    plain = _plan(brain, sens(hunger=1.0), z=z).scores
    reflective = _plan(brain, sens(hunger=1.0), pfc_.PFCConfig(horizon=1, reflective=True),
                       z=z).scores  # fmt: skip
    reflect = reflective - plain
    assert float(reflect[0]) < 0 < float(reflect[1])
    off = _plan(brain, sens(hunger=1.0), pfc_.PFCConfig(horizon=1, reflective=True,
                                                        reflect_repeats=0.0), z=z).scores
    np.testing.assert_allclose(np.asarray(off - plain), 0.0, atol=1e-7)


# ----------------------------------------------------------------------------- agent


class _JittedWorld:
    """The foraging world with `reset` and `step` jitted once (eagerly, the engine would
    dispatch hundreds of tiny ops); everything else passes through."""

    def __init__(self, world):
        self._world = world
        self.reset = jax.jit(world.reset)

        @jax.jit
        def sense(key, env, action, params):
            obs, env, s, _, done = world.step(key, env, action, params)
            return obs, env, steering_.sensation_vector(s), done

        self.sense = sense

    def __getattr__(self, name):
        return getattr(self._world, name)


@pytest.fixture(scope="module")
def world():
    return _JittedWorld(make("foraging"))


@pytest.fixture(scope="module")
def agent_fns(world):
    """Jitted init/begin/step for a small agent, keyed by config (compiled once per config)."""
    cache = {}

    def get(config: agent_.AgentConfig):
        if config not in cache:
            cache[config] = (
                jax.jit(lambda k: agent_.init(k, config, world.obs_size, world.n_actions)),
                jax.jit(partial(agent_.begin, config)),
                jax.jit(partial(agent_.step, config)),
            )
        return cache[config]

    return get


def _live(world, fns, n: int, seed: int = 0):
    init, begin, step = fns
    params = world.default_params()
    key = jax.random.key(seed)
    obs, env = world.reset(key, params)
    state = init(key)
    state, action = begin(state, obs, key)
    diags = []
    for k_env, k_agent in jax.random.split(jax.random.fold_in(key, 1), (n, 2)):
        obs, env, s, done = world.sense(k_env, env, action, params)
        state, action, diag = step(state, obs, s, done, k_agent)
        diags.append(diag)
    return state, obs, action, jax.device_get(diags)


def test_agent_runs_jitted_on_foraging_with_diagnostics(world, agent_fns) -> None:
    state, _, action, diags = _live(world, agent_fns(SMALL), 3)
    diag = diags[-1]
    z = SMALL.cortex.width(world.obs_size)
    assert diag.reward.shape == diag.dopamine.shape == diag.valence.shape == ()
    assert diag.world_model_loss.shape == ()
    assert diag.innate.shape == diag.reactions.shape == diag.issued.shape == (K,)
    assert diag.predicted.shape == (K,) and diag.fear_gain.shape == ()
    assert diag.contributions.shape == (z,)
    assert action.shape == () and 0 <= int(action) < world.n_actions
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(diags))
    assert int(state.memory.cursor) == 3


def test_shard_contributions_sum_to_the_chosen_logit(world, agent_fns) -> None:
    init, begin, step = agent_fns(SMALL)
    key = jax.random.key(1)
    params = world.default_params()
    obs, env = world.reset(key, params)
    state = init(key)
    actor_w = jax.random.normal(jax.random.key(2), state.basal_ganglia.actor_w.shape)
    actor_b = jax.random.normal(jax.random.key(3), state.basal_ganglia.actor_b.shape)
    state = state._replace(basal_ganglia=state.basal_ganglia._replace(actor_w=actor_w,
                                                                      actor_b=actor_b))  # fmt: skip
    state, action = begin(state, obs, key)
    obs, env, s, done = world.sense(key, env, action, params)
    new, action, diag = step(state, obs, s, done, key)
    z = cortex_.encode(state.cortex, obs)  # the latent the action was chosen from
    chosen = bg.actor_logits(new.basal_ganglia, z)[action]
    total = jnp.sum(diag.contributions) + new.basal_ganglia.actor_b[action]
    assert float(total) == pytest.approx(float(chosen), abs=1e-5)
    assert float(jnp.abs(diag.contributions).sum()) > 0.1  # a non-trivial decomposition


ALL_OFF = replace(
    SMALL,
    pfc=pfc_.PFCConfig(weight=0.0),
    hippocampus=hippo.HippocampusConfig(capacity=8, enabled=False),
    assessors=assessors_.AssessorConfig(enabled=False),
    basal_ganglia=bg.BasalGangliaConfig(habit_weight=0.0),
)


def test_the_sensory_code_sits_beside_the_learned_units() -> None:
    """With `sensory=True` z is [learned units, observation]; a preactivation offset moves only
    the learned units, and every reader of z is as wide as z."""
    config = replace(SMALL, cortex=cortex_.CortexConfig(latent=8, sensory=True))
    obs = jax.random.uniform(jax.random.key(0), (5,))
    state = agent_.init(jax.random.key(1), config, obs_size=5, n_actions=3)
    z = cortex_.encode(state.cortex, obs)
    assert z.shape == (config.cortex.width(5),) == (13,)
    np.testing.assert_array_equal(np.asarray(z[8:]), np.asarray(obs))
    steered = cortex_.encode(state.cortex, obs, jnp.full(8, 5.0))
    assert not np.allclose(steered[:8], z[:8])
    np.testing.assert_array_equal(np.asarray(steered[8:]), np.asarray(obs))
    assert state.basal_ganglia.actor_w.shape == (13, 3) and state.goal.shape == (13,)
    assert state.assessors.w.shape[0] == state.memory.keys.shape[-1] == 13
    assert cortex_.transition(state.cortex, z, jnp.int32(1), 3).shape == (13,)


def test_what_is_held_gates_a_copy_of_the_sensory_code(tmp_path) -> None:
    """z = [learned units, observation, observation while item h is held, …]: each held item's
    copy is the observation when its entry is on and zeros when it is off; the world model gets
    no gradient into the gate; a checkpoint keeps where the items are shown."""
    config = replace(SMALL, cortex=cortex_.CortexConfig(latent=8, sensory=True))
    state = agent_.init(jax.random.key(1), config, obs_size=5, n_actions=3, held=(3, 4))
    assert config.cortex.width(5, 2) == 8 + 5 * 3 == state.basal_ganglia.actor_w.shape[0]
    holding_one = jnp.array([0.2, 0.0, 1.0, 1 / 3, 0.0])
    z = np.asarray(cortex_.encode(state.cortex, holding_one))
    np.testing.assert_array_equal(z[8:13], holding_one)
    np.testing.assert_array_equal(z[13:18], holding_one)
    np.testing.assert_array_equal(z[18:], np.zeros(5))
    learned = replace(config, cortex=cortex_.CortexConfig(latent=8, sensory=False))
    assert agent_.init(jax.random.key(1), learned, 5, 3, held=(3,)).cortex.held.shape == (0, 5)
    updated, _ = cortex_.update(config.cortex, state.cortex, holding_one, jnp.int32(1),
                                holding_one, jnp.zeros(len(SENSATIONS)), 3, jnp.float32(0))
    np.testing.assert_array_equal(np.asarray(updated.held), np.asarray(state.cortex.held))
    path = checkpoint.save(tmp_path / "held.safetensors", state, config)
    np.testing.assert_array_equal(np.asarray(checkpoint.load(path, config).cortex.held),
                                  np.asarray(state.cortex.held))  # fmt: skip


def test_worlds_say_where_held_items_are_shown() -> None:
    """`World.held` lists the observation entries of the items some object gives or takes."""
    assert make("foraging").held == () and make("cheese-maze").held == ()
    trash, money = make("trash"), make("money")
    assert len(trash.held) == 1 and len(money.held) == 2
    params = trash.default_params()
    _, state = trash.reset(jax.random.key(0), params)
    state = replace(state, items=state.items.at[0].set(2.0))
    assert float(trash.observe(state, params)[trash.held[0]]) == pytest.approx(2 / 3)


def test_every_module_can_be_switched_off(world, agent_fns) -> None:
    """PFC, hippocampus, assessors and habit prior all off at once: the agent still lives, and
    what is off is really off (one compile for all four switches)."""
    state, _, _, diags = _live(world, agent_fns(ALL_OFF), 2)
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(diags))
    assert int(state.memory.cursor) == 0 and not bool(state.memory.filled.any())
    assert not any(d.issued.any() for d in diags)
    assert not bool(state.assessors.w.any()) and not bool(state.assessors.b.any())
    z = jax.random.normal(jax.random.key(0), state.goal.shape)
    logits = jax.jit(partial(agent_.policy_logits, ALL_OFF))(state, z)
    expected = bg.actor_logits(state.basal_ganglia, z) / ALL_OFF.basal_ganglia.temperature
    np.testing.assert_allclose(np.asarray(logits), np.asarray(expected), rtol=1e-6, atol=1e-6)


def test_steering_output_does_not_depend_on_the_cortex(world, agent_fns) -> None:
    init, begin, step = agent_fns(SMALL)
    params = world.default_params()
    key = jax.random.key(4)
    obs, env = world.reset(key, params)
    a = init(jax.random.key(5))
    b = init(jax.random.key(6))  # different cortex, hence different latents
    issued = jnp.linspace(0.0, 1.0, K)
    a = a._replace(issued=issued, obs=obs)
    b = b._replace(issued=issued, obs=obs)
    assert not np.allclose(cortex_.encode(a.cortex, obs), cortex_.encode(b.cortex, obs))
    _, env_next = world.reset(jax.random.key(7), params)
    obs2, _, s, done = world.sense(key, env_next, jnp.int32(1), params)
    s = s.at[S["sweet"]].set(1.0)
    _, _, da = step(a, obs2, s, done, key)
    _, _, db = step(b, obs2, s, done, key)
    for field in ("reward", "innate", "reactions"):
        np.testing.assert_array_equal(np.asarray(getattr(da, field)), getattr(db, field))


def test_world_model_gets_no_gradient_from_reward(world, agent_fns) -> None:
    """Everything reward-derived in a step — δ, the actor's and critic's and assessors' updates,
    the learned valence — has exactly zero gradient with respect to the cortex's parameters."""
    config = SMALL
    key = jax.random.key(8)
    params = world.default_params()
    obs, env = world.reset(key, params)
    init, begin, _ = agent_fns(config)
    state, action = begin(init(key), obs, key)
    obs2, _, s, done = world.sense(key, env, action, params)
    s = s.at[S["sweet"]].set(1.0)  # a rewarding outcome

    def objective(cortex):
        new, _, diag = agent_.step(config, state._replace(cortex=cortex), obs2, s, done, key)
        ones = jnp.ones_like(state.goal)
        logp = jax.nn.log_softmax(bg.actor_logits(new.basal_ganglia, ones))
        return (
            diag.dopamine**2 + diag.valence + logp[0] * diag.dopamine
            + sum(jnp.sum(x) for x in jax.tree.leaves(new.basal_ganglia))
            + sum(jnp.sum(x) for x in jax.tree.leaves(new.assessors))
        )  # fmt: skip

    value, grads = jax.jit(jax.value_and_grad(objective))(state.cortex)
    assert float(jnp.abs(value)) > 0  # the objective is not trivially zero
    for leaf in jax.tree.leaves(grads):
        assert not np.any(np.asarray(leaf)), "reward leaked into the world model"
    # The cortex's own loss does get a gradient: it learns, by prediction only.
    own = jax.jit(jax.grad(cortex_.loss), static_argnums=5)(
        state.cortex, obs, action, obs2, s, world.n_actions, 0.0
    )
    assert any(bool(jnp.any(g != 0)) for g in jax.tree.leaves(own))


def test_terminal_contacts_are_learned_by_the_world_model(world, agent_fns) -> None:
    """The sensations of an episode's last contact arrive with `done`: the world model learns
    them (its sensation decoder moves), but not to predict the next episode's first view."""
    init, begin, step = agent_fns(SMALL)
    key = jax.random.key(10)
    obs, _ = world.reset(key, world.default_params())
    state, _ = begin(init(key), obs, key)
    new, _, _ = step(state, obs * 0.5, sens(sweet=1.0), jnp.bool_(True), key)
    assert not np.allclose(np.asarray(new.cortex.sens_w), np.asarray(state.cortex.sens_w))
    grad = partial(jax.grad(cortex_.loss), n_actions=world.n_actions, boundary=1.0)
    one = grad(state.cortex, obs, jnp.int32(0), obs, sens(sweet=1.0))
    other = grad(state.cortex, obs, jnp.int32(0), obs * 0 + 1.0, sens(sweet=1.0))
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(other), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-7)


def test_actor_update_is_on_policy_for_the_combined_policy(world, agent_fns) -> None:
    """The actor's step is lr·δ·∇θ log π(a|z)/(1 + |z|²), where π is the policy actions are
    drawn from (actor + habit + PFC + episodic, over the temperature): checked against central
    finite differences of that policy's log-probability."""
    init, begin, _ = agent_fns(SMALL)
    key = jax.random.key(11)
    obs, _ = world.reset(key, world.default_params())
    state, _ = begin(init(key), obs, key)
    k1, k2, k3 = jax.random.split(key, 3)
    p = state.basal_ganglia
    state = state._replace(basal_ganglia=p._replace(
        actor_w=jax.random.normal(k1, p.actor_w.shape),
        habit_w=jax.random.normal(k2, p.habit_w.shape),
    ))  # fmt: skip
    z = jnp.tanh(jax.random.normal(k3, state.goal.shape))
    logits = jax.jit(lambda w: agent_.policy_logits(
        SMALL, state._replace(basal_ganglia=state.basal_ganglia._replace(actor_w=w)), z))
    actor_w, action = state.basal_ganglia.actor_w, 2
    policy = jax.nn.softmax(logits(actor_w))
    eps, fd = 1e-2, np.zeros(actor_w.shape)
    for i in range(actor_w.shape[0]):
        for j in range(actor_w.shape[1]):
            bump = jnp.zeros(actor_w.shape).at[i, j].set(eps)
            up = jax.nn.log_softmax(logits(actor_w + bump))[action]
            down = jax.nn.log_softmax(logits(actor_w - bump))[action]
            fd[i, j] = float(up - down) / (2 * eps)
    config = replace(SMALL.basal_ganglia, entropy=0.0, temperature=1.0)
    new, _ = bg.update(config, state.basal_ganglia, bg.zero_traces(state.basal_ganglia), z,
                       jnp.int32(action), policy, jnp.float32(1.0), 0.0)  # fmt: skip
    step = np.asarray(new.actor_w - actor_w) * (1.0 + float(z @ z)) / config.actor_lr
    np.testing.assert_allclose(step, fd, atol=2e-3)
    assert np.abs(fd).max() > 0.05


def _sequence(rewards: list[float], dones: list[float], actions: list[int]) -> hippo.Sequence:
    """A replayed stream over one-hot states 0, 1, 2, … (state t+1 follows state t)."""
    n = len(rewards)
    seq = hippo.init_sequence(n, n + 1, 2)
    eye = jnp.eye(n + 1)
    for t in range(n):
        seq = hippo.record(seq, eye[t], eye[t + 1], jnp.int32(actions[t]), jnp.zeros(2),
                           jnp.log(0.5), jnp.float32(rewards[t]), jnp.float32(dones[t]))
    return seq


def test_sequence_advantages_are_lambda_returns_of_todays_dopamine() -> None:
    """A_t = δ_t + γλ(1 − done_t)·A_{t+1}, each δ by today's critic, A after the end = 0; and
    the cursor is back at 0 when the sequence is full."""
    config = bg.BasalGangliaConfig(gamma=0.9, replay_trace=0.5)
    seq = _sequence([0.0, 1.0, 0.0, 2.0], [0.0, 1.0, 0.0, 0.0], [0, 1, 0, 1])
    assert int(seq.cursor) == 0
    values = np.array([0.3, -0.2, 0.5, 0.1, 0.4])
    params = bg.init(5, 2)._replace(critic_w=jnp.asarray(values, jnp.float32))
    delta = np.array([0.0, 1.0, 0.0, 2.0]) + 0.9 * values[1:] - values[:-1]
    expected = np.zeros(4)
    expected[3] = delta[3]
    expected[2] = delta[2] + 0.45 * expected[3]
    expected[1] = delta[1]  # the episode ended here
    expected[0] = delta[0] + 0.45 * expected[1]
    np.testing.assert_allclose(bg.advantages(config, params, seq), expected, rtol=1e-5)


def test_sequence_replay_raises_the_odds_of_advantaged_actions_within_the_clip() -> None:
    """Replay moves the policy toward an action with positive advantage, and the clip bounds how
    far. Below 1 + ε the clipped objective still has a gradient, so 400 passes take the odds to
    at least 1 + ε; beyond it the gradient is 0 and only Adam's momentum carries on (about
    1/(1 − β₁) = 10 more steps of at most the step size 0.005 in each moving parameter), so they
    stop within 0.15 of it. Unclipped they keep rising."""
    seq = _sequence([1.0, 0.0], [0.0, 0.0], [1, 1])
    params = bg.init(3, 2)

    def odds(clip: float, epochs: int = 400) -> float:
        config = bg.BasalGangliaConfig(gamma=0.0, entropy=0.0, replay_epochs=epochs,
                                       replay_lr=0.005, replay_clip=clip)  # fmt: skip
        new, _ = bg.replay_sequence(config, params, bg.init_replay(config, params), seq)
        return float(jax.nn.softmax(seq.z[0] @ new.actor_w + new.actor_b)[1] / 0.5)

    assert odds(0.2, epochs=0) == pytest.approx(1.0)  # no replay, no change: the bound below bites
    for clip in (0.1, 0.2, 0.3):
        assert 1.0 + clip - 1e-4 <= odds(clip) < 1.0 + clip + 0.15
    assert odds(0.1) < odds(0.2) < odds(1e6)  # the clip, not the step count, sets how far
    assert odds(1e6) > 1.8


def test_a_population_replays_its_sequences_when_they_fill(world) -> None:
    """With no online actor step, the actor is untouched for 3 ticks of a 4-tick sequence and
    learns on the 4th, when the population replays."""
    config = replace(SMALL, hippocampus=replace(SMALL.hippocampus, sequence=4),
                     basal_ganglia=replace(SMALL.basal_ganglia, actor_lr=0.0))  # fmt: skip
    params, key = world.default_params(), jax.random.key(5)
    life = population.train(world, params, config, key, 2, 3, chunk=1)
    assert not np.any(np.asarray(life.agents.basal_ganglia.actor_w))
    assert np.all(np.asarray(life.agents.sequence.cursor) == 3)
    life = population.train(world, params, config, key, 2, 1, life.agents, chunk=1)
    assert np.all(np.asarray(life.agents.sequence.cursor) == 0)
    assert np.any(np.asarray(life.agents.basal_ganglia.actor_w))


def test_a_population_split_across_devices_lives_the_same_life(world, monkeypatch) -> None:
    """Split across the two devices (`population.SHARE` agents or more each), a population
    lives the life it lives on one: the same actions every tick and, over these 40 ticks, the
    same state to the last bit; its results are gathered back on the first device."""
    assert len(jax.devices()) == 2  # conftest
    n = 2 * population.SHARE
    # Short episodes, so the worlds reset on both devices.
    params, key = replace(world.default_params(), max_steps=jnp.int32(9)), jax.random.key(21)
    split = population.train(world, params, SMALL, key, n, 40, chunk=20)
    # The second chunk ran the program the first one ran (one compiled chunk, not two).
    chunk = population._CACHE[(id(world), population.program(SMALL), 20, True,
                               population._spread(n))]  # fmt: skip
    assert chunk._cache_size() == 1
    assert population._spread(n) is not None and population._spread(n - 1) is None
    assert split.agents.cortex.enc_w.devices() == {jax.devices()[0]}
    monkeypatch.setattr(population, "_spread", lambda n_agents: None)
    whole = population.train(world, params, SMALL, key, n, 40, chunk=20)
    np.testing.assert_array_equal(np.asarray(split.log.action), np.asarray(whole.log.action))
    for a, b in zip(jax.tree.leaves(split.agents), jax.tree.leaves(whole.agents), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_replay_reencodes_stored_observations(world, agent_fns) -> None:
    """Memories hold what was seen; replay encodes them with the cortex as it is now, so a
    changed encoder changes what replay learns, and the replayed memories' keys are refreshed."""
    init, begin, step = agent_fns(SMALL)
    key = jax.random.key(12)
    params = world.default_params()
    obs, env = world.reset(key, params)
    state, action = begin(init(key), obs, key)
    for k in jax.random.split(key, 6):
        obs, env, s, done = world.sense(k, env, action, params)
        state, action, _ = step(state, obs, s.at[S["sweet"]].set(1.0), done, k)
    replay = jax.jit(partial(agent_._replay, SMALL))
    args = (state.basal_ganglia, state.assessors, state.memory, jax.random.key(13))
    now, _, memory = replay(state.cortex, *args)
    other = state.cortex._replace(enc_w=-state.cortex.enc_w)
    then, _, _ = replay(other, *args)
    assert not np.allclose(np.asarray(now.critic_w), np.asarray(then.critic_w))
    # The same replay by hand, each memory encoded by today's cortex.
    idx, valid = hippo.sample(jax.random.key(13), state.memory, SMALL.hippocampus.replay)
    critic, m = state.basal_ganglia, state.memory
    for i, ok in zip(np.asarray(idx), np.asarray(valid), strict=True):
        if ok:
            z, z_next = (cortex_.encode(state.cortex, o[i]) for o in (m.obs, m.next_obs))
            critic = bg.replay_critic(SMALL.basal_ganglia, critic, z, m.rewards[i], z_next)
    assert bool(np.asarray(valid).any())
    np.testing.assert_allclose(np.asarray(now.critic_w), np.asarray(critic.critic_w),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    i = int(np.asarray(idx)[np.asarray(valid)][-1])
    np.testing.assert_allclose(np.asarray(memory.keys[i]),
                               np.asarray(cortex_.encode(state.cortex, m.obs[i])), atol=1e-6)


def _cue_chain(world, agent_fns, anticipation: float, ticks: int = 900) -> tuple[float, float]:
    """A fixed stream: cue → spider (the threat detector fires) → blank, over and over, whatever
    the agent does. Every innate weight is 0, so the only reward is the anticipation criterion's.
    Returns the issue gate's threat probability at the cue, and the threat assessor's output."""
    init, begin, step = agent_fns(SMALL)
    steer = steering_.SteeringConfig(valence=(0.0,) * K, anticipation=anticipation)
    state = init(jax.random.key(14))._replace(steering=steering_.init(steer))
    cue, spider, blank = (jnp.zeros(world.obs_size).at[i].set(1.0) for i in (0, 1, 2))
    stream = [(cue, sens()), (spider, sens(periphery_motion=1.0)), (blank, sens())]
    state, _ = begin(state, blank, jax.random.key(15))
    for t, k in enumerate(jax.random.split(jax.random.key(16), ticks)):
        obs, s = stream[t % 3]
        state, _, _ = step(state, obs, s, jnp.bool_(False), k)
    z = cortex_.encode(state.cortex, cue)
    threat = R["threat"]
    gate = float(assessors_.gate(state.assessors, z)[threat])
    return gate, float(assessors_.predict(SMALL.assessors, state.assessors, z)[threat])


def test_the_issue_gate_learns_under_the_criterion_and_stays_passive_without(
    world, agent_fns
) -> None:
    passive = SMALL.assessors.passive
    off, predicted_off = _cue_chain(world, agent_fns, anticipation=0.0)
    assert off == pytest.approx(passive, abs=1e-6)  # no dopamine for issuing: unchanged
    assert predicted_off > 0.3  # ... although the cue→threat prediction was learned
    on, _ = _cue_chain(world, agent_fns, anticipation=1.0)
    assert on > passive + 0.3


# ----------------------------------------------------------------------------- learning

# The PFC off: it learns clearly without (the interval's lower end was 0.020–0.030 food per
# tick on seeds 0–3, at 32 learned units without the sensory code).
LEARN_CONFIG = agent_.AgentConfig(pfc=pfc_.PFCConfig(weight=0.0))
LEARN_TICKS = 6000  # with 16 agents the CI's lower end is 0.012–0.016 per tick over keys 0–2


def test_population_gets_better_at_foraging(world) -> None:
    """Hidden performance (food eaten) per tick rises from the first to the last 10% of life."""
    life = population.train(
        world, world.default_params(), LEARN_CONFIG, jax.random.key(0), 16, LEARN_TICKS, chunk=2000
    )  # fmt: skip
    perf = np.asarray(life.log.performance)
    n = LEARN_TICKS // 10
    first, last = perf[:n].mean(0), perf[-n:].mean(0)
    lo, hi = diff_ci(last, first, paired=True)
    assert lo > 0, f"no improvement: CI ({lo:.4f}, {hi:.4f}) per tick"


# ----------------------------------------------------------------------------- checkpoint


@pytest.fixture(scope="module")
def population_state(agent_fns):
    init = agent_fns(SMALL)[0]  # already compiled; stack three agents into a population
    agents = [init(k) for k in jax.random.split(jax.random.key(9), 3)]
    state = jax.tree.map(lambda *xs: jnp.stack(xs), *agents)
    # Something non-trivial in every kind of leaf.
    return state._replace(
        action=jnp.array([1, 2, 3], jnp.int32), goal=jnp.ones_like(state.goal),
        memory=state.memory._replace(filled=state.memory.filled.at[:, 0].set(True)),
    )  # fmt: skip


def test_checkpoint_round_trip(tmp_path, population_state) -> None:
    path = checkpoint.save(tmp_path / "pop.safetensors", population_state, SMALL)
    loaded = checkpoint.load(path, SMALL)
    assert isinstance(loaded, agent_.AgentState)
    assert jax.tree.structure(loaded) == jax.tree.structure(population_state)
    for got, want in zip(jax.tree.leaves(loaded), jax.tree.leaves(population_state), strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    # No temporary files left behind; the file is real safetensors (no pickle anywhere).
    assert [p.name for p in tmp_path.iterdir()] == ["pop.safetensors"]
    with open(path, "rb") as f:
        assert b"pickle" not in f.read(4096).lower()
    # A plain pytree round-trips with like=.
    tree = {"a": jnp.arange(3.0), "b": (jnp.int32(4), jnp.zeros((2, 2), bool))}
    checkpoint.save(tmp_path / "tree.safetensors", tree, SMALL)
    back = checkpoint.load(tmp_path / "tree.safetensors", SMALL, like=tree)
    assert jax.tree.all(jax.tree.map(lambda x, y: bool(jnp.all(x == y)), back, tree))


def test_checkpoint_errors(tmp_path, population_state) -> None:
    with pytest.raises(ShardlabError, match="not found"):
        checkpoint.load(tmp_path / "missing.safetensors", SMALL)
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00not a safetensors file at all" * 4)
    with pytest.raises(ShardlabError, match="safetensors"):
        checkpoint.load(corrupt, SMALL)
    path = checkpoint.save(tmp_path / "pop.safetensors", population_state, SMALL)
    other = replace(SMALL, cortex=cortex_.CortexConfig(latent=16))
    with pytest.raises(ShardlabError, match="different agent config.*latent"):
        checkpoint.load(path, other)
    # Wrong shapes under the right config.
    bad = population_state._replace(goal=jnp.zeros((3, population_state.goal.shape[-1] + 1)))
    checkpoint.save(tmp_path / "bad.safetensors", bad, SMALL)
    with pytest.raises(ShardlabError, match=r"\.goal"):
        checkpoint.load(tmp_path / "bad.safetensors", SMALL)
    # Wrong dtype.
    bad = population_state._replace(action=population_state.action.astype(jnp.float32))
    checkpoint.save(tmp_path / "dtype.safetensors", bad, SMALL)
    with pytest.raises(ShardlabError, match=r"\.action"):
        checkpoint.load(tmp_path / "dtype.safetensors", SMALL)
    # Wrong keys, and a non-agent pytree without a template.
    checkpoint.save(tmp_path / "tree.safetensors", {"a": jnp.zeros(3)}, SMALL)
    with pytest.raises(ShardlabError, match="like="):
        checkpoint.load(tmp_path / "tree.safetensors", SMALL)
    with pytest.raises(ShardlabError, match="missing"):
        checkpoint.load(tmp_path / "tree.safetensors", SMALL, like={"b": jnp.zeros(3)})
    # Every error is one line.
    try:
        checkpoint.load(corrupt, SMALL)
    except ShardlabError as err:
        assert "\n" not in str(err)
