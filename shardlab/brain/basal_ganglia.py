"""Basal ganglia: actor-critic on the latent z. The TD error δ is the dopamine signal.

The actor is linear in z, so every action logit decomposes exactly into contributions of latent
features — the handle `shardlab.analysis.shards` uses to find contextually activated decision
influences. Besides its online update from each tick's dopamine, the actor re-learns from the
hippocampus's replay of the recent stream (`replay_sequence`). A habit prior (a contextual
action-frequency model with its own rate and weight) is mixed into action selection (seed 000's
habit prior)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from shardlab.brain.hippocampus import Sequence

Array = jax.Array


@dataclass(frozen=True)
class BasalGangliaConfig:
    gamma: float = 0.95
    # The online step from each tick's dopamine; most of the actor's learning is sequence replay.
    actor_lr: float = 0.1
    # Sequence replay's advantages are today's critic's: a slower critic (0.03, not 0.3) gives
    # steadier ones (trash 0.0331 against 0.0297 at 0.1 and 0.0316 at 0.01, sensory code on).
    critic_lr: float = 0.03
    trace: float = 0.0  # λ of the eligibility traces (0: one-step actor-critic)
    habit_lr: float = 0.02
    # 0 removes the habit prior from action selection. At 0.5 it sharpened the policy on its own
    # past choices until the trash agents stopped exploring (late 0.010 at 50,000 ticks, 0.018
    # at 0.2 and 0.020 at 0: 1–3 seeds of 8 agents).
    habit_weight: float = 0.2
    temperature: float = 1.0
    entropy: float = 0.01  # entropy bonus on the actor, so no shard is certain too early
    # Sequence replay: passes over the replayed stream, their step size (Adam), the λ of the
    # advantages, and how far one replay may move the policy's odds of an action.
    replay_epochs: int = 10
    replay_lr: float = 0.01
    replay_trace: float = 0.95
    replay_clip: float = 0.2


class BasalGangliaParams(NamedTuple):
    actor_w: Array  # (Z, A)
    actor_b: Array  # (A,)
    critic_w: Array  # (Z,)
    critic_b: Array  # ()
    habit_w: Array  # (Z, A)
    habit_b: Array  # (A,)


class Traces(NamedTuple):
    actor_w: Array
    actor_b: Array
    critic_w: Array
    critic_b: Array


def online_only(**overrides: Any) -> BasalGangliaConfig:
    """The basal ganglia of a learner without a hippocampus, whose actor no sequence replay
    teaches (plain actor-critic, M6's chooser): the full online steps the online rule was set
    for (actor 1.0, critic 0.3). The brain's own are smaller: its actor learns mostly by replay,
    and replay wants a steady critic."""
    return BasalGangliaConfig(**{"actor_lr": 1.0, "critic_lr": 0.3, **overrides})


def init(latent: int, n_actions: int) -> BasalGangliaParams:
    return BasalGangliaParams(
        jnp.zeros((latent, n_actions)), jnp.zeros(n_actions), jnp.zeros(latent), jnp.float32(0),
        jnp.zeros((latent, n_actions)), jnp.zeros(n_actions),
    )  # fmt: skip


def zero_traces(params: BasalGangliaParams) -> Traces:
    return Traces(*(jnp.zeros_like(p) for p in params[:4]))


def actor_logits(params: BasalGangliaParams, z: Array) -> Array:
    return z @ params.actor_w + params.actor_b


def value(params: BasalGangliaParams, z: Array) -> Array:
    return z @ params.critic_w + params.critic_b


def habit_log_prior(params: BasalGangliaParams, z: Array) -> Array:
    return jax.nn.log_softmax(z @ params.habit_w + params.habit_b)


def contributions(params: BasalGangliaParams, z: Array) -> Array:
    """(Z, A): feature i's push on action a's logit. Sums (with the bias) to the actor's logits."""
    return z[..., :, None] * params.actor_w


def td_error(
    config: BasalGangliaConfig, params: BasalGangliaParams, z: Array, reward: Array, z_next: Array
) -> Array:
    """Dopamine: δ = r + γ·V(z′) − V(z). A life is one continuing stream: the value of whatever
    comes next (a new episode included) is bootstrapped, so a time limit the agent cannot see
    is never mistaken for a catastrophe."""
    return reward + config.gamma * value(params, z_next) - value(params, z)


def log_policy_gradient(policy: Array, action: Array, temperature: float) -> Array:
    """(A,) ∂ log π(a|z) / ∂ actor logits for the policy actions are drawn from, whose logits
    are the sum of the actor's, the habit prior's, the PFC's and the episodic ones over the
    temperature: the actor's update is then on-policy for the combined policy."""
    return (jax.nn.one_hot(action, policy.shape[-1]) - policy) / temperature


def update(
    config: BasalGangliaConfig,
    params: BasalGangliaParams,
    traces: Traces,
    z: Array,
    action: Array,
    policy: Array,
    delta: Array,
    done: Array,
) -> tuple[BasalGangliaParams, Traces]:
    """Actor-critic with eligibility traces, and the habit prior's own supervised update.

    `policy` is the combined policy the action was drawn from. The gradients are analytic
    (linear critic, linear actor inside a softmax), so the rule is readable."""
    n_actions = params.actor_b.shape[0]
    decay = config.gamma * config.trace
    grad_logp = log_policy_gradient(policy, action, config.temperature)
    log_policy = jnp.log(policy + 1e-8)
    # ∂H/∂(actor logits) of the combined policy: the entropy bonus keeps it from certainty.
    grad_entropy = -policy * (log_policy - jnp.sum(policy * log_policy)) / config.temperature
    traces = Traces(
        decay * traces.actor_w + jnp.outer(z, grad_logp),
        decay * traces.actor_b + grad_logp,
        decay * traces.critic_w + z,
        decay * traces.critic_b + 1.0,
    )
    habit_grad = jax.nn.one_hot(action, n_actions) - jnp.exp(habit_log_prior(params, z))
    # Step sizes are normalised by the norm of the features' trace (NLMS; the feature norm
    # itself when λ = 0), so they mean the same whatever the latent's width or scale, and a
    # trace summing many dense latents cannot blow the weights up.
    norm = 1.0 + traces.critic_w @ traces.critic_w
    actor, critic = config.actor_lr * delta / norm, config.critic_lr * delta / norm
    bonus = config.actor_lr * config.entropy * grad_entropy / norm
    params = BasalGangliaParams(
        params.actor_w + actor * traces.actor_w + jnp.outer(z, bonus),
        params.actor_b + actor * traces.actor_b + bonus,
        params.critic_w + critic * traces.critic_w,
        params.critic_b + critic * traces.critic_b,
        params.habit_w + config.habit_lr * jnp.outer(z, habit_grad),
        params.habit_b + config.habit_lr * habit_grad,
    )
    # Traces do not carry credit across the end of an episode.
    traces = jax.tree.map(lambda t: t * (1.0 - done), traces)
    return params, traces


def replay_critic(
    config: BasalGangliaConfig, params: BasalGangliaParams, z: Array, reward: Array,
    z_next: Array,
) -> BasalGangliaParams:  # fmt: skip
    """A TD(0) critic update from a remembered transition (hippocampal replay)."""
    step = config.critic_lr * td_error(config, params, z, reward, z_next) / (1.0 + z @ z)
    return params._replace(critic_w=params.critic_w + step * z, critic_b=params.critic_b + step)


def _replay_optimizer(config: BasalGangliaConfig) -> optax.GradientTransformation:
    return optax.adam(config.replay_lr)


def init_replay(config: BasalGangliaConfig, params: BasalGangliaParams) -> optax.OptState:
    """The replay optimiser's state for the actor's weights."""
    return _replay_optimizer(config).init((params.actor_w, params.actor_b))


def advantages(config: BasalGangliaConfig, params: BasalGangliaParams, seq: Sequence) -> Array:
    """(T,) λ-returns of dopamine along the replayed stream, minus today's values: each δ is
    recomputed by today's critic, and credit does not cross an episode's end."""
    delta = td_error(config, params, seq.z, seq.rewards, seq.z_next)

    def back(later: Array, x: tuple[Array, Array]) -> tuple[Array, Array]:
        d, done = x
        now = d + config.gamma * config.replay_trace * (1.0 - done) * later
        return now, now

    return jax.lax.scan(back, jnp.float32(0), (delta, seq.dones), reverse=True)[1]


def replay_sequence(
    config: BasalGangliaConfig, params: BasalGangliaParams, opt_state: optax.OptState,
    seq: Sequence,
) -> tuple[BasalGangliaParams, optax.OptState]:  # fmt: skip
    """Re-learn the actor from a replayed stream: `replay_epochs` passes of the clipped
    policy-gradient objective (PPO's) on the policy the actions were drawn from, the other
    terms held as they were at each choice. The clip keeps replay close to what was lived."""
    adv = advantages(config, params, seq)
    optimizer = _replay_optimizer(config)

    def objective(actor: tuple[Array, Array]) -> Array:
        logits = (seq.z @ actor[0] + actor[1] + seq.prior) / config.temperature
        log_policy = jax.nn.log_softmax(logits)
        ratio = jnp.exp(jnp.take_along_axis(log_policy, seq.actions[:, None], 1)[:, 0]
                        - seq.log_policy)  # fmt: skip
        clipped = jnp.clip(ratio, 1.0 - config.replay_clip, 1.0 + config.replay_clip)
        entropy = -jnp.sum(jnp.exp(log_policy) * log_policy, -1)
        return -jnp.mean(jnp.minimum(ratio * adv, clipped * adv) + config.entropy * entropy)

    def epoch(carry, _):
        actor, opt_state = carry
        updates, opt_state = optimizer.update(jax.grad(objective)(actor), opt_state, actor)
        return (optax.apply_updates(actor, updates), opt_state), None

    actor = (params.actor_w, params.actor_b)
    (actor, opt_state), _ = jax.lax.scan(epoch, (actor, opt_state), None, config.replay_epochs)
    return params._replace(actor_w=actor[0], actor_b=actor[1]), opt_state
