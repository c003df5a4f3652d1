"""The brain modules against analytic answers, the architecture's contracts, and a learning check.

Compiled functions are shared through module-scoped fixtures and kept small (short latents,
small memories), so the whole file stays fast on two loaded cores."""

from __future__ import annotations

import inspect
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
VALENCE = jnp.asarray(steering_.SteeringConfig().valence)


_steer = jax.jit(steering_.step, static_argnums=0)
_innate = jax.jit(steering_.innate_reactions, static_argnums=0)
_imagined = jax.jit(steering_.imagined_reward, static_argnums=0)


def sens(**values: float) -> jax.Array:
    v = np.zeros(len(SENSATIONS), np.float32)
    for name, x in values.items():
        v[S[name]] = x
    return jnp.asarray(v)


# ----------------------------------------------------------------------------- basal ganglia


CYCLE = 5


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
        params, traces = bg.update(config, params, traces, eye[s], jnp.int32(0), delta, 0.0)
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


def test_habit_prior_learns_action_frequencies() -> None:
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    actions = jax.random.choice(jax.random.key(3), 4, (50_000,), p=jnp.asarray(probs))
    config = bg.BasalGangliaConfig(actor_lr=0.0, entropy=0.0, habit_lr=0.001)
    z = jnp.array([1.0, 0.0, 0.0])

    @jax.jit
    def run(actions):
        def tick(params, a):
            params, _ = bg.update(config, params, bg.zero_traces(params), z, a, 0.0, 0.0)
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

        params, _ = jax.lax.scan(tick, assessors_.init(length, K), jnp.arange(4000))
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
    params = assessors_.AssessorParams(jnp.ones((3, K)), jnp.ones(K))
    z = jnp.array([1.0, 0.0, 0.0])
    assert not np.any(np.asarray(assessors_.predict(config, params, z)))
    new, _ = assessors_.update(config, params, z, jnp.ones(K), z)
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.all(a == b)), new, params))


# ----------------------------------------------------------------------------- hippocampus


_write = jax.jit(hippo.write)
_retrieve = jax.jit(hippo.retrieve)
_episodic = jax.jit(hippo.episodic_values, static_argnums=(0, 4, 5))


