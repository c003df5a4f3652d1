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
    steering: steering_.SteeringState
    goal: Array  # (Z,) the value concept the PFC conditions on
    obs: Array  # the observation the last action was chosen from
    action: Array
    issued: Array  # (k,) reactions the cortex issued for that observation


class Diagnostics(NamedTuple):
    reward: Array
    dopamine: Array  # δ
    innate: Array  # (k,) the steering subsystem's ground truth
    reactions: Array  # (k,)
    issued: Array  # (k,) assessor outputs
    valence: Array  # learned valence of the current thought
    contributions: Array  # (Z,) each latent feature's push on the chosen action's logit
    world_model_loss: Array


def init(key: Array, config: AgentConfig, obs_size: int, n_actions: int) -> AgentState:
    z, k = config.cortex.latent, len(steering_.REACTIONS)
    cortex = cortex_.init(key, config.cortex, obs_size, n_actions, len(SENSATIONS))
    basal = bg.init(z, n_actions)
    return AgentState(
        cortex=cortex,
        assessors=assessors_.init(z, k),
        basal_ganglia=basal,
        traces=bg.zero_traces(basal),
        memory=hippo.init(config.hippocampus, z, k),
        steering=steering_.init(config.steering),
        goal=jnp.zeros(z),
        obs=jnp.zeros(obs_size),
        action=jnp.int32(0),
        issued=jnp.zeros(k),
    )


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
    before the latent's tanh, so its effect depends on the state; `z` after it."""

    pre: Array
    z: Array


def no_offsets(latent: int) -> Offsets:
    return Offsets(jnp.zeros(latent), jnp.zeros(latent))


def policy_terms(config: AgentConfig, state: AgentState, z: Array) -> PolicyTerms:
    """Action preferences by source: actor (shards), habit prior, PFC plans, episodic value."""
    p = state.basal_ganglia
    zero = jnp.zeros_like(p.actor_b)
    pfc = episodic = zero
    if config.pfc.weight:
        brain = pfc_.Brain(state.cortex, state.assessors, p)
        pfc = config.pfc.weight * pfc_.plan_scores(
            config.pfc, config.steering, state.steering, config.assessors, config.basal_ganglia,
            brain, z, state.goal, _references(state, z),
        )  # fmt: skip
    if config.hippocampus.enabled and config.hippocampus.episodic_weight:
        next_values = bg.value(p, state.memory.next_keys)
        episodic = config.hippocampus.episodic_weight * hippo.episodic_values(
            config.hippocampus, state.memory, z, next_values, config.basal_ganglia.gamma,
            p.actor_b.shape[0],
        )  # fmt: skip
    habit = config.basal_ganglia.habit_weight * bg.habit_log_prior(p, z)
    return PolicyTerms(bg.actor_logits(p, z), habit, pfc, episodic)


def policy_logits(config: AgentConfig, state: AgentState, z: Array) -> Array:
    """The policy's action logits: the sum of its terms over the temperature."""
    return sum(policy_terms(config, state, z)) / config.basal_ganglia.temperature


def _references(state: AgentState, z: Array) -> Array:
    """Situations the reflective PFC rates its future self on: now, and remembered ones."""
    m = state.memory
    keys = jnp.where(m.filled[:, None], m.keys, z)
    return jnp.concatenate([z[None], keys[:8]])


def begin(
    config: AgentConfig, state: AgentState, obs: Array, key: Array
) -> tuple[AgentState, Array]:
    """Choose the first action of a lifetime."""
    z = cortex_.encode(state.cortex, obs)
    action = jax.random.categorical(key, policy_logits(config, state, z))
    issued = assessors_.predict(config.assessors, state.assessors, z)
    return state._replace(obs=obs, action=action, issued=issued), action


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
    k_act, k_replay = jax.random.split(key)
    done = done.astype(jnp.float32)
    z_prev = jax.lax.stop_gradient(cortex_.encode(state.cortex, state.obs))
    pre = jax.lax.stop_gradient(cortex_.preactivation(state.cortex, obs))
    z = jnp.tanh(pre)

    # The steering subsystem: raw sensations and the cortex's output channels, never z.
    steer, out = steering_.step(config.steering, state.steering, sensations, state.issued)

    # Basal ganglia: dopamine and credit assignment.
    delta = bg.td_error(config.basal_ganglia, state.basal_ganglia, z_prev, out.reward, z)
    basal, traces = bg.update(
        config.basal_ganglia, state.basal_ganglia, state.traces, z_prev, state.action, delta, done
    )
    # Thought assessors learn the steering subsystem's ground truth.
    assess, _ = assessors_.update(config.assessors, state.assessors, z_prev, out.innate, z)
    # The world model learns by prediction only (not across an episode boundary).
    cortex, wm_loss = _learn_world(config, state, obs, sensations, done)
    memory = state.memory
    if config.hippocampus.enabled:
        memory = hippo.write(memory, z_prev, state.action, out.reward, out.innate, z)
        basal, assess = _replay(config, basal, assess, memory, k_replay)

    if learn:
        state = state._replace(cortex=cortex, assessors=assess, basal_ganglia=basal,
                               traces=traces, memory=memory)  # fmt: skip
    state = state._replace(steering=steer)
    if offsets is not None:
        z = jnp.tanh(pre + offsets.pre) + offsets.z
    logits = policy_logits(config, state, z)
    action = jax.random.categorical(k_act, logits)
    issued = assessors_.predict(config.assessors, state.assessors, z)
    diag = Diagnostics(
        reward=out.reward,
        dopamine=delta,
        innate=out.innate,
        reactions=out.reactions,
        issued=issued,
        valence=issued @ state.steering.valence,
        contributions=bg.contributions(state.basal_ganglia, z)[:, action],
        world_model_loss=wm_loss,
    )
    return state._replace(obs=obs, action=action, issued=issued), action, diag


def _learn_world(
    config: AgentConfig, state: AgentState, obs: Array, sensations: Array, done: Array
) -> tuple[cortex_.CortexParams, Array]:
    n_actions = state.basal_ganglia.actor_b.shape[0]
    learned, loss = cortex_.update(
        config.cortex, state.cortex, state.obs, state.action, obs, sensations, n_actions
    )
    keep = jax.tree.map(lambda new, old: jnp.where(done > 0, old, new), learned, state.cortex)
    return keep, loss


def _replay(
    config: AgentConfig,
    basal: bg.BasalGangliaParams,
    assess: assessors_.AssessorParams,
    memory: hippo.Memory,
    key: Array,
) -> tuple[bg.BasalGangliaParams, assessors_.AssessorParams]:
    """Re-learn values (critic and assessors, not the actor) from remembered transitions."""
    idx, valid = hippo.sample(key, memory, config.hippocampus.replay)

    def one(carry, x):
        basal, assess = carry
        i, ok = x
        z, z_next = memory.keys[i], memory.next_keys[i]
        new_basal = bg.replay_critic(config.basal_ganglia, basal, z, memory.rewards[i], z_next)
        new_assess, _ = assessors_.update(
            config.assessors, assess, z, memory.reactions[i], z_next
        )
        keep = lambda new, old: jax.tree.map(lambda n, o: jnp.where(ok, n, o), new, old)  # noqa: E731
        return (keep(new_basal, basal), keep(new_assess, assess)), None

    (basal, assess), _ = jax.lax.scan(one, (basal, assess), (idx, valid))
    return basal, assess
