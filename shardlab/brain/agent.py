"""The agent: a learning subsystem (cortex, thought assessors, basal ganglia, hippocampus, PFC)
steered by an innate steering subsystem. Pure functions over explicit state, so a population is
one `vmap` and a lifetime one `lax.scan`.

Every module can be switched off or swapped in `AgentConfig` (ablations). Gradients reach only
the cortex's self-supervised loss; the value-side learners read `stop_gradient(z)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from numpy.typing import ArrayLike

from shardlab.brain import assessors as assessors_
from shardlab.brain import basal_ganglia as bg
from shardlab.brain import cortex as cortex_
from shardlab.brain import hippocampus as hippo
from shardlab.brain import pfc as pfc_
from shardlab.brain import steering as steering_
from shardlab.worlds.scenario import SENSATIONS

Array = jax.Array


@dataclass(frozen=True)
class AgentConfig:
    steering: steering_.SteeringConfig = field(default_factory=steering_.SteeringConfig)
    cortex: cortex_.CortexConfig = field(default_factory=cortex_.CortexConfig)
    assessors: assessors_.AssessorConfig = field(default_factory=assessors_.AssessorConfig)
    basal_ganglia: bg.BasalGangliaConfig = field(default_factory=bg.BasalGangliaConfig)
    hippocampus: hippo.HippocampusConfig = field(default_factory=hippo.HippocampusConfig)
    pfc: pfc_.PFCConfig = field(default_factory=pfc_.PFCConfig)


class AgentState(NamedTuple):
    cortex: cortex_.CortexParams
    assessors: assessors_.AssessorParams
    basal_ganglia: bg.BasalGangliaParams
    traces: bg.Traces
    memory: hippo.Memory
    sequence: hippo.Sequence  # the recent stream, replayed to the actor when full
    replay: optax.OptState  # the actor's sequence-replay optimiser
    steering: steering_.SteeringState
    goal: Array  # (Z,) the value concept the PFC conditions on
    obs: Array  # the observation the last action was chosen from
    sensations: Array  # (S,) what the body last sensed, its interoception included
    action: Array
    policy: Array  # (A,) the policy that action was drawn from
    prior: Array  # (A,) that policy's other terms than the actor (habit, PFC, episodic)
    opened: Array  # (k,) the issue gate's decisions for that thought
    issued: Array  # (k,) what the cortex issued for it
    felt: Array  # (k,) cortical channels of the thoughts imagined and recalled with it


class Diagnostics(NamedTuple):
    reward: Array
    dopamine: Array  # δ
    innate: Array  # (k,) what the innate detectors report
    reactions: Array  # (k,) the body's reactions
    predicted: Array  # (k,) the assessors' outputs for the thought that chose the action
    issued: Array  # (k,) what the cortex issued with it
    valence: Array  # the steering subsystem's valence of that thought
    fear_gain: Array  # the innate fear detector's gain
    contributions: Array  # (Z,) each latent feature's push on the chosen action's logit
    world_model_loss: Array


def init(
    key: Array, config: AgentConfig, obs_size: int, n_actions: int,
    steering: steering_.SteeringState | None = None, held: tuple[int, ...] = (),
) -> AgentState:  # fmt: skip
    """A newborn. `steering` (default: made from `config.steering`) lets a population's
    newborns share one compiled program whatever their steering subsystem; `held` says where
    the observation shows what the agent may hold (`World.held`, see `cortex_.encode`)."""
    cortex = cortex_.init(key, config.cortex, obs_size, n_actions, len(SENSATIONS), held)
    z, k = cortex.trans_b.shape[-1], len(steering_.REACTIONS)
    basal = bg.init(z, n_actions)
    return AgentState(
        cortex=cortex,
        assessors=assessors_.init(config.assessors, z, k),
        basal_ganglia=basal,
        traces=bg.zero_traces(basal),
        memory=hippo.init(config.hippocampus, obs_size, z, k),
        sequence=hippo.init_sequence(config.hippocampus.sequence, z, n_actions),
        replay=bg.init_replay(config.basal_ganglia, basal),
        steering=steering_.init(config.steering) if steering is None else steering,
        goal=jnp.zeros(z),
        obs=jnp.zeros(obs_size),
        sensations=jnp.zeros(len(SENSATIONS)),
        action=jnp.int32(0),
        policy=jnp.full(n_actions, 1.0 / n_actions, jnp.float32),
        prior=jnp.zeros(n_actions),
        opened=jnp.zeros(k),
        issued=jnp.zeros(k),
        felt=jnp.zeros(k),
    )


def set_goal(agents: AgentState, vector: ArrayLike) -> AgentState:
    """Condition planning (and, with `goal_reward`, reward) on a value concept: a vector in the
    latent space, e.g. `concept_from_states` or a language concept mapped into it."""
    return agents._replace(goal=jnp.broadcast_to(jnp.asarray(vector, jnp.float32),
                                                 agents.goal.shape))  # fmt: skip


def concept_from_states(agents: AgentState, obs: ArrayLike) -> Array:
    """A value concept from examples: each agent's mean latent over observations (M, O) that
    show the feature. Batched agents give (N, Z), one agent (Z,)."""
    obs = jnp.asarray(obs, jnp.float32)
    mean = lambda c: cortex_.encode(c, obs).mean(0)  # noqa: E731
    return jax.vmap(mean)(agents.cortex) if agents.goal.ndim == 2 else mean(agents.cortex)


class PolicyTerms(NamedTuple):
    """The action preferences by source, each already weighted: the policy's logits are their
    sum over the temperature. Shards live in `actor`; the others are the habit prior, the PFC's
    plans and the hippocampus's episodic values."""

    actor: Array
    habit: Array
    pfc: Array
    episodic: Array


