"""Thought assessors: heads on the latent z that predict each raw reaction channel a few ticks
ahead (Byrnes's short-term predictors). They are the reward model over the latent space (seed
000): the steering subsystem weighs their outputs by the body's needs into the valence of a
thought, so valence generalises by geometry and bleeds between nearby concepts.

Predicting a reaction is not issuing it (seed 002). An issue gate decides, per channel the cortex
has a knob for, whether the prediction is also issued to the body. The gate is an action like
any other: sampled, and reinforced by dopamine, which pays for issuing only through the steering
subsystem's anticipation criterion (or through what an issued reaction does to the body)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


@dataclass(frozen=True)
class AssessorConfig:
    gamma: float = 0.8  # a short horizon: about five ticks ahead
    lr: float = 0.3
    gate_lr: float = 1.0
    passive: float = 0.1  # the untrained gate's probability of issuing a predicted reaction
    enabled: bool = True  # disabled: the cortex predicts and issues nothing


class AssessorParams(NamedTuple):
    w: Array  # (Z, k)
    b: Array  # (k,)
    gate_w: Array  # (Z, k)
    gate_b: Array  # (k,)


def init(config: AssessorConfig, latent: int, k: int) -> AssessorParams:
    passive = jnp.log(config.passive / (1.0 - config.passive))
    return AssessorParams(jnp.zeros((latent, k)), jnp.zeros(k), jnp.zeros((latent, k)),
                          jnp.full(k, passive, jnp.float32))  # fmt: skip


def predict(config: AssessorConfig, params: AssessorParams, z: Array) -> Array:
    out = z @ params.w + params.b
    return out if config.enabled else jnp.zeros_like(out)


def gate(params: AssessorParams, z: Array) -> Array:
    """(k,) the probability of issuing each channel's prediction."""
    return jax.nn.sigmoid(z @ params.gate_w + params.gate_b)


def issue(
    config: AssessorConfig, params: AssessorParams, z: Array, knobs: Array, key: Array
) -> tuple[Array, Array]:
    """Sample the gate on the channels with a knob (`knobs`, (k,) 0/1). Returns the decisions
    (k,) and what is issued: the prediction, clipped to [0, 1], where the gate opened."""
    opened = (jax.random.uniform(key, knobs.shape) < gate(params, z)) * knobs
    return opened, opened * jnp.clip(predict(config, params, z), 0.0, 1.0)


def update(
    config: AssessorConfig,
    params: AssessorParams,
    z: Array,
    target_now: Array,
    z_next: Array,
) -> tuple[AssessorParams, Array]:
    """TD(0) towards the steering subsystem's ground truth: A(z) ← y′ + γ·A(z′). A silent
    detector is ground truth too (the reaction did not happen), so an unconfirmed prediction
    extinguishes; deferring to the prediction is only the bootstrap through A(z′)."""
    z = jax.lax.stop_gradient(z)
    # Both thoughts in one product: under a population's vmap a product is a batched matrix
    # product that costs about as much for two rows as for one (replay makes four a tick).
    now, later = jnp.stack([z, z_next]) @ params.w + params.b
    target = target_now + config.gamma * later
    error = jax.lax.stop_gradient(target) - now
    # Normalised (NLMS) step, as in the basal ganglia: stable whatever the latent's width.
    lr = (config.lr if config.enabled else 0.0) / (1.0 + z @ z)
    return params._replace(w=params.w + lr * jnp.outer(z, error), b=params.b + lr * error), error


def update_gate(
    config: AssessorConfig, params: AssessorParams, z: Array, opened: Array, knobs: Array,
    delta: Array,
) -> AssessorParams:  # fmt: skip
    """REINFORCE on the issue decisions taken at z, with dopamine δ as the advantage."""
    z = jax.lax.stop_gradient(z)
    grad = (opened - gate(params, z)) * knobs  # ∂ log P(decisions) / ∂ gate logits
    lr = (config.gate_lr if config.enabled else 0.0) * delta / (1.0 + z @ z)
    return params._replace(gate_w=params.gate_w + lr * jnp.outer(z, grad),
                           gate_b=params.gate_b + lr * grad)  # fmt: skip
