"""Prefrontal cortex: planning by imagination and conditioning (seeds 000, 002, 004).

Each candidate action is imagined through the world model's transition, and each imagined thought
is judged the only way the brain can judge a thought: by the steering subsystem's need-weighted
reading of the thought assessors' outputs, seen at the imagination gain. Nothing here decodes
sensations into the innate reward function, so the PFC plans through what the agent has learned
to value: an electrode it never felt is invisible to it; one it has felt is predicted by the
stimulation assessor, and is not. Planning can be conditioned on a value concept (a goal vector,
e.g. a mean latent or a language concept).

In reflective mode (goal-content integrity, seed 004) the PFC also predicts the learning update
that an action would cause to its own actor (credit assignment reinforcing whatever the imagined
valence follows) and scores that imagined future self by its *current* valuation: would the self
I become still steer towards what I now value?
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from shardlab.brain import assessors as assessors_
from shardlab.brain import basal_ganglia as bg
from shardlab.brain import cortex as cortex_

Array = jax.Array


@dataclass(frozen=True)
class PFCConfig:
    weight: float = 1.0  # weight of plan scores in action selection (0: no planning)
    horizon: int = 2
    gamma: float = 0.9
    goal_weight: float = 0.0  # conditioning plans on the value concept (the goal vector)
    goal_reward: float = 0.0  # the cortical pseudo-reward loop: reward thoughts that match it
    reflective: bool = False
    reflect_weight: float = 1.0
    # How many repetitions of the imagined online update the future self has. 200 online steps
    # at the actor's rate (0.1) move it as far as the 20 at rate 1.0 this was set for, before
    # sequence replay took over most of the actor's learning.
    reflect_repeats: float = 200.0


class Brain(NamedTuple):
    """The learned parts the PFC imagines with (read-only here)."""

    cortex: cortex_.CortexParams
    assessors: assessors_.AssessorParams
    basal_ganglia: bg.BasalGangliaParams


class Plan(NamedTuple):
    scores: Array  # (A,) score of each first action
    imagined: Array  # (A, k) cortical channels of each first imagined thought, at the gain


def match(z: Array, goal: Array) -> Array:
    """Cosine similarity of a thought to the value concept (0 while there is none)."""
    return z @ goal / (jnp.linalg.norm(z, axis=-1) * jnp.linalg.norm(goal) + 1e-8)


def thought_value(
    config: PFCConfig,
    assessor_config: assessors_.AssessorConfig,
    assessors: assessors_.AssessorParams,
    reading: Array,
    gain: Array,
    zs: Array,
    goal: Array,
) -> Array:
    """How the PFC values imagined thoughts `zs`: `reading` (the steering subsystem's weights at
    the current need) applied to the assessors' outputs at the source's `gain`, plus the match
    to the goal."""
    channels = gain * assessors_.predict(assessor_config, assessors, zs)
    return channels @ reading + config.goal_weight * match(zs, goal)


def plan(
    config: PFCConfig,
    assessor_config: assessors_.AssessorConfig,
    bg_config: bg.BasalGangliaConfig,
    brain: Brain,
    reading: Array,
    gain: Array,
    z: Array,
    goal: Array,
    references: Array,
) -> Plan:
    """Score each first action by an imagined rollout (own greedy actor after the first step):
    Σₕ γʰ·valence(ẑₕ), the valence being `reading` (the steering subsystem's weights at the
    current need) applied to the assessors' outputs at the imagination `gain`, plus the match to
    the goal; and, when `reflective`, the reflective score of the future self."""
    n_actions = brain.basal_ganglia.actor_b.shape[0]

    def value(zs: Array) -> Array:
        return thought_value(config, assessor_config, brain.assessors, reading, gain, zs, goal)

    first = jax.vmap(lambda a: cortex_.transition(brain.cortex, z, a, n_actions))(
        jnp.arange(n_actions)
    )

    def imagine(carry: tuple[Array, Array], h: Array) -> tuple[tuple[Array, Array], None]:
        zs, score = carry
        greedy = jnp.argmax(bg.actor_logits(brain.basal_ganglia, zs), -1)
        zs = jax.vmap(lambda zz, a: cortex_.transition(brain.cortex, zz, a, n_actions))(zs, greedy)
        return (zs, score + config.gamma**h * value(zs)), None

    (_, scores), _ = jax.lax.scan(imagine, (first, value(first)), jnp.arange(1, config.horizon))
    if config.reflective:
        scores = scores + config.reflect_weight * reflective_scores(
            config, assessor_config, bg_config, reading, brain, z, first, value(first), references
        )
    return Plan(scores, gain * assessors_.predict(assessor_config, brain.assessors, first))


def reflective_scores(
    config: PFCConfig,
    assessor_config: assessors_.AssessorConfig,
    bg_config: bg.BasalGangliaConfig,
    reading: Array,
    brain: Brain,
    z: Array,
    imagined: Array,
    imagined_values: Array,
    references: Array,
) -> Array:
    """How much better (by current values) the future self would steer after each action.

    For action a: the predicted dopamine δ_a = v̂ + γV(z′_a) − V(z) reinforces a at z with the
    actor's own normalised step, Δθ = lr·repeats·δ_a·∇log π(a|z)/(1 + |z|²); the future actor
    θ + Δθ is then rated on remembered situations by the current valuation of where it would
    lead. The PFC models its actor's policy as the actor's own softmax: it cannot include its
    own plans in the policy it is planning for."""
    p = brain.basal_ganglia
    n_actions = p.actor_b.shape[0]
    temperature = bg_config.temperature
    delta = (
        imagined_values
        + bg_config.gamma * jax.vmap(lambda zz: bg.value(p, zz))(imagined)
        - bg.value(p, z)
    )
    policy = jax.nn.softmax(bg.actor_logits(p, z) / temperature)
    grad_logp = jax.vmap(lambda a: bg.log_policy_gradient(policy, a, temperature))(
        jnp.arange(n_actions)
    )  # (A, A)
    step = bg_config.actor_lr * config.reflect_repeats * delta / (1.0 + z @ z)  # (A,)
    # Where each action leads from each remembered situation, valued by the current assessors.
    outcomes = jax.vmap(
        lambda r: jax.vmap(lambda a: cortex_.transition(brain.cortex, r, a, n_actions))(
            jnp.arange(n_actions)
        )
    )(references)  # (R, A, Z)
    value_now = assessors_.predict(assessor_config, brain.assessors, outcomes) @ reading  # (R, A)

    def steer_quality(actor_w: Array, actor_b: Array) -> Array:
        policy = jax.nn.softmax((references @ actor_w + actor_b) / temperature)  # (R, A)
        return jnp.mean(jnp.sum(policy * value_now, -1))

    now = steer_quality(p.actor_w, p.actor_b)
    future = jax.vmap(
        lambda s, g: steer_quality(p.actor_w + s * jnp.outer(z, g), p.actor_b + s * g)
    )(step, grad_logp)
    return future - now
