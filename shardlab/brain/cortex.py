"""The cortex as a world model: encoder o → z and transition (z, a) → z′, with decoders that
predict the next observation and the next sensations.

It learns online by self-supervised prediction only. Reward never enters its loss, so its
geometry can be moved by data alone (seed 000: propaganda, culture, new information).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


@dataclass(frozen=True)
class CortexConfig:
    latent: int = 128  # wide enough for a linear readout: twice the food of 32 wide (foraging)
    lr: float = 0.02
    plastic: bool = True  # False freezes the world model (an ablation)


class CortexParams(NamedTuple):
    enc_w: Array  # (O, Z)
    enc_b: Array
    trans_w: Array  # (Z + A, Z)
    trans_b: Array
    obs_w: Array  # (Z, O) decode an observation from a latent
    obs_b: Array
    sens_w: Array  # (Z, S) decode the sensations a latent predicts
    sens_b: Array


def init(key: Array, config: CortexConfig, obs_size: int, n_actions: int, n_sens: int):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    z = config.latent

    def dense(k: Array, i: int, o: int) -> Array:
        return jax.random.normal(k, (i, o)) / jnp.sqrt(i)

    return CortexParams(
        dense(k1, obs_size, z), jnp.zeros(z),
        dense(k2, z + n_actions, z) * 0.5, jnp.zeros(z),
        dense(k3, z, obs_size) * 0.1, jnp.zeros(obs_size),
        dense(k4, z, n_sens) * 0.1, jnp.zeros(n_sens),
    )  # fmt: skip


def preactivation(params: CortexParams, obs: Array) -> Array:
    """The encoder's units before their nonlinearity (a layer steering can act on)."""
    return obs @ params.enc_w + params.enc_b


def encode(params: CortexParams, obs: Array) -> Array:
    return jnp.tanh(preactivation(params, obs))


def transition(params: CortexParams, z: Array, action: Array, n_actions: int) -> Array:
    """Imagine the latent after taking `action` (an int) from `z`."""
    za = jnp.concatenate([z, jax.nn.one_hot(action, n_actions)], -1)
    return jnp.tanh(za @ params.trans_w + params.trans_b)


def predict_sensations(params: CortexParams, z: Array) -> Array:
    return z @ params.sens_w + params.sens_b


def loss(
    params: CortexParams,
    obs: Array,
    action: Array,
    next_obs: Array,
    next_sens: Array,
    n_actions: int,
    boundary: Array,
) -> Array:
    """Self-supervised: reconstruct o, predict o′ and the sensations that arrive with it. At an
    episode's end (`boundary` 1) o′ is the next episode's first view, which nothing predicts;
    the sensations that arrived with the final contact are still learned."""
    z = encode(params, obs)
    z_next = transition(params, z, action, n_actions)
    recon = jnp.mean((z @ params.obs_w + params.obs_b - obs) ** 2)
    pred_obs = jnp.mean((z_next @ params.obs_w + params.obs_b - next_obs) ** 2)
    pred_sens = jnp.mean((predict_sensations(params, z_next) - next_sens) ** 2)
    # Keep the transition's target consistent with the encoder (stop-gradient target, as in
    # self-predictive representation learning).
    latent = jnp.mean((z_next - jax.lax.stop_gradient(encode(params, next_obs))) ** 2)
    return recon + pred_sens + (1.0 - boundary) * (pred_obs + latent)


def update(
    config: CortexConfig,
    params: CortexParams,
    obs: Array,
    action: Array,
    next_obs: Array,
    next_sens: Array,
    n_actions: int,
    boundary: Array,
) -> tuple[CortexParams, Array]:
    value, grads = jax.value_and_grad(loss)(
        params, obs, action, next_obs, next_sens, n_actions, boundary
    )
    lr = config.lr if config.plastic else 0.0
    return jax.tree.map(lambda p, g: p - lr * g, params, grads), value
