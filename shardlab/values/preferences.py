"""Bradley–Terry preference learning with a k-dimensional linear utility.

A rater prefers item a to item b with probability σ(β·(u_a − u_b)), u = x·w (Bradley & Terry
1952; the logistic link of RLHF reward models). Fitting w is L2-regularised logistic regression on
feature differences, solved by Newton's method: the loss is smooth and convex, so a dozen Newton
steps reach machine precision where gradient descent would need thousands. Rows are weighted, so
"the first N comparisons" is a mask and a sweep over N shares one compiled shape; k is padded with
zero columns, which a ridge keeps at zero weight.

As for IRL, the bottleneck is a population property: the low-rank learner fits a new rater's r
coordinates in a subspace U estimated from other raters; the full-rank learner fits all k.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Comparisons(NamedTuple):
    """Pairwise choices: feature differences x_a − x_b and whether a was chosen (1) or b (0)."""

    diff: jax.Array  # (N, k)
    chose_a: jax.Array  # (N,) in {0, 1}
    p_a: jax.Array  # (N,) the rater's true probability of choosing a


def utility_weights(key: jax.Array, k: int | jax.Array, k_max: int) -> jax.Array:
    """A rater's (k_max,) weights: a random unit vector in the first k dimensions."""
    w = jax.random.normal(key, (k_max,)) * (jnp.arange(k_max) < k)
    return w / jnp.linalg.norm(w)


def compare(key: jax.Array, w: jax.Array, n: int, scale: float, k: int | jax.Array
            ) -> Comparisons:
    """n choices between pairs of fresh items with features N(0, I_k) (zero beyond k)."""
    kx, kc = jax.random.split(key)
    mask = jnp.arange(w.shape[0]) < k
    items = jax.random.normal(kx, (2, n, w.shape[0])) * mask
    diff = items[0] - items[1]
    p_a = jax.nn.sigmoid(scale * diff @ w)
    return Comparisons(diff, (jax.random.uniform(kc, (n,)) < p_a).astype(jnp.float32), p_a)


def fit(data: Comparisons, weight: jax.Array | None = None, ridge: float = 1.0,
        steps: int = 12) -> jax.Array:
    """MAP Bradley–Terry weights: minimise Σ weight·logloss + ridge/2·‖w‖², by Newton steps.

    `weight` (N,) selects or weights rows (e.g. the first N of a padded set)."""
    x, y = data.diff, data.chose_a
    weight = jnp.ones_like(y) if weight is None else weight
    eye = jnp.eye(x.shape[1])

    def newton(w: jax.Array, _: None) -> tuple[jax.Array, None]:
        p = jax.nn.sigmoid(x @ w)
        grad = x.T @ (weight * (p - y)) + ridge * w
        hess = (x.T * (weight * p * (1 - p))) @ x + ridge * eye
        return w - jnp.linalg.solve(hess, grad), None

    w, _ = jax.lax.scan(newton, jnp.zeros(x.shape[1]), None, length=steps)
    return w


def fit_low_rank(data: Comparisons, basis: jax.Array, weight: jax.Array | None = None,
                 ridge: float = 1.0, steps: int = 12) -> jax.Array:
    """Fit a rater's r coordinates θ in a shared basis U (r × k); returns w = Uᵀθ."""
    projected = data._replace(diff=data.diff @ basis.T)
    return basis.T @ fit(projected, weight, ridge, steps)


def expected_accuracy(w: jax.Array, data: Comparisons) -> jax.Array:
    """Expected share of the rater's (noisy) choices that w predicts: each pair counts the
    probability that the rater chooses the item w ranks higher. The ceiling is E[max(p, 1 − p)]."""
    picks_a = data.diff @ w > 0
    return jnp.where(picks_a, data.p_a, 1 - data.p_a).mean()
