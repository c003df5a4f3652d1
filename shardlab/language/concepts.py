"""Concept spaces for the culture experiments: real words with real valence.

Concepts are English lemmas from Warriner et al.'s norms (`lexicons.warriner`), so each has a
human-rated valence, rescaled to innate valence in [−1, 1] ((rating − 5) / 4). Candidates are a
fixed set chosen once (so their embeddings are cached once); each seed draws its pools and its
test concepts from them, so the seed samples which words make up a culture.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np

from shardlab.language import encoders, lexicons

BANDS = {"positive": (7.0, 9.0), "negative": (1.0, 3.0), "neutral": (4.7, 5.3)}
CANDIDATES = {"positive": 150, "negative": 150, "neutral": 300}


@cache
def candidates() -> dict[str, tuple[str, ...]]:
    """A fixed random set of alphabetic lemmas per valence band."""
    table = lexicons.warriner()
    table = table[table["word"].str.fullmatch(r"[a-z]{3,}")]
    rng = np.random.default_rng(0)
    out = {}
    for band, (lo, hi) in BANDS.items():
        words = np.sort(table.loc[table["valence"].between(lo, hi), "word"].to_numpy())
        out[band] = tuple(rng.choice(words, CANDIDATES[band], replace=False).tolist())
    return out


@dataclass(frozen=True)
class ConceptSpace:
    """The concepts an agent population knows: words, their encoder embeddings (V, d), their
    innate valence (V,), and named pools of concept words."""

    words: tuple[str, ...]
    base: np.ndarray
    innate: np.ndarray
    pools: Mapping[str, tuple[str, ...]]

    @property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def ids(self, words: tuple[str, ...]) -> np.ndarray:
        index = self.index
        return np.array([index[w] for w in words])


def sample_space(seed: int, sizes: Mapping[str, int], tests: int, encoder: str
                 ) -> tuple[ConceptSpace, tuple[str, ...]]:
    """Pools of `sizes` concepts per band and `tests` further neutral concepts (the ones a
    culture will act on), drawn by `seed`; embedded by `encoder`."""
    rng = np.random.default_rng(seed)
    pools = {}
    for band, size in sizes.items():
        pools[band] = tuple(rng.choice(candidates()[band], size, replace=False).tolist())
    spare = sorted(set(candidates()["neutral"]) - set(pools.get("neutral", ())))
    chosen = tuple(rng.choice(spare, tests, replace=False).tolist())
    words = tuple(w for pool in pools.values() for w in pool) + chosen
    ratings = lexicons.warriner().set_index("word").loc[list(words), "valence"].to_numpy()
    base = encoders.load(encoder).encode(list(candidates_all()))
    row = {w: i for i, w in enumerate(candidates_all())}
    space = ConceptSpace(words, base[[row[w] for w in words]], (ratings - 5.0) / 4.0,
                         pools | {"all": tuple(w for pool in pools.values() for w in pool)})
    return space, chosen


@cache
def candidates_all() -> tuple[str, ...]:
    """Every candidate, in a fixed order: encoded together so the cache holds them once."""
    return tuple(w for band in candidates().values() for w in band)
