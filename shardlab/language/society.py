"""A population of agents living in a culture: the shared setup of the culture experiments.

Every agent first reads a background corpus (all pool concepts co-mentioned at random), then
grounds its valence head on a random share of the pool concepts (their innate valence) and
freezes it, then reads its own second-phase corpus. The population is one `vmap` in
`world_model.live`; each agent has its own key, so its own corpus sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from shardlab.language import culture, world_model
from shardlab.language.concepts import ConceptSpace
from shardlab.language.probes import pearson

# The background culture's co-mention rates: words of like valence are mentioned together,
# neutral ones twice as often as either pole.
BACKGROUND = (culture.Mention("positive"), culture.Mention("negative"),
              culture.Mention("neutral", weight=2.0))


@dataclass(frozen=True)
class Society:
    model: world_model.WorldModelConfig = field(default_factory=world_model.WorldModelConfig)
    head: world_model.HeadConfig = field(default_factory=world_model.HeadConfig)
    background_steps: int = 300
    second_steps: int = 300
    grounded_share: float = 0.67  # of the pool concepts; the rest test the head's generalisation
    # Every culture is padded to these many mention kinds and fixed concepts per sentence, so
    # all experiments' corpora share one compiled program.
    kinds: int = 6
    fixed: int = 2


@dataclass(frozen=True)
class Outcome:
    """Per agent: assessed valence of every concept at grounding and after the second phase
    (A, V), the concepts' latent z then (A, V, d), and the head's held-out r with innate valence
    on ungrounded pool concepts (A,)."""

    grounded: np.ndarray
    after: np.ndarray
    z_grounded: np.ndarray
    z_after: np.ndarray
    head_r: np.ndarray


def live(society: Society, space: ConceptSpace, second: Sequence[culture.Phase],
         lr: Sequence[float], seed: int) -> Outcome:
    """Run one agent per second-phase corpus in `second` (learning rate scale `lr` each)."""
    corpus = culture.Culture(space.pools, society.model.sentences_per_step,
                             society.model.sentence_length)
    background = culture.Phase(society.background_steps, BACKGROUND)
    shape = culture.Shape(society.kinds, society.fixed, max(len(p) for p in space.pools.values()))

    def compile_all(phases: Sequence[culture.Phase]) -> culture.CompiledPhase:
        return culture.stack([culture.compile_phase(corpus, p, space.index, shape)
                              for p in phases])

    rng = np.random.default_rng(seed)
    pooled = space.ids(space.pools["all"])
    grounded = rng.choice(pooled, int(round(society.grounded_share * len(pooled))),
                          replace=False)
    mask = np.zeros(len(space.words), bool)
    mask[grounded] = True
    n = len(second)
    k_first, k_head, k_second = jax.random.split(jax.random.key(seed), 3)
    base = jnp.broadcast_to(jnp.asarray(space.base), (n, *space.base.shape))
    models = world_model.init(base)
    models = world_model.learn_population(society.model, models, compile_all([background] * n),
                                          jax.random.split(k_first, n),
                                          society.background_steps, jnp.ones(n))
    z = world_model.concepts(models)
    heads = world_model.ground_population(society.head, z, jnp.asarray(space.innate, jnp.float32),
                                          jnp.asarray(mask), jax.random.split(k_head, n))
    assess = jax.vmap(world_model.assess)
    at_grounding = np.asarray(assess(heads, z))
    models = world_model.learn_population(society.model, models, compile_all(second),
                                          jax.random.split(k_second, n), society.second_steps,
                                          jnp.asarray(lr, jnp.float32))
    z_after = world_model.concepts(models)
    after = np.asarray(assess(heads, z_after))
    held_out = np.setdiff1d(pooled, grounded)
    head_r = np.array([pearson(v[held_out], space.innate[held_out]) for v in at_grounding])
    return Outcome(at_grounding, after, np.asarray(z), np.asarray(z_after), head_r)