class Offsets(NamedTuple):
    """Steering offsets on the cortex's activations when it chooses an action: `pre` is added
    to the learned units before their tanh (width L), so its effect depends on the state; `z`
    to the whole latent after it (width Z)."""

    pre: Array
    z: Array


def no_offsets(state: AgentState) -> Offsets:
    """Zero offsets shaped for `state`'s cortex (one agent's or a population's)."""
    return Offsets(jnp.zeros_like(state.cortex.enc_b), jnp.zeros_like(state.goal))


class _Deliberation(NamedTuple):
    terms: PolicyTerms
    imagined: Array  # (A, k) each first imagined thought's channels, at the imagination gain
    recalled: Array  # (k,) the nearest memory's reactions, at the memory gain


def _deliberate(config: AgentConfig, state: AgentState, z: Array) -> _Deliberation:
    p, memory, gains = state.basal_ganglia, state.memory, state.steering.params
    zero, k = jnp.zeros_like(p.actor_b), state.issued.shape[-1]
    pfc, imagined = zero, jnp.zeros((p.actor_b.shape[0], k))
    if config.pfc.weight:
        brain = pfc_.Brain(state.cortex, state.assessors, p)
        reading = steering_.reading(state.steering, state.sensations)
        plan = pfc_.plan(
            config.pfc, config.assessors, config.basal_ganglia, brain, reading,
            gains.imagination, z, state.goal, _references(memory, z),
        )  # fmt: skip
        pfc, imagined = config.pfc.weight * plan.scores, plan.imagined
    episodic, recalled = zero, jnp.zeros(k)
    if config.hippocampus.enabled:
        recalled = gains.memory * hippo.recall(memory, z)
        if config.hippocampus.episodic_weight:
            next_values = bg.value(p, memory.next_keys)
            episodic = config.hippocampus.episodic_weight * hippo.episodic_values(
                config.hippocampus, memory, z, next_values, config.basal_ganglia.gamma,
                p.actor_b.shape[0],
            )  # fmt: skip
    habit = config.basal_ganglia.habit_weight * bg.habit_log_prior(p, z)
    return _Deliberation(PolicyTerms(bg.actor_logits(p, z), habit, pfc, episodic), imagined,
                         recalled)  # fmt: skip


