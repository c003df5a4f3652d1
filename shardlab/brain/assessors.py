"""Thought assessors: heads on the latent z that predict each steering channel's discounted
future. They are the reward model over the latent space (seed 000): valence is an innate
weighting of their outputs, so it generalises by geometry and bleeds between nearby concepts.
Their outputs are the cortex's output channels — the only window the steering subsystem has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


@dataclass(frozen=True)
class AssessorConfig:
    gamma: float = 0.8
    lr: float = 0.3
    enabled: bool = True  # disabled: the cortex issues nothing


class AssessorParams(NamedTuple):
    w: Array  # (Z, k)
    b: Array  # (k,)


def init(latent: int, k: int) -> AssessorParams:
    return AssessorParams(jnp.zeros((latent, k)), jnp.zeros(k))


def predict(config: AssessorConfig, params: AssessorParams, z: Array) -> Array:
    out = z @ params.w + params.b
    return out if config.enabled else jnp.zeros_like(out)


def valence(config: AssessorConfig, params: AssessorParams, z: Array, weights: Array) -> Array:
    """The learned value of a thought: the innate valence weights applied to predicted reactions."""
    return predict(config, params, z) @ weights


def update(
    config: AssessorConfig,
    params: AssessorParams,
    z: Array,
    target_now: Array,
    z_next: Array,
) -> tuple[AssessorParams, Array]:
    """TD(0) towards the steering subsystem's ground truth: A(z) ← y′ + γ·A(z′)."""
    z = jax.lax.stop_gradient(z)
    target = target_now + config.gamma * (z_next @ params.w + params.b)
    error = jax.lax.stop_gradient(target) - (z @ params.w + params.b)
    # Normalised (NLMS) step, as in the basal ganglia: stable whatever the latent's width.
    lr = (config.lr if config.enabled else 0.0) / (1.0 + z @ z)
    return AssessorParams(params.w + lr * jnp.outer(z, error), params.b + lr * error), error
