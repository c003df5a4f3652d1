"""Steering vectors: directions in an agent's latent space, found from contrasting activations and
added back with a coefficient to change behaviour (activation addition, as in the shard-theory
team's cheese-vector and language-model work; API modelled on the `steering-vectors` library).

Find a direction with `mean_difference` (mean latent with a feature − mean latent without it) or
`pca_direction`; make its control with `random_like` (a random direction of equal norm). Apply it
in a block:

    with steer(cheese_vector, -1.0):
        probs = cheese_maze.action_probabilities(agents, obs)  # reads current_offset("z", …)

Why an explicit offset rather than a patched `cortex.encode`: jit caches traces, so a hook read
while tracing would freeze the first coefficient into the compiled code. Instead `steer` pushes
onto a small registry that `current_offset` reads *on the host, at call time*; the caller passes
the offset into its jitted function as an ordinary argument (see `steered_logits`), so one
compilation serves every coefficient and direction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import jax
import numpy as np
from numpy.typing import ArrayLike

from shardlab.brain import agent as agent_
from shardlab.brain import cortex as cortex_


@dataclass(frozen=True, eq=False)
class SteeringVector:
    """A direction in one named latent ("layer"); `name` says what it was made from."""

    direction: np.ndarray  # (Z,), or (..., Z): one per agent of a population
    layer: str = "z"
    name: str = ""

    @property
    def norm(self) -> np.ndarray:
        """The direction's length (per agent for a batch of directions)."""
        return np.linalg.norm(self.direction, axis=-1)

    def normalised(self) -> SteeringVector:
        """Unit-norm direction(s); a zero vector stays zero."""
        norm = self.norm[..., None]
        return SteeringVector(self.direction / np.where(norm > 0, norm, 1.0), self.layer, self.name)


def mean_difference(
    latents_pos: ArrayLike, latents_neg: ArrayLike, layer: str = "z", name: str = ""
) -> SteeringVector:
    """mean(latents with the feature) − mean(latents without): the activation-addition vector.

    Latents are (n, Z), or (..., n, Z) for one vector per agent. The two sets need not be
    paired; pairing them (same situation, feature on/off) removes what the feature does not
    change."""
    pos, neg = np.asarray(latents_pos, float), np.asarray(latents_neg, float)
    if pos.ndim < 2 or pos.shape[:-2] != neg.shape[:-2] or pos.shape[-1] != neg.shape[-1]:
        raise ValueError(f"latents must be (..., n, Z) alike, got {pos.shape} and {neg.shape}")
    return SteeringVector(pos.mean(-2) - neg.mean(-2), layer, name)


def pca_direction(
    latents_pos: ArrayLike, latents_neg: ArrayLike, layer: str = "z", name: str = ""
) -> SteeringVector:
    """First principal direction of the paired differences (uncentred, as in representation
    engineering: the axis along which the pairs differ most), signed to agree with their mean
    and scaled to the mean difference's projection on it (comparable to `mean_difference`)."""
    diff = np.asarray(latents_pos, float) - np.asarray(latents_neg, float)
    if diff.ndim != 2:
        raise ValueError(f"paired latents must be (n, Z), got differences of shape {diff.shape}")
    mean = diff.mean(0)
    _, _, vt = np.linalg.svd(diff, full_matrices=False)
    pc = vt[0]
    scale = float(mean @ pc)
    if scale < 0:
        pc, scale = -pc, -scale
    return SteeringVector(pc * scale, layer, name)


def random_like(vector: SteeringVector, key: jax.Array) -> SteeringVector:
    """Uniformly random direction(s) with the same norm(s) and layer: the control for a vector."""
    u = np.asarray(jax.random.normal(key, vector.direction.shape), float)
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    name = f"random ({vector.name})" if vector.name else "random"
    return SteeringVector(u * vector.norm[..., None], vector.layer, name)


_ACTIVE: list[tuple[SteeringVector, float]] = []


@contextmanager
def steer(vector: SteeringVector, coefficient: float) -> Iterator[SteeringVector]:
    """Within the block, `current_offset(vector.layer, …)` includes coefficient·direction.

    Blocks nest (offsets add); the registry is restored on exit, exceptions included."""
    _ACTIVE.append((vector, float(coefficient)))
    try:
        yield vector
    finally:
        _ACTIVE.pop()


def current_offset(layer: str, shape: tuple[int, ...]) -> np.ndarray:
    """The summed offset of every active steering block on `layer`, broadcast to `shape`
    (e.g. (agents, Z)); zeros outside any block."""
    offset = np.zeros(shape)
    for vector, coefficient in _ACTIVE:
        if vector.layer != layer:
            continue
        try:
            offset = offset + np.broadcast_to(coefficient * vector.direction, shape)
        except ValueError:
            raise ValueError(
                f"steering vector of shape {vector.direction.shape} does not fit "
                f"latent {layer!r} of shape {shape}"
            ) from None
    return offset


def steered_logits(
    config: agent_.AgentConfig, state: agent_.AgentState, obs: jax.Array, offset: jax.Array
) -> jax.Array:
    """The agent's action logits with `offset` added to its latent z (jit- and vmap-friendly)."""
    z = cortex_.encode(state.cortex, obs) + offset
    return agent_.policy_logits(config, state, z)