def policy_terms(config: AgentConfig, state: AgentState, z: Array) -> PolicyTerms:
    """Action preferences by source: actor (shards), habit prior, PFC plans, episodic value."""
    return _deliberate(config, state, z).terms


def policy_logits(config: AgentConfig, state: AgentState, z: Array) -> Array:
    """The policy's action logits: the sum of its terms over the temperature."""
    return sum(policy_terms(config, state, z)) / config.basal_ganglia.temperature


def _references(memory: hippo.Memory, z: Array) -> Array:
    """Situations the reflective PFC rates its future self on: now, and remembered ones."""
    return jnp.concatenate([z[None], jnp.where(memory.filled[:, None], memory.keys, z)[:8]])


def _choose(config: AgentConfig, state: AgentState, z: Array, key: Array) -> AgentState:
    """Deliberate, act, and issue: the action, the policy it came from, the issue gate's
    decisions, and the imagined and recalled channels the steering subsystem will feel."""
    k_act, k_issue = jax.random.split(key)
    thought = _deliberate(config, state, z)
    logits = sum(thought.terms) / config.basal_ganglia.temperature
    action = jax.random.categorical(k_act, logits)
    opened, issued = assessors_.issue(
        config.assessors, state.assessors, z, steering_.issuable(), k_issue
    )
    felt = jnp.maximum(thought.imagined[action], thought.recalled)
    terms = thought.terms
    return state._replace(action=action, policy=jax.nn.softmax(logits),
                          prior=terms.habit + terms.pfc + terms.episodic, opened=opened,
                          issued=issued, felt=felt)  # fmt: skip


def begin(
    config: AgentConfig, state: AgentState, obs: Array, key: Array
) -> tuple[AgentState, Array]:
    """Choose the first action of a lifetime."""
    state = _choose(config, state._replace(obs=obs), cortex_.encode(state.cortex, obs), key)
    return state, state.action


def step(
    config: AgentConfig,
    state: AgentState,
    obs: Array,
    sensations: Array,
    done: Array,
    key: Array,
    learn: bool = True,
    offsets: Offsets | None = None,
) -> tuple[AgentState, Array, Diagnostics]:
    """Sense the outcome of the last action, learn from it, and choose the next action.

    `sensations` is the vector in SENSATIONS order that arrived with `obs`; `done` says the
    episode ended (then `obs` is the next episode's first observation). With `learn=False`
    (a Python bool) the cortex, assessors, basal ganglia and hippocampus stay as they are while
    the body (the steering subsystem's state) lives on. `offsets` steer the thought that
    chooses the action, not what is learned."""
    k_choose, k_replay = jax.random.split(key)
    done = done.astype(jnp.float32)
    n_actions = state.policy.shape[-1]
    z_prev = jax.lax.stop_gradient(cortex_.encode(state.cortex, state.obs))
    z = jax.lax.stop_gradient(cortex_.encode(state.cortex, obs))

    # The steering subsystem: raw sensations and the cortex's output channels, never z.
    predicted = assessors_.predict(config.assessors, state.assessors, z)
    steer, out = steering_.step(state.steering, sensations, predicted, state.issued, state.felt)
    # The cortical pseudo-reward loop (seed 000): thoughts that match the value concept.
    reward = out.reward + config.pfc.goal_reward * pfc_.match(z, state.goal)

    # Basal ganglia: dopamine, and credit to the action and to the issue decisions.
    delta = bg.td_error(config.basal_ganglia, state.basal_ganglia, z_prev, reward, z)
    basal, traces = bg.update(config.basal_ganglia, state.basal_ganglia, state.traces, z_prev,
                              state.action, state.policy, delta, done)  # fmt: skip
    # Thought assessors learn the steering subsystem's ground truth; the gate learns to issue.
    assess, _ = assessors_.update(config.assessors, state.assessors, z_prev, out.targets, z)
    assess = assessors_.update_gate(config.assessors, assess, z_prev, state.opened,
                                    steering_.issuable(), delta)  # fmt: skip
    # The world model learns by prediction only.
    cortex, wm_loss = cortex_.update(config.cortex, state.cortex, state.obs, state.action, obs,
                                     sensations, n_actions, done)  # fmt: skip
    memory, sequence = state.memory, state.sequence
    if config.hippocampus.enabled:
        memory = hippo.write(memory, state.obs, z_prev, state.action, reward, out.targets, obs, z)
        basal, assess, memory = _replay(config, state.cortex, basal, assess, memory, k_replay)
    if config.hippocampus.replays_sequences:
        chosen = jnp.log(state.policy[state.action] + 1e-8)
        sequence = hippo.record(sequence, z_prev, z, state.action, state.prior, chosen, reward,
                                done)  # fmt: skip

    if learn:
        state = state._replace(cortex=cortex, assessors=assess, basal_ganglia=basal,
                               traces=traces, memory=memory, sequence=sequence)  # fmt: skip
    state = state._replace(steering=steer, sensations=sensations, obs=obs)
    if offsets is not None:
        z = jax.lax.stop_gradient(cortex_.encode(state.cortex, obs, offsets.pre)) + offsets.z
    state = _choose(config, state, z, k_choose)
    thought = assessors_.predict(config.assessors, state.assessors, z)
    diag = Diagnostics(
        reward=reward,
        dopamine=delta,
        innate=out.innate,
        reactions=out.reactions,
        predicted=thought,
        issued=state.issued,
        valence=steering_.valence(steer, sensations, thought),
        fear_gain=steer.fear_gain,
        contributions=bg.contributions(state.basal_ganglia, z)[:, state.action],
        world_model_loss=wm_loss,
    )
    return state, state.action, diag


