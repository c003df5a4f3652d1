"""Hippocampus: a fixed-capacity episodic memory of (o, a, reactions, reward, o′) with similarity
retrieval, used for episodic value (what happened last time I was somewhere like this), replay
(re-learning values from remembered transitions) and recall (the remembered reactions, re-felt
through the steering subsystem at the memory gain). Beside it, a `Sequence` keeps the recent stream
in order, which is replayed whole to the actor (sequence replay).

It keeps what was seen as well as the latent it was seen as (the retrieval key). The cortex
keeps learning, so a replayed memory is re-encoded by today's cortex (reconsolidation): replay
learns from fresh latents, and the keys are refreshed as their memories are replayed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import jax
import jax.numpy as jnp

Array = jax.Array
Buffer = TypeVar("Buffer", "Memory", "Sequence")


@dataclass(frozen=True)
class HippocampusConfig:
    capacity: int = 64
    replay: int = 4  # remembered transitions re-learned per step
    temperature: float = 0.1  # sharpness of similarity retrieval
    episodic_weight: float = 0.5  # weight of episodic value in action selection
    enabled: bool = True
    sequence: int = 256  # ticks of the recent stream kept in order for sequence replay (0: none)

    @property
    def replays_sequences(self) -> bool:
        return self.enabled and self.sequence > 0


class Memory(NamedTuple):
    obs: Array  # (M, O)
    keys: Array  # (M, Z) the latent each was seen as, refreshed when it is replayed
    actions: Array  # (M,)
    rewards: Array  # (M,)
    reactions: Array  # (M, k) the reaction channels that came with the transition
    next_obs: Array  # (M, O)
    next_keys: Array  # (M, Z)
    filled: Array  # (M,) bool
    cursor: Array  # ()


def init(config: HippocampusConfig, obs_size: int, latent: int, k: int) -> Memory:
    m = config.capacity
    return Memory(
        jnp.zeros((m, obs_size)), jnp.zeros((m, latent)), jnp.zeros(m, jnp.int32), jnp.zeros(m),
        jnp.zeros((m, k)), jnp.zeros((m, obs_size)), jnp.zeros((m, latent)), jnp.zeros(m, bool),
        jnp.int32(0),
    )  # fmt: skip


def _push(buffer: Buffer, *row: Array | bool) -> Buffer:
    """Write one row at a ring buffer's cursor (its last field), overwriting the oldest when
    full; the cursor wraps to 0."""
    i = buffer.cursor
    arrays = [a.at[i].set(v) for a, v in zip(buffer[:-1], row, strict=True)]
    return type(buffer)(*arrays, (i + 1) % buffer[0].shape[0])


def write(
    memory: Memory, obs: Array, z: Array, action: Array, reward: Array, reactions: Array,
    next_obs: Array, z_next: Array,
) -> Memory:  # fmt: skip
    """Store one transition, overwriting the oldest when full (a ring buffer)."""
    return _push(memory, obs, z, action, reward, reactions, next_obs, z_next, True)


def reconsolidate(memory: Memory, idx: Array, z: Array, z_next: Array) -> Memory:
    """Replace the keys of replayed memories `idx` by their latents under today's cortex."""
    return memory._replace(keys=memory.keys.at[idx].set(z),
                           next_keys=memory.next_keys.at[idx].set(z_next))  # fmt: skip


def similarity(memory: Memory, query: Array) -> Array:
    """Cosine similarity of the query to every stored key (−inf where empty)."""
    norm = jnp.linalg.norm(memory.keys, axis=-1) * jnp.linalg.norm(query) + 1e-8
    return jnp.where(memory.filled, memory.keys @ query / norm, -jnp.inf)


def retrieve(memory: Memory, query: Array) -> Array:
    """Index of the nearest stored key."""
    return jnp.argmax(similarity(memory, query))


def recall(memory: Memory, query: Array) -> Array:
    """(k,) the reactions remembered with the nearest memory (zeros while memory is empty)."""
    i = retrieve(memory, query)
    return jnp.where(memory.filled[i], memory.reactions[i], 0.0)


def episodic_values(
    config: HippocampusConfig, memory: Memory, query: Array, next_values: Array, gamma: float,
    n_actions: int,
) -> Array:  # fmt: skip
    """Per action, the similarity-weighted remembered outcome r + γ·V(z′) of that action."""
    weights = jax.nn.softmax(similarity(memory, query) / config.temperature)
    weights = jnp.where(memory.filled, weights, 0.0)
    outcome = memory.rewards + gamma * next_values
    by_action = jax.nn.one_hot(memory.actions, n_actions) * weights[:, None]  # (M, A)
    return (by_action.T @ outcome) / (by_action.sum(0) + 1e-3)


def sample(key: Array, memory: Memory, n: int) -> tuple[Array, Array]:
    """Indices of n remembered transitions, and whether each slot actually holds one."""
    idx = jax.random.randint(key, (n,), 0, memory.obs.shape[0])
    return idx, memory.filled[idx]


class Sequence(NamedTuple):
    """The last ticks in order, as lived: what the actor's sequence replay learns from."""

    z: Array  # (T, Z) the latent an action was chosen in
    z_next: Array  # (T, Z) the latent that followed it
    actions: Array  # (T,)
    prior: Array  # (T, A) the policy's other terms (habit, PFC, episodic) at that choice
    log_policy: Array  # (T,) log-probability of the action under the policy that drew it
    rewards: Array  # (T,)
    dones: Array  # (T,) whether the episode ended with that tick
    cursor: Array  # () the next slot; back at 0 when the sequence is full


def init_sequence(length: int, latent: int, n_actions: int) -> Sequence:
    t = max(length, 1)  # a disabled sequence keeps one idle slot, so the state's shape is fixed
    return Sequence(jnp.zeros((t, latent)), jnp.zeros((t, latent)), jnp.zeros(t, jnp.int32),
                    jnp.zeros((t, n_actions)), jnp.zeros(t), jnp.zeros(t), jnp.zeros(t),
                    jnp.int32(0))  # fmt: skip


def record(
    sequence: Sequence, z: Array, z_next: Array, action: Array, prior: Array, log_policy: Array,
    reward: Array, done: Array,
) -> Sequence:  # fmt: skip
    """Append one tick; the cursor wraps to 0 when the sequence is full (time to replay it)."""
    return _push(sequence, z, z_next, action, prior, log_policy, reward, done)
