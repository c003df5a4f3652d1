"""Steering vectors: directions in an agent's activations, found from contrasting inputs and added
back with a coefficient while the agent acts (activation addition, as in the shard-theory team's
cheese vector and the refusal direction; names after the `steering-vectors` library).

Where to steer: the cortex's pre-activation ("pre", before the latent's tanh). The basal
ganglia's actor is linear in z, so an offset added to z after the tanh moves each action's logit
by the same amount in every state: a constant bias, which would change behaviour whatever the
latent represents. Added before the tanh, the offset moves z by about tanh′(pre)·offset, which
depends on the state (a saturated unit barely moves), so what it does to behaviour is a fact
about the agent's representation.

Find a direction with `mean_difference` of `activations` (mean with a feature − mean without) or
`pca_direction`; its controls are `random_like` (random directions of equal norm). `dose_rollout`
runs the steered agents closed loop, every direction and coefficient in one batched population:
offsets are data, so one compiled program serves them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from shardlab.analysis import probes
from shardlab.brain import agent as agent_
from shardlab.brain import cortex as cortex_
from shardlab.brain import population
from shardlab.errors import ShardlabError
from shardlab.worlds.engine import EnvParams, World


@dataclass(frozen=True, eq=False)
class SteeringVector:
    """A direction in one named layer (`probes.LAYERS`); `name` says what it was made from."""

    direction: np.ndarray  # (W,), or (..., W): one per agent of a population
    layer: str = "pre"
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
    latents_pos: ArrayLike, latents_neg: ArrayLike, layer: str = "pre", name: str = ""
) -> SteeringVector:
    """mean(activations with the feature) − mean(without): the activation-addition vector.

    Activations are (n, W), or (..., n, W) for one vector per agent. The two sets need not be
    paired; pairing them (same situation, feature on/off) removes what the feature does not
    change."""
    pos, neg = np.asarray(latents_pos, float), np.asarray(latents_neg, float)
    if pos.ndim < 2 or pos.shape[:-2] != neg.shape[:-2] or pos.shape[-1] != neg.shape[-1]:
        raise ValueError(f"latents must be (..., n, W) alike, got {pos.shape} and {neg.shape}")
    return SteeringVector(pos.mean(-2) - neg.mean(-2), layer, name)


def pca_direction(
    latents_pos: ArrayLike, latents_neg: ArrayLike, layer: str = "pre", name: str = ""
) -> SteeringVector:
    """First principal direction of the paired differences (uncentred, as in representation
    engineering: the axis along which the pairs differ most), signed to agree with their mean
    and scaled to the mean difference's projection on it (comparable to `mean_difference`)."""
    diff = np.asarray(latents_pos, float) - np.asarray(latents_neg, float)
    if diff.ndim != 2:
        raise ValueError(f"paired latents must be (n, W), got differences of shape {diff.shape}")
    mean = diff.mean(0)
    _, _, vt = np.linalg.svd(diff, full_matrices=False)
    pc = vt[0]
    scale = float(mean @ pc)
    if scale < 0:
        pc, scale = -pc, -scale
    return SteeringVector(pc * scale, layer, name)


def random_like(vector: SteeringVector, key: jax.Array, n: int | None = None) -> SteeringVector:
    """Uniformly random direction(s) with the same norm(s) and layer: the control for a vector.
    With `n`, n of them for each direction: shape (..., n, W)."""
    shape = vector.direction.shape if n is None else (*vector.direction.shape[:-1], n,
                                                      vector.direction.shape[-1])  # fmt: skip
    u = np.asarray(jax.random.normal(key, shape), float)
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    norm = vector.norm[..., None] if n is None else vector.norm[..., None, None]
    name = f"random ({vector.name})" if vector.name else "random"
    return SteeringVector(u * norm, vector.layer, name)


def activations(agents: agent_.AgentState, obs: ArrayLike, layer: str = "pre") -> np.ndarray:
    """(N, n, W): each agent's activations of observations (n, O) at a steerable layer, in one
    compiled call; W is the layer's own width."""
    if layer not in probes.LAYERS:
        raise ShardlabError(f"no layer {layer!r} to steer; known: {list(probes.LAYERS)}")
    return np.asarray(_activations(layer)(agents.cortex, jnp.asarray(obs, jnp.float32)))


@cache
def _activations(layer: str):
    encode = cortex_.preactivation if layer == "pre" else cortex_.encode
    return jax.jit(jax.vmap(encode, in_axes=(0, None)))


def dose_rollout(
    world: World,
    params: EnvParams,
    config: agent_.AgentConfig,
    agents: agent_.AgentState,
    key: jax.Array,
    steps: int,
    offsets: ArrayLike,
    layer: str = "pre",
) -> population.Log:
    """Closed-loop episodes, learning off, of every agent under each of R offsets (N, R, W).

    The population is tiled to N·R agents (agent i's copy r at i·R + r) and run as one batch,
    so all directions and coefficients share one compiled program and one pass. Returns the
    log with its agent axis split: (T, N, R, …) arrays."""
    offsets = np.asarray(offsets, np.float32)
    n, r = offsets.shape[:2]
    if n != agents.action.shape[0]:
        raise ValueError(f"offsets for {n} agents, population of {agents.action.shape[0]}")
    tiled = jax.tree.map(lambda x: jnp.repeat(x, r, axis=0), agents)
    life = probes.rollout(world, params, config, tiled, key, steps, learn=False,
                          steer={layer: offsets.reshape(n * r, -1)}, chunk=steps)  # fmt: skip
    return jax.tree.map(lambda x: np.asarray(x).reshape(x.shape[0], n, r, *x.shape[2:]), life.log)