def replay_sequence(config: AgentConfig, state: AgentState) -> AgentState:
    """Replay the recorded stream to the actor (`bg.replay_sequence`). The population calls it
    for all its agents at once whenever their sequences are full, so no tick pays for it."""
    basal, opt = bg.replay_sequence(config.basal_ganglia, state.basal_ganglia, state.replay,
                                    state.sequence)  # fmt: skip
    return state._replace(basal_ganglia=basal, replay=opt)


def _replay(
    config: AgentConfig,
    cortex: cortex_.CortexParams,
    basal: bg.BasalGangliaParams,
    assess: assessors_.AssessorParams,
    memory: hippo.Memory,
    key: Array,
) -> tuple[bg.BasalGangliaParams, assessors_.AssessorParams, hippo.Memory]:
    """Re-learn values (critic and assessors, not the actor) from remembered transitions, each
    re-encoded by the cortex as it is now (and its keys reconsolidated)."""
    idx, valid = hippo.sample(key, memory, config.hippocampus.replay)
    zs = jax.lax.stop_gradient(cortex_.encode(cortex, memory.obs[idx]))
    z_nexts = jax.lax.stop_gradient(cortex_.encode(cortex, memory.next_obs[idx]))

    def one(carry, x):
        basal, assess = carry
        z, z_next, i, ok = x
        new_basal = bg.replay_critic(config.basal_ganglia, basal, z, memory.rewards[i], z_next)
        new_assess, _ = assessors_.update(
            config.assessors, assess, z, memory.reactions[i], z_next
        )
        keep = lambda new, old: jax.tree.map(lambda n, o: jnp.where(ok, n, o), new, old)  # noqa: E731
        return (keep(new_basal, basal), keep(new_assess, assess)), None

    (basal, assess), _ = jax.lax.scan(one, (basal, assess), (zs, z_nexts, idx, valid))
    keep = valid[:, None]
    memory = hippo.reconsolidate(memory, idx, jnp.where(keep, zs, memory.keys[idx]),
                                 jnp.where(keep, z_nexts, memory.next_keys[idx]))  # fmt: skip
    return basal, assess, memory
