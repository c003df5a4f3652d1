"""Prefrontal cortex: planning by imagination and conditioning (seeds 000, 002, 004).

Each candidate action is imagined through the world model's transition; the steering subsystem
scores the imagined future from the cortex's output channels seen at an imagination gain below
1, optionally plus the similarity to a goal/value concept vector (planning as conditioning).

In reflective mode (goal-content integrity, seed 004) the PFC also predicts the learning update
that an action would cause to its own actor — credit assignment reinforcing whatever the imagined
reward follows — and scores that imagined future self with its *current* assessors: would the
self I become still steer towards what I now value?
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from shardlab.brain import assessors as assessors_
from shardlab.brain import basal_ganglia as bg
from shardlab.brain import cortex as cortex_
from shardlab.brain import steering as steering_

Array = jax.Array


@dataclass(frozen=True)
class PFCConfig:
    weight: float = 1.0  # weight of plan scores in action selection (0: no planning)
    horizon: int = 2
    imagination_gain: float = 0.5  # < 1: imagined reactions are weaker than predicted ones
    gamma: float = 0.9
    goal_weight: float = 0.0  # conditioning on a goal/value concept vector
    reflective: bool = False
    reflect_weight: float = 1.0
    reflect_repeats: float = 20.0  # how many repetitions of the imagined update the future self has


class Brain(NamedTuple):
    """The learned parts the PFC imagines with (read-only here)."""

    cortex: cortex_.CortexParams
    assessors: assessors_.AssessorParams
    basal_ganglia: bg.BasalGangliaParams


def imagined_reward(
    config: PFCConfig,
    steering_config: steering_.SteeringConfig,
    steering_state: steering_.SteeringState,
    assessor_config: assessors_.AssessorConfig,
    brain: Brain,
    z: Array,
    goal: Array,
) -> Array:
    sens = cortex_.predict_sensations(brain.cortex, z)
    issued = assessors_.predict(assessor_config, brain.assessors, z)
    reward = steering_.imagined_reward(
        steering_config, steering_state, sens, issued, config.imagination_gain
    )
    cos = z @ goal / (jnp.linalg.norm(z) * jnp.linalg.norm(goal) + 1e-8)
    return reward + config.goal_weight * cos


def plan_scores(
    config: PFCConfig,
    steering_config: steering_.SteeringConfig,
    steering_state: steering_.SteeringState,
    assessor_config: assessors_.AssessorConfig,
    bg_config: bg.BasalGangliaConfig,
    brain: Brain,
    z: Array,
    goal: Array,
    references: Array,
) -> Array:
    """(A,) score of each first action: an imagined rollout (own greedy policy after the first
    step), plus the reflective score of the future self when `reflective`."""
    n_actions = brain.basal_ganglia.actor_b.shape[0]
    reward_of = jax.vmap(
        lambda zz: imagined_reward(
            config, steering_config, steering_state, assessor_config, brain, zz, goal
        )
    )
    first = jax.vmap(lambda a: cortex_.transition(brain.cortex, z, a, n_actions))(
        jnp.arange(n_actions)
    )

    def imagine(carry: tuple[Array, Array], h: Array) -> tuple[tuple[Array, Array], None]:
        zs, score = carry
        greedy = jnp.argmax(bg.actor_logits(brain.basal_ganglia, zs), -1)
        zs = jax.vmap(lambda zz, a: cortex_.transition(brain.cortex, zz, a, n_actions))(zs, greedy)
        return (zs, score + config.gamma**h * reward_of(zs)), None

    (_, scores), _ = jax.lax.scan(
        imagine, (first, reward_of(first)), jnp.arange(1, config.horizon)
    )
    if config.reflective:
        scores = scores + config.reflect_weight * reflective_scores(
            config, assessor_config, bg_config, steering_state.valence, brain, z, first,
            reward_of(first), references,
        )  # fmt: skip
    return scores


def reflective_scores(
    config: PFCConfig,
    assessor_config: assessors_.AssessorConfig,
    bg_config: bg.BasalGangliaConfig,
    weights: Array,
    brain: Brain,
    z: Array,
    imagined: Array,
    imagined_rewards: Array,
    references: Array,
) -> Array:
    """How much better (by current values) the future self would steer after each action.

    For action a: the predicted dopamine δ_a = r̂ + γV(z′_a) − V(z) reinforces a at z
    (Δθ = lr·repeats·δ_a·∇log π(a|z)); the future actor θ + Δθ is then rated on remembered
    situations by the current assessors' valence of where it would lead."""
    p = brain.basal_ganglia
    n_actions = p.actor_b.shape[0]
    delta = (
        imagined_rewards
        + bg_config.gamma * jax.vmap(lambda zz: bg.value(p, zz))(imagined)
        - bg.value(p, z)
    )
    grad_logp = jnp.eye(n_actions) - jax.nn.softmax(bg.actor_logits(p, z))  # (A, A)
    step = bg_config.actor_lr * config.reflect_repeats * delta  # (A,)
    # Where each action leads from each remembered situation, valued by the current assessors.
    outcomes = jax.vmap(
        lambda r: jax.vmap(lambda a: cortex_.transition(brain.cortex, r, a, n_actions))(
            jnp.arange(n_actions)
        )
    )(references)  # (R, A, Z)
    value_now = assessors_.predict(assessor_config, brain.assessors, outcomes) @ weights  # (R, A)

    def steer_quality(actor_w: Array, actor_b: Array) -> Array:
        policy = jax.nn.softmax(references @ actor_w + actor_b)  # (R, A)
        return jnp.mean(jnp.sum(policy * value_now, -1))

    now = steer_quality(p.actor_w, p.actor_b)
    future = jax.vmap(
        lambda s, g: steer_quality(p.actor_w + s * jnp.outer(z, g), p.actor_b + s * g)
    )(step, grad_logp)
    return future - now
