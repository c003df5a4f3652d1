"""The linguistic world model, and the reward model over its latent space (seed 000).

**Concepts.** Each concept's representation is its pretrained encoder embedding plus a plastic
part, z = e + p. Only p learns, online, from the corpus stream, by a self-supervised predictive
objective and never by reward: skip-gram with negative sampling, where each concept in a sentence
predicts the others (σ(z_i·z_j) → 1) and not a few random concepts (σ(z_i·z_k) → 0). The geometry
therefore moves with data alone: concepts co-mentioned drift together.

**Valence.** A thought assessor (`brain.assessors`, the same linear form and normalised update,
one output channel, γ = 0) is trained on *grounded* concepts — those whose innate valence the
steering subsystem supplies — and then frozen. Every other concept gets valence only by
generalisation over the latent geometry, so when culture moves a concept, its assessed valence
moves with it although no reward ever touches it.

A population is one `vmap` over agents, each with its own key and so its own corpus sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from shardlab.brain import assessors
from shardlab.language.culture import CompiledPhase, sample_sentences

Array = jax.Array


@dataclass(frozen=True)
class WorldModelConfig:
    lr: float = 0.02  # SGD step on the plastic parts
    negatives: int = 5  # random concepts each mention is contrasted with
    sentences_per_step: int = 16
    sentence_length: int = 6


@dataclass(frozen=True)
class HeadConfig:
    epochs: int = 60  # passes over the grounded concepts
    lr: float = 0.5  # NLMS step of the assessor update


class WorldModel(NamedTuple):
    base: Array  # (V, d) pretrained embeddings, frozen
    plastic: Array  # (V, d) learned from the corpus


def init(base: Array) -> WorldModel:
    return WorldModel(base, jnp.zeros_like(base))


def concepts(model: WorldModel) -> Array:
    """Every concept's current representation z = e + p."""
    return model.base + model.plastic


def predictive_loss(plastic: Array, base: Array, sentences: Array, negatives: Array) -> Array:
    """Skip-gram with negative sampling over co-mentions, summed over mentions as in online
    word2vec: each slot predicts the sentence's other slots (averaged) and not its `negatives`
    (S, L, N) random concepts."""
    z = base + plastic
    zs = z[sentences]  # (S, L, d)
    scores = jnp.einsum("sld,smd->slm", zs, zs)
    length = sentences.shape[1]
    off_diagonal = 1.0 - jnp.eye(length)
    positive = -(jax.nn.log_sigmoid(scores) * off_diagonal).sum() / (length - 1)
    negative = -jax.nn.log_sigmoid(-jnp.einsum("sld,slnd->sln", zs, z[negatives])).sum()
    return positive + negative


def step(config: WorldModelConfig, model: WorldModel, phase: CompiledPhase, key: Array,
         lr: Array) -> tuple[WorldModel, Array]:
    """One online step on freshly sampled sentences; `lr` 0 is the frozen-world-model contrast."""
    k_sent, k_neg = jax.random.split(key)
    sentences = sample_sentences(phase, k_sent, config.sentences_per_step,
                                 config.sentence_length)
    # In-batch negatives: concepts drawn from this step's sentences, i.e. by how often the
    # corpus mentions them (as word2vec's unigram noise); a concept never mentioned never moves.
    flat = sentences.ravel()
    negatives = flat[jax.random.randint(k_neg, (*sentences.shape, config.negatives), 0,
                                        flat.shape[0])]
    loss, grad = jax.value_and_grad(predictive_loss)(model.plastic, model.base, sentences,
                                                     negatives)
    return WorldModel(model.base, model.plastic - lr * grad), loss


def learn(config: WorldModelConfig, model: WorldModel, phase: CompiledPhase, key: Array,
          steps: int, lr: Array | float) -> WorldModel:
    """`steps` online steps on one agent's corpus sample of `phase`."""
    lr = jnp.asarray(lr, jnp.float32) * config.lr

    def body(model: WorldModel, k: Array) -> tuple[WorldModel, None]:
        return step(config, model, phase, k, lr)[0], None

    return jax.lax.scan(body, model, jax.random.split(key, steps))[0]


_ASSESSOR = assessors.AssessorConfig(gamma=0.0)


def ground(config: HeadConfig, z: Array, innate: Array, mask: Array, key: Array
           ) -> assessors.AssessorParams:
    """Train the valence head on the grounded concepts (`mask`), in shuffled passes of the
    thought assessors' update towards their innate valence; the rest are never seen."""
    head_config = assessors.AssessorConfig(gamma=0.0, lr=config.lr)
    params = assessors.init(head_config, z.shape[1], 1)
    shuffle = jax.vmap(lambda k: jax.random.permutation(k, z.shape[0]))
    order = shuffle(jax.random.split(key, config.epochs)).ravel()

    def body(params: assessors.AssessorParams, i: Array) -> tuple[assessors.AssessorParams, None]:
        updated, _ = assessors.update(head_config, params, z[i], innate[i][None], z[i])
        return jax.tree.map(lambda new, old: jnp.where(mask[i], new, old), updated, params), None

    return jax.lax.scan(body, params, order)[0]


def assess(params: assessors.AssessorParams, z: Array) -> Array:
    """Assessed valence (V,) of every concept: the frozen head on the current latent."""
    return assessors.predict(_ASSESSOR, params, z)[:, 0]


@partial(jax.jit, static_argnames=("config", "steps"))
def learn_population(config: WorldModelConfig, models: WorldModel, phases: CompiledPhase,
                     keys: Array, steps: int, lr: Array) -> WorldModel:
    """`learn` for a population, one `vmap` over agents (each its own phase arrays, key and
    learning-rate scale); phases of equal shapes share one compiled program."""
    return jax.vmap(lambda m, p, k, r: learn(config, m, p, k, steps, r))(models, phases, keys, lr)


@partial(jax.jit, static_argnames=("config",))
def ground_population(config: HeadConfig, z: Array, innate: Array, mask: Array, keys: Array
                      ) -> assessors.AssessorParams:
    """`ground` for a population: each agent's head on its own latent (A, V, d)."""
    return jax.vmap(lambda zi, k: ground(config, zi, innate, mask, k))(z, keys)
