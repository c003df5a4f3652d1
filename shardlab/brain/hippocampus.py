"""Hippocampus: a fixed-capacity episodic memory of (o, a, reactions, reward, o′) with similarity
retrieval, used for episodic value (what happened last time I was somewhere like this), replay
(re-learning values from remembered transitions) and recall (the remembered reactions, re-felt
through the steering subsystem at the memory gain).

It stores what was seen, not the latents it was seen as: the cortex keeps learning, so a memory
is re-encoded by today's cortex whenever it is used (`keys` below), never by a stale one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


@dataclass(frozen=True)
class HippocampusConfig:
    capacity: int = 64
    replay: int = 4  # remembered transitions re-learned per step
    temperature: float = 0.1  # sharpness of similarity retrieval
    episodic_weight: float = 0.5  # weight of episodic value in action selection
    enabled: bool = True


class Memory(NamedTuple):
    obs: Array  # (M, O)
    actions: Array  # (M,)
    rewards: Array  # (M,)
    reactions: Array  # (M, k) the raw reaction channels that came with the transition
    next_obs: Array  # (M, O)
    filled: Array  # (M,) bool
    cursor: Array  # ()


def init(config: HippocampusConfig, obs_size: int, k: int) -> Memory:
    m = config.capacity
    return Memory(
        jnp.zeros((m, obs_size)), jnp.zeros(m, jnp.int32), jnp.zeros(m), jnp.zeros((m, k)),
        jnp.zeros((m, obs_size)), jnp.zeros(m, bool), jnp.int32(0),
    )  # fmt: skip


def write(
    memory: Memory, obs: Array, action: Array, reward: Array, reactions: Array, next_obs: Array
) -> Memory:
    """Store one transition, overwriting the oldest when full (a ring buffer)."""
    i = memory.cursor
    return Memory(
        memory.obs.at[i].set(obs),
        memory.actions.at[i].set(action),
        memory.rewards.at[i].set(reward),
        memory.reactions.at[i].set(reactions),
        memory.next_obs.at[i].set(next_obs),
        memory.filled.at[i].set(True),
        (i + 1) % memory.obs.shape[0],
    )


def similarity(memory: Memory, keys: Array, query: Array) -> Array:
    """Cosine similarity of the query to every memory's key, its observation as encoded now
    (−inf where empty)."""
    norm = jnp.linalg.norm(keys, axis=-1) * jnp.linalg.norm(query) + 1e-8
    return jnp.where(memory.filled, keys @ query / norm, -jnp.inf)


def retrieve(memory: Memory, keys: Array, query: Array) -> Array:
    """Index of the nearest memory."""
    return jnp.argmax(similarity(memory, keys, query))


def recall(memory: Memory, keys: Array, query: Array) -> Array:
    """(k,) the reactions remembered with the nearest memory (zeros while memory is empty)."""
    i = retrieve(memory, keys, query)
    return jnp.where(memory.filled[i], memory.reactions[i], 0.0)


def episodic_values(
    config: HippocampusConfig, memory: Memory, keys: Array, query: Array, next_values: Array,
    gamma: float, n_actions: int,
) -> Array:  # fmt: skip
    """Per action, the similarity-weighted remembered outcome r + γ·V(z′) of that action."""
    weights = jax.nn.softmax(similarity(memory, keys, query) / config.temperature)
    weights = jnp.where(memory.filled, weights, 0.0)
    outcome = memory.rewards + gamma * next_values
    by_action = jax.nn.one_hot(memory.actions, n_actions) * weights[:, None]  # (M, A)
    return (by_action.T @ outcome) / (by_action.sum(0) + 1e-3)


def sample(key: Array, memory: Memory, n: int) -> tuple[Array, Array]:
    """Indices of n remembered transitions, and whether each slot actually holds one."""
    idx = jax.random.randint(key, (n,), 0, memory.obs.shape[0])
    return idx, memory.filled[idx]
