"""Decomposition of preference data: PCA, parallel analysis and shared subspaces.

Parallel analysis (Horn 1965) asks how many principal components carry more variance than
components of data with the same columns but no shared structure: each column is shuffled
independently (which keeps every column's distribution and destroys their correlations), and a
component is retained when its eigenvalue exceeds the 95th percentile of the shuffled data's
eigenvalue at the same rank.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from shardlab.errors import ShardlabError


class Parallel(NamedTuple):
    """Eigenvalues of the correlation matrix, the shuffled null's percentile, and the count."""

    eigenvalues: np.ndarray  # (p,) descending
    null: np.ndarray  # (p,) the null's `quantile` eigenvalue at each rank
    retained: int  # leading components whose eigenvalue exceeds the null's


def _standardise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 3 or x.shape[1] < 2:
        raise ShardlabError(f"decomposition needs an items × columns table, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ShardlabError("decomposition needs complete data; drop or impute missing values")
    sd = x.std(axis=0)
    if (sd == 0).any():
        raise ShardlabError("a column is constant; it carries no variance to decompose")
    return (x - x.mean(axis=0)) / sd


def _gram_eigenvalues(z: np.ndarray) -> np.ndarray:
    """Descending eigenvalues of zᵀz/n. The Gram matrix is an einsum, not a BLAS matmul: for a
    few columns BLAS's threads cost 50× the arithmetic when the machine's cores are busy."""
    return np.linalg.eigvalsh(np.einsum("ij,ik->jk", z, z) / z.shape[0])[::-1]


def eigenvalues(x: np.ndarray) -> np.ndarray:
    """Descending eigenvalues of the columns' correlation matrix (they sum to the column count)."""
    return _gram_eigenvalues(_standardise(x))


def explained_variance(x: np.ndarray) -> np.ndarray:
    """Share of the total (standardised) variance each principal component carries."""
    ev = eigenvalues(x)
    return ev / ev.sum()


def components_for(share: np.ndarray, level: float = 0.9) -> int:
    """The fewest leading components whose shares sum to `level`."""
    return int(np.searchsorted(np.cumsum(share), level - 1e-12) + 1)


def parallel_analysis(x: np.ndarray, seed: int, shuffles: int = 50,
                      quantile: float = 0.95) -> Parallel:
    """Components whose eigenvalue exceeds the `quantile` of a column-shuffled null.

    numpy, not JAX: shuffling columns is a permutation per column, which numpy does in place in
    milliseconds where a traced sort costs seconds to compile."""
    z = _standardise(x)
    observed = _gram_eigenvalues(z)
    rng = np.random.default_rng(seed)
    null_ev = np.empty((shuffles, z.shape[1]))
    for i in range(shuffles):
        shuffled = rng.permuted(z, axis=0)  # each column shuffled independently
        null_ev[i] = _gram_eigenvalues(shuffled)
    null = np.quantile(null_ev, quantile, axis=0)
    above = observed > null
    retained = int(above.size if above.all() else np.argmin(above))
    return Parallel(observed, null, retained)


def top_subspace(weights: jax.Array, rank: int) -> jax.Array:
    """(rank, k) orthonormal basis of the leading right singular vectors of stacked weights
    (one row per expert or rater): the shared subspace a population's rewards lie in."""
    _, _, vt = jnp.linalg.svd(weights, full_matrices=False)
    return vt[:rank]


def subspace_alignment(u: jax.Array, v: jax.Array) -> jax.Array:
    """Mean squared cosine of the principal angles between two row bases (1 = same subspace)."""
    s = jnp.linalg.svd(u @ v.T, compute_uv=False)
    return (s**2).mean()
