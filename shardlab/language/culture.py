"""Culture as data: the corpora a linguistic world model learns from.

A corpus is a stream of short "sentences", each a handful of co-mentioned concepts. A culture is
declared, not coded: named **pools** of concepts and **phases**, each a list of **mentions** —
kinds of sentence with some concepts always present (`fixed`) and the other slots drawn from a
pool, each with a weight (its share of the phase's sentences). The four mechanisms of culture
are all mentions:

- co-mention rates: background sentences drawn from a pool at some weight;
- a propaganda campaign: `Mention(fixed=(target,), pool="positive")`, a concept repeatedly placed
  among others;
- an ideology bundle: `Mention(fixed=(stance_a, stance_b), pool="neutral")`, independent stances
  co-mentioned;
- a corpus shift: the next phase's mentions differ.

`compile_phase` turns a phase into arrays; `sample_sentences` draws one agent's sentences from
them with that agent's key, so a population (one `vmap`) reads as many corpus samples as agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from shardlab.errors import ShardlabError


@dataclass(frozen=True)
class Mention:
    """A kind of sentence: `fixed` concepts in every one, the other slots drawn from `pool`."""

    pool: str
    fixed: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass(frozen=True)
class Phase:
    """A stretch of corpus: `steps` learning steps over sentences of these kinds."""

    steps: int
    mentions: tuple[Mention, ...]


@dataclass(frozen=True)
class Culture:
    pools: Mapping[str, tuple[str, ...]]
    sentences_per_step: int = 16
    sentence_length: int = 6


class CompiledPhase(NamedTuple):
    """A phase as arrays over its K mention kinds (pools padded to P, fixed slots to F)."""

    probs: jax.Array  # (K,) share of sentences of each kind
    fixed: jax.Array  # (K, F) concept ids, −1 where unused
    pool: jax.Array  # (K, P) concept ids of each kind's pool, padded by repetition
    pool_size: jax.Array  # (K,)


class Shape(NamedTuple):
    """Array sizes shared by every phase a population reads, so all stack into one batch and
    share one compiled program: mention kinds, fixed slots, pool slots."""

    kinds: int
    fixed: int
    pool: int


def compile_phase(culture: Culture, phase: Phase, vocab: Mapping[str, int], shape: Shape
                  ) -> CompiledPhase:
    """Arrays for one phase, padded to `shape` (padding kinds have zero share)."""
    fixed_slots, pool_slots = shape.fixed, shape.pool
    if len(phase.mentions) > shape.kinds:
        raise ShardlabError(f"phase has {len(phase.mentions)} mention kinds; at most "
                            f"{shape.kinds}")
    fixed, pools, sizes = [], [], []
    for mention in phase.mentions:
        if mention.pool not in culture.pools:
            raise ShardlabError(f"mention draws from unknown pool {mention.pool!r}")
        if len(mention.fixed) > min(fixed_slots, culture.sentence_length - 1):
            raise ShardlabError(f"mention fixes too many concepts: {mention.fixed}")
        ids = [vocab[c] for c in culture.pools[mention.pool]]
        if not 0 < len(ids) <= pool_slots:
            raise ShardlabError(f"pool {mention.pool!r} has {len(ids)} concepts; "
                                f"needs 1..{pool_slots}")
        fixed.append([vocab[c] for c in mention.fixed]
                     + [-1] * (fixed_slots - len(mention.fixed)))  # fmt: skip
        pools.append(np.resize(ids, pool_slots))
        sizes.append(len(ids))
    pad = shape.kinds - len(phase.mentions)
    fixed += [[-1] * fixed_slots] * pad
    pools += [pools[0]] * pad
    sizes += [sizes[0]] * pad
    weights = np.array([m.weight for m in phase.mentions] + [0.0] * pad, float)
    return CompiledPhase(jnp.asarray(weights / weights.sum()), jnp.asarray(fixed, jnp.int32),
                         jnp.asarray(np.stack(pools), jnp.int32), jnp.asarray(sizes, jnp.int32))


def stack(phases: Sequence[CompiledPhase]) -> CompiledPhase:
    """One agent's compiled phase per row: the population's corpus, ready for `vmap`."""
    return jax.tree.map(lambda *rows: jnp.stack(rows), *phases)


def sample_sentences(phase: CompiledPhase, key: jax.Array, n: int, length: int) -> jax.Array:
    """(n, length) concept ids: each sentence's kind drawn by share, its fixed concepts first,
    the other slots drawn uniformly (with replacement) from the kind's pool."""
    k_kind, k_slot = jax.random.split(key)
    kind = jax.random.choice(k_kind, phase.probs.shape[0], (n,), p=phase.probs)
    draws = jax.random.uniform(k_slot, (n, length))
    slots = jnp.floor(draws * phase.pool_size[kind][:, None]).astype(jnp.int32)
    drawn = jnp.take_along_axis(phase.pool[kind], slots, axis=1)
    fixed = phase.fixed[kind]
    width = fixed.shape[1]
    head = jnp.where(fixed >= 0, fixed, drawn[:, :width])
    return jnp.concatenate([head, drawn[:, width:]], axis=1)


def mentions_of(phase: Phase, concept: str, culture: Culture, total_steps: int) -> float:
    """The expected number of sentences that fix `concept` over `total_steps` of this phase."""
    weights = np.array([m.weight for m in phase.mentions], float)
    share = sum(w for m, w in zip(phase.mentions, weights, strict=True) if concept in m.fixed)
    return float(share / weights.sum() * culture.sentences_per_step * total_steps)
