"""Linear read-outs of valence from embeddings, judged on held-out words.

A read-out is "a simple reward model on the linguistic latent space" (claim M1): ridge regression
whose penalty is chosen inside each training fold by exact leave-one-out error, or a single
mean-difference direction (claim V5). Folds are word-disjoint, so every prediction is for a word
the read-out never saw.
"""

from __future__ import annotations

import numpy as np

ALPHAS = np.logspace(-4, 2, 13)  # ridge penalties tried inside each training fold


def word_folds(n: int, k: int, seed: int) -> np.ndarray:
    """Fold index (0..k−1) per word, balanced and shuffled by `seed`."""
    return np.random.default_rng(seed).permutation(np.arange(n) % k)


def ridge_fit(x: np.ndarray, y: np.ndarray, alphas: np.ndarray = ALPHAS
              ) -> tuple[np.ndarray, np.ndarray]:
    """Ridge weights (d, t) and intercepts (t,) for targets y (n, t) or (n,), each target's
    penalty picked by its exact leave-one-out error.

    One eigendecomposition of XᵀX serves every penalty and target: the hat matrix's diagonal
    is Σ_j (XV)²_ij / (s_j + α), so LOO residuals are (y − ŷ)/(1 − h) at O(n·d) per penalty.
    """
    y = y.reshape(len(y), -1)
    x_mean, y_mean = x.mean(0), y.mean(0)
    xc, yc = x - x_mean, y - y_mean
    s, v = np.linalg.eigh(xc.T @ xc)
    s = np.clip(s, 0.0, None)
    xv = xc @ v
    xv2 = xv**2
    xty = v.T @ (xc.T @ yc)
    best_loo = np.full(y.shape[1], np.inf)
    best = np.zeros((x.shape[1], y.shape[1]))
    for alpha in alphas:
        shrunk = xty / (s + alpha)[:, None]
        hat = xv2 @ (1.0 / (s + alpha))
        loo = np.mean(((yc - xv @ shrunk) / np.maximum(1.0 - hat, 1e-9)[:, None]) ** 2, axis=0)
        better = loo < best_loo
        best_loo = np.where(better, loo, best_loo)
        best[:, better] = (v @ shrunk)[:, better]
    return best, y_mean - x_mean @ best


def ridge_predictions(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each word's targets (n,) or (n, t) predicted by ridge read-outs trained on the other
    folds."""
    out = np.empty(y.shape)
    for fold in np.unique(folds):
        test = folds == fold
        coef, intercept = ridge_fit(x[~test], y[~test])
        out[test] = (x[test] @ coef + intercept).reshape(out[test].shape)
    return out


def goodness_direction(x: np.ndarray, y: np.ndarray, neutral: float = 0.0) -> np.ndarray:
    """The mean embedding of positive words minus that of negative words (unit length)."""
    d = x[y > neutral].mean(0) - x[y < neutral].mean(0)
    return d / np.linalg.norm(d)


def direction_predictions(x: np.ndarray, y: np.ndarray, folds: np.ndarray,
                          neutral: float = 0.0) -> np.ndarray:
    """Each word's projection on the goodness direction found from the other folds."""
    out = np.empty(len(y))
    for fold in np.unique(folds):
        test = folds == fold
        out[test] = x[test] @ goodness_direction(x[~test], y[~test], neutral)
    return out


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r, written out so bootstrap loops over thousands of resamples stay cheap."""
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def random_direction_r(x: np.ndarray, y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """|r| of valence with the projections on `n` random unit directions (their best sign)."""
    directions = np.random.default_rng(seed).standard_normal((x.shape[1], n))
    projections = x @ (directions / np.linalg.norm(directions, axis=0))
    return np.abs([pearson(projections[:, j], y) for j in range(n)])


def spearman_brown(r_half: float) -> float:
    """The reliability of the full panel from the correlation of its two halves."""
    return 2 * r_half / (1 + r_half)


def ceiling(half_a: np.ndarray, half_b: np.ndarray) -> float:
    """The ceiling for any predictor's r: √(split-half reliability, Spearman–Brown corrected)."""
    return float(np.sqrt(spearman_brown(pearson(half_a, half_b))))