def test_hippocampus_retrieval_ring_buffer_and_episodic_values() -> None:
    config = hippo.HippocampusConfig(capacity=3, temperature=0.01)
    memory = hippo.init(config, 2, K)
    # Empty memory: nothing is similar, episodic values are zero.
    assert np.all(np.isneginf(np.asarray(hippo.similarity(memory, jnp.array([1.0, 0.0])))))
    empty = _episodic(config, memory, jnp.array([1.0, 0.0]), jnp.zeros(3), 0.9, 2)
    np.testing.assert_allclose(np.asarray(empty), 0.0)

    keys = [jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]), jnp.array([-1.0, 0.1])]
    for i, key in enumerate(keys):
        memory = _write(memory, key, jnp.int32(i % 2), jnp.float32(i), jnp.zeros(K), key)
    # Nearest by cosine, whatever the length of the query.
    assert int(_retrieve(memory, jnp.array([5.0, 0.4]))) == 0
    assert int(_retrieve(memory, jnp.array([0.1, 3.0]))) == 1
    assert int(_retrieve(memory, jnp.array([-2.0, 0.0]))) == 2
    # Full: the next write overwrites the oldest slot (0) and the cursor wraps.
    assert int(memory.cursor) == 0
    newest = jnp.array([0.6, 0.8])
    memory = _write(memory, newest, jnp.int32(1), jnp.float32(5), jnp.zeros(K), keys[0])
    assert int(memory.cursor) == 1 and int(memory.actions[0]) == 1
    assert int(_retrieve(memory, jnp.array([1.0, 0.0]))) == 0  # [.6, .8] is now nearest

    # Episodic values: with uniform similarity, the mean remembered outcome r + γV′ per action.
    flat = hippo.HippocampusConfig(capacity=4, temperature=1e6)
    memory = hippo.init(flat, 2, K)
    for a, r in [(0, 1.0), (0, 3.0), (1, -2.0)]:
        key = jnp.array([1.0, 0.0])
        memory = _write(memory, key, jnp.int32(a), jnp.float32(r), jnp.zeros(K), key)
    next_values = jnp.array([0.5, 0.5, 1.0, 0.0])
    values = _episodic(flat, memory, jnp.array([1.0, 0.0]), next_values, 0.5, 3)
    w = 1 / 3  # three filled slots, equal weight; the 1e-3 in the denominator is a smoothing term
    expected = [w * (1.25 + 3.25) / (2 * w + 1e-3), w * (-1.5) / (w + 1e-3), 0.0]
    np.testing.assert_allclose(np.asarray(values), expected, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------- steering


def test_steering_cannot_read_the_latent() -> None:
    for fn in (steering_.step, steering_.innate_reactions, steering_.imagined_reward):
        params = inspect.signature(fn).parameters
        assert "z" not in params and "latent" not in params, fn.__name__
    assert "reward" not in inspect.signature(cortex_.loss).parameters
    assert "reward" not in inspect.signature(cortex_.update).parameters
    # The steering subsystem's only state is its rewiring state and its innate weights, which
    # nothing changes: no weights to train.
    assert steering_.SteeringState._fields == ("fear_gain", "since_fear", "since_threat",
                                               "valence")  # fmt: skip
    config = steering_.SteeringConfig()
    state = steering_.init(config)
    for s in (sens(pain=1.0), sens(sweet=1.0, hunger=0.5), sens(stimulation=1.0)):
        state, _ = _steer(config, state, s, jnp.ones(K))
    np.testing.assert_array_equal(state.valence, np.asarray(config.valence, np.float32))


def test_innate_reactions() -> None:
    config, state = steering_.SteeringConfig(), steering_.init(steering_.SteeringConfig())
    react = partial(_innate, config, state)
    # Salt: aversive when sated, appetitive when deprived.
    assert float(react(sens(salt=1.0, salt_need=0.0))[R["salt"]]) == pytest.approx(-1.0)
    assert float(react(sens(salt=1.0, salt_need=1.0))[R["salt"]]) == pytest.approx(1.0)
    # Appetite scales with hunger.
    full, hungry = react(sens(sweet=1.0, hunger=0.0)), react(sens(sweet=1.0, hunger=1.0))
    assert float(full[R["appetite"]]) == pytest.approx(0.2)
    assert float(hungry[R["appetite"]]) == pytest.approx(1.2)
    # Stimulation goes straight into reward (no reaction channel in between).
    quiet = _steer(config, state, sens(), jnp.zeros(K))[1].reward
    wired = _steer(config, state, sens(stimulation=2.0), jnp.zeros(K))[1]
    assert float(wired.reward - quiet) == pytest.approx(2.0 * config.stimulation_gain)
    assert not np.any(np.asarray(wired.innate))


def test_calm_is_relief_after_a_threat_not_a_standing_state() -> None:
    config = steering_.SteeringConfig(calm_after=4, relief=8)
    state = steering_.init(config)
    calm = []
    for s in [sens()] * 20 + [sens(pain=1.0)] + [sens()] * 20:
        state, out = _steer(config, state, s, jnp.zeros(K))
        calm.append(float(out.innate[R["calm"]]))
    # Never threatened: never calm, so a safe world pays no reward for nothing done.
    assert calm[:21] == [0.0] * 21
    # After the pain: calm_after quiet steps, then `relief` steps of calm, then nothing.
    assert calm[21:] == [0.0] * 4 + [1.0] * 8 + [0.0] * 8
    assert int(state.since_threat) == 20
    long_quiet = steering_.SteeringState(
        jnp.float32(1.0), jnp.int32(steering_.LONG_AGO), jnp.int32(steering_.LONG_AGO), VALENCE
    )
    assert int(_steer(config, long_quiet, sens(), jnp.zeros(K))[0].since_threat) == (
        steering_.LONG_AGO
    )  # the counters saturate


def test_anticipation_pays_only_for_issued_reactions_the_innate_detector_confirms() -> None:
    config = steering_.SteeringConfig(anticipation_gain=0.1)
    no_calm = steering_.SteeringState(jnp.float32(1.0), jnp.int32(10_000), jnp.int32(0), VALENCE)
    state = no_calm
    issued = jnp.zeros(K).at[R["appetite"]].set(0.5)
    food = sens(sweet=1.0, hunger=0.8)  # appetite 1.0

    def reward(s, i):
        return float(_steer(config, state, s, i)[1].reward)

    base = reward(food, jnp.zeros(K))
    assert base == pytest.approx(1.0)
    assert reward(food, issued) - base == pytest.approx(0.1 * 1.0 * 0.5)  # issued, then fired
    assert reward(sens(), issued) == pytest.approx(0.0)  # issued but nothing fired: no pay
    wrong = jnp.zeros(K).at[R["approval"]].set(1.0)
    assert reward(food, wrong) == pytest.approx(base)  # a different channel: no pay


def test_imagined_reward_scales_with_the_imagination_gain() -> None:
    config = steering_.SteeringConfig()
    no_calm = steering_.SteeringState(jnp.float32(1.0), jnp.int32(10_000), jnp.int32(0), VALENCE)
    state = no_calm
    s = sens(pain=0.8, stimulation=0.5)
    one = float(_imagined(config, state, s, jnp.zeros(K), 1.0))
    for gain in (0.25, 0.5):
        got = float(_imagined(config, state, s, jnp.zeros(K), gain))
        assert got == pytest.approx(gain * one)  # linear channels scale with the gain
    # Issued reactions are seen at the gain too: anticipation = a·(g·innate)·clip(g·issued).
    issued = jnp.zeros(K).at[R["pain"]].set(1.0)
    got = float(_imagined(config, state, s, issued, 0.5))
    assert got == pytest.approx(0.5 * one + 0.1 * (0.5 * 0.8) * 0.5)


def test_habituation_and_sensitisation_rewire_the_fear_gain() -> None:
    config = steering_.SteeringConfig(rewiring_rate=0.2, rewiring_window=6, calm_after=4)
    state = steering_.init(config)
    state, out = _steer(config, state, sens(periphery_motion=1.0), jnp.zeros(K))
    assert float(out.innate[R["fear"]]) == 1.0 and float(state.fear_gain) == 1.0
    gains = []
    for _ in range(6):  # quiet: calm fires once since_threat reaches calm_after
        state, out = _steer(config, state, sens(), jnp.zeros(K))
        gains.append(float(state.fear_gain))
    # The first calm (4 quiet steps after the fear) lowers the gain by the rewiring rate.
    first_calm = gains.index(next(g for g in gains if g < 1.0))
    assert first_calm == config.calm_after  # steps 1..4 quiet, calm fires on step 5
    assert gains[first_calm] == pytest.approx(1.0 - config.rewiring_rate)
    # One fear episode rewires once: later calm ticks inside the window change nothing.
    assert gains[-1] == pytest.approx(1.0 - config.rewiring_rate)
    state, _ = _steer(config, state, sens(), jnp.zeros(K))
    assert float(state.fear_gain) == gains[-1]
    # Without a rewiring rate the gain never moves.
    still = steering_.init(steering_.SteeringConfig())
    for s in (sens(periphery_motion=1.0), sens(), sens(), sens(), sens(), sens(), sens()):
        still, _ = _steer(steering_.SteeringConfig(), still, s, jnp.zeros(K))
    assert float(still.fear_gain) == 1.0

    # Pain soon after fear sensitises: gain += sensitisation·(1 − gain).
    weak = steering_.SteeringState(jnp.float32(0.6), jnp.int32(10_000), jnp.int32(10_000),
                                   VALENCE)  # fmt: skip
    weak, _ = _steer(config, weak, sens(periphery_motion=1.0), jnp.zeros(K))
    weak, _ = _steer(config, weak, sens(pain=1.0), jnp.zeros(K))
    assert float(weak.fear_gain) == pytest.approx(0.6 + config.sensitisation * 0.4)
    # Pain without a recent fear does not.
    lone = steering_.SteeringState(jnp.float32(0.6), jnp.int32(10_000), jnp.int32(10_000),
                                   VALENCE)  # fmt: skip
    lone, _ = _steer(config, lone, sens(pain=1.0), jnp.zeros(K))
    assert float(lone.fear_gain) == pytest.approx(0.6)


# ----------------------------------------------------------------------------- PFC

Z, A = 4, 3


def _hand_built_brain() -> tuple[pfc_.Brain, jax.Array]:
    """transition(0, a) = tanh(2)·e_a. e_0 predicts stimulation, e_1 sweet food when hungry, e_2
    nothing. The assessors rate e_0 as painful and e_1 as appetising."""
    trans_w = jnp.zeros((Z + A, Z)).at[Z + jnp.arange(A), jnp.arange(A)].set(2.0)
    sens_w = jnp.zeros((Z, len(SENSATIONS)))
    sens_w = sens_w.at[0, S["stimulation"]].set(1.5)
    sens_w = sens_w.at[1, S["sweet"]].set(1.0).at[1, S["hunger"]].set(1.0)
    cortex = cortex_.CortexParams(
        jnp.zeros((5, Z)), jnp.zeros(Z), trans_w, jnp.zeros(Z), jnp.zeros((Z, 5)), jnp.zeros(5),
        sens_w, jnp.zeros(len(SENSATIONS)),
    )  # fmt: skip
    w = jnp.zeros((Z, K)).at[0, R["pain"]].set(1.0).at[1, R["appetite"]].set(1.0)
    brain = pfc_.Brain(cortex, assessors_.AssessorParams(w, jnp.zeros(K)), bg.init(Z, A))
    return brain, jnp.zeros(Z)


def test_pfc_plans_the_action_whose_imagined_outcome_is_best() -> None:
    brain, z = _hand_built_brain()
    brain = brain._replace(cortex=brain.cortex._replace(sens_w=brain.cortex.sens_w.at[0].set(0)))
    steer_cfg = steering_.SteeringConfig()
    scores = pfc_.plan_scores(
        pfc_.PFCConfig(horizon=1), steer_cfg, steering_.init(steer_cfg),
        assessors_.AssessorConfig(), bg.BasalGangliaConfig(), brain, z, jnp.zeros(Z), z[None],
    )  # fmt: skip
    assert int(jnp.argmax(scores)) == 1
    # Horizon 1: the score is exactly the steering subsystem's reward for the imagined latent.
    for a in range(A):
        zz = cortex_.transition(brain.cortex, z, jnp.int32(a), A)
        expected = steering_.imagined_reward(
            steer_cfg, steering_.init(steer_cfg), cortex_.predict_sensations(brain.cortex, zz),
            assessors_.predict(assessors_.AssessorConfig(), brain.assessors, zz), 0.5,
        )  # fmt: skip
        assert float(scores[a]) == pytest.approx(float(expected), abs=1e-6)


def test_reflective_mode_vetoes_an_action_that_would_corrupt_the_future_self() -> None:
    """Action 0 is imagined as rewarding (stimulation) but leads where the current assessors
    see pain; reinforcing it would make the future self steer worse by today's values."""
    brain, z = _hand_built_brain()
    z = jnp.array([0.0, 0.0, 0.0, 1.0])  # a context of its own, so the actor update is local
    steer_cfg = steering_.SteeringConfig()
    steer_state = steering_.init(steer_cfg)

    def scores(config):
        return pfc_.plan_scores(
            config, steer_cfg, steer_state, assessors_.AssessorConfig(), bg.BasalGangliaConfig(),
            brain, z, jnp.zeros(Z), z[None],
        )  # fmt: skip

    plain = scores(pfc_.PFCConfig(horizon=1))
    assert int(jnp.argmax(plain)) == 0  # the imagination alone likes the stimulation
    reflective = scores(pfc_.PFCConfig(horizon=1, reflective=True))
    reflect = reflective - plain
    assert float(reflect[0]) < 0 < float(reflect[1])
    assert int(jnp.argmax(reflective)) == 1
    off = scores(pfc_.PFCConfig(horizon=1, reflective=True, reflect_repeats=0.0))
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
    z = SMALL.cortex.latent
    assert diag.reward.shape == diag.dopamine.shape == diag.valence.shape == ()
    assert diag.world_model_loss.shape == ()
    assert diag.innate.shape == diag.reactions.shape == diag.issued.shape == (K,)
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


def test_every_module_can_be_switched_off(world, agent_fns) -> None:
    """PFC, hippocampus, assessors and habit prior all off at once: the agent still lives, and
    what is off is really off (one compile for all four switches)."""
    state, _, _, diags = _live(world, agent_fns(ALL_OFF), 2)
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(diags))
    assert int(state.memory.cursor) == 0 and not bool(state.memory.filled.any())
    assert not any(d.issued.any() for d in diags)
    assert not bool(state.assessors.w.any()) and not bool(state.assessors.b.any())
    z = jax.random.normal(jax.random.key(0), (ALL_OFF.cortex.latent,))
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
        ones = jnp.ones(config.cortex.latent)
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
        state.cortex, obs, action, obs2, s, world.n_actions
    )
    assert any(bool(jnp.any(g != 0)) for g in jax.tree.leaves(own))


# ----------------------------------------------------------------------------- learning

# Latent 32, not the default 128: a quarter of the run time, and it still learns clearly (the
# interval's lower end was 0.020–0.030 food per tick on seeds 0–3).
LEARN_CONFIG = agent_.AgentConfig(cortex=cortex_.CortexConfig(latent=32),
                                  pfc=pfc_.PFCConfig(weight=0.0))  # fmt: skip
LEARN_TICKS = 6000  # 4000 is marginal on some seeds; 6000 clears zero comfortably


def test_population_gets_better_at_foraging(world) -> None:
    """Hidden performance (food eaten) per tick rises from the first to the last 10% of life."""
    life = population.train(
        world, world.default_params(), LEARN_CONFIG, jax.random.key(0), 32, LEARN_TICKS, chunk=2000
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
        action=jnp.array([1, 2, 3], jnp.int32), goal=jnp.ones((3, SMALL.cortex.latent)),
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
    bad = population_state._replace(goal=jnp.zeros((3, SMALL.cortex.latent + 1)))
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
