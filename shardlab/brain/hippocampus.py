"""Hippocampus: a fixed-capacity episodic memory of (z, a, reactions, reward, z′) with similarity
retrieval, used for episodic value (what happened last time I was somewhere like this) and
replay (re-learning values from remembered transitions)."""

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
    keys: Array  # (M, Z)
    actions: Array  # (M,)
    rewards: Array  # (M,)
    reactions: Array  # (M, k)
    next_keys: Array  # (M, Z)
    filled: Array  # (M,) bool
    cursor: Array  # ()


def init(config: HippocampusConfig, latent: int, k: int) -> Memory:
    m = config.capacity
    return Memory(
        jnp.zeros((m, latent)), jnp.zeros(m, jnp.int32), jnp.zeros(m), jnp.zeros((m, k)),
        jnp.zeros((m, latent)), jnp.zeros(m, bool), jnp.int32(0),
    )  # fmt: skip


def write(
    memory: Memory, z: Array, action: Array, reward: Array, reactions: Array, z_next: Array
) -> Memory:
    """Store one transition, overwriting the oldest when full (a ring buffer)."""
    i = memory.cursor
    return Memory(
        memory.keys.at[i].set(z),
        memory.actions.at[i].set(action),
        memory.rewards.at[i].set(reward),
        memory.reactions.at[i].set(reactions),
        memory.next_keys.at[i].set(z_next),
        memory.filled.at[i].set(True),
        (i + 1) % memory.keys.shape[0],
    )


def similarity(memory: Memory, query: Array) -> Array:
    """Cosine similarity of the query to every stored key (−inf where empty)."""
    norm = jnp.linalg.norm(memory.keys, axis=-1) * jnp.linalg.norm(query) + 1e-8
    return jnp.where(memory.filled, memory.keys @ query / norm, -jnp.inf)


def retrieve(memory: Memory, query: Array) -> Array:
    """Index of the nearest stored key."""
    return jnp.argmax(similarity(memory, query))


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
    idx = jax.random.randint(key, (n,), 0, memory.keys.shape[0])
    return idx, memory.filled[idx]
