"""Inverse reinforcement learning on grid MDPs: the projection method and causal MaxEnt IRL.

Both take the experts' empirical feature expectations μ̂ (the mean discounted feature counts of m
demonstrations) and return reward weights; the policy of the recovered reward is then scored by
its policy-value gap under the true reward. Everything is a pure function of arrays, so a sweep
over experts, k, m and seeds is a `vmap`.

The bottleneck is a property of a population: for one expert a low-rank reward θᵀUφ is just
another r-vector. The *low-rank learner* therefore estimates the shared subspace U (r × k) from
other experts and fits only a new expert's r coordinates, by running the same IRL on the
projected features φUᵀ; the *full-rank learner* fits all k weights from scratch.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from shardlab.values.mdp import (
    GridMDP,
    greedy,
    occupancy,
    soft_value_iteration,
    uniform_policy,
    value_iteration,
)


class IRLResult(NamedTuple):
    """A recovered reward, its policy's gap under the true reward, and feature expectations."""

    weights: jax.Array  # (k,) recovered reward weights
    gap: jax.Array  # V*(w) − V^π̂(w): value lost by acting on the recovered reward
    regret: jax.Array  # the gap as a share of V*(w) − V^uniform(w)
    mu_learner: jax.Array  # (k,) feature expectations of the recovered reward's greedy policy


def feature_expectations(mdp: GridMDP, policy: jax.Array, phi: jax.Array, iters: int = 100
                         ) -> jax.Array:
    """μ(π) = E[Σ γᵗ φ(s_t)]: the k numbers a linear reward's value depends on."""
    return occupancy(mdp, policy, iters) @ phi


def maxent_objective(mdp: GridMDP, phi: jax.Array, mu_expert: jax.Array, w: jax.Array,
                     iters: int = 100) -> jax.Array:
    """The causal MaxEnt dual, w·μ_E − ρ₀·V_soft(φw): concave, maximised where μ(π_w) = μ_E."""
    v, _, _ = soft_value_iteration(mdp, phi @ w, iters)
    return w @ mu_expert - mdp.start @ v


def maxent_gradient(mdp: GridMDP, phi: jax.Array, mu_expert: jax.Array, w: jax.Array,
                    iters: int = 100) -> jax.Array:
    """Its gradient, μ_E − μ(π_w) with π_w the soft-optimal policy (Ziebart 2010)."""
    _, _, policy = soft_value_iteration(mdp, phi @ w, iters)
    return mu_expert - feature_expectations(mdp, policy, phi, iters)


class AdamCarry(NamedTuple):
    """MaxEnt IRL's state between chunks of steps: weights and the optimiser's moments."""

    w: jax.Array
    opt: optax.OptState


def maxent_init(k: int, lr: float = 0.05) -> AdamCarry:
    w0 = jnp.zeros(k)
    return AdamCarry(w0, optax.adam(lr).init(w0))


def maxent_steps(mdp: GridMDP, phi: jax.Array, mu_expert: jax.Array, carry: AdamCarry,
                 steps: int, lr: float = 0.05, iters: int = 60) -> AdamCarry:
    """`steps` Adam ascent steps on the causal MaxEnt dual from `carry` (resumable)."""
    opt = optax.adam(lr)

    def step(carry: AdamCarry, _: None) -> tuple[AdamCarry, None]:
        grad = -maxent_gradient(mdp, phi, mu_expert, carry.w, iters)
        update, state = opt.update(grad, carry.opt)
        return AdamCarry(carry.w + update, state), None

    carry, _ = jax.lax.scan(step, carry, None, length=steps)
    return carry


def maxent_irl(mdp: GridMDP, phi: jax.Array, mu_expert: jax.Array, steps: int = 100,
               lr: float = 0.05, iters: int = 60) -> jax.Array:
    """Causal MaxEnt IRL by Adam ascent on the dual from w = 0; returns the reward weights.

    A deterministic expert has no finite maximiser (its weights grow without bound), so a fixed
    number of steps regularises, as early stopping does; only the weights' direction is used.
    """
    carry = maxent_steps(mdp, phi, mu_expert, maxent_init(phi.shape[1], lr), steps, lr, iters)
    return carry.w


def projection_method(mdp: GridMDP, phi: jax.Array, mu_expert: jax.Array, steps: int = 30,
                      iters: int = 60) -> jax.Array:
    """Abbeel & Ng's projection method: w_i = μ_E − μ̄_{i−1}, with μ̄ the projection of μ_E onto
    the line through μ̄_{i−1} and the feature expectations of w_i's optimal policy."""

    def mu_of(w: jax.Array) -> jax.Array:
        _, q = value_iteration(mdp, phi @ w, iters)
        return feature_expectations(mdp, greedy(q), phi, iters)

    def step(mu_bar: jax.Array, _: None) -> tuple[jax.Array, jax.Array]:
        w = mu_expert - mu_bar
        mu = mu_of(w)
        d = mu - mu_bar
        t = jnp.clip(d @ (mu_expert - mu_bar) / jnp.maximum(d @ d, 1e-12), 0.0, 1.0)
        return mu_bar + t * d, w

    mu0 = feature_expectations(mdp, uniform_policy(mdp), phi, iters)
    mu_bar, _ = jax.lax.scan(step, mu0, None, length=steps)
    return mu_expert - mu_bar


def evaluate(mdp: GridMDP, phi: jax.Array, w_true: jax.Array, w_hat: jax.Array,
             iters: int = 100) -> IRLResult:
    """Score recovered weights by the true reward: the gap of their greedy policy, in V units
    (‖w‖₁ ≤ 1, φ ∈ [0, 1]ᵏ), and as a share of what the optimal policy gains over a uniform one."""
    reward = phi @ w_true
    _, q_star = value_iteration(mdp, reward, iters)
    _, q_hat = value_iteration(mdp, phi @ w_hat, iters)
    pi_hat = greedy(q_hat)
    v_star = occupancy(mdp, greedy(q_star), iters) @ reward
    v_hat = occupancy(mdp, pi_hat, iters) @ reward
    v_unif = occupancy(mdp, uniform_policy(mdp), iters) @ reward
    gap = v_star - v_hat
    regret = gap / jnp.maximum(v_star - v_unif, 1e-9)
    return IRLResult(w_hat, gap, regret, feature_expectations(mdp, pi_hat, phi, iters))


def expert_policy(mdp: GridMDP, phi: jax.Array, w_true: jax.Array, iters: int = 100) -> jax.Array:
    """The expert: the optimal (greedy) policy of the true reward."""
    _, q = value_iteration(mdp, phi @ w_true, iters)
    return greedy(q)


def low_rank_irl(mdp: GridMDP, phi: jax.Array, mu_expert: jax.Array, basis: jax.Array,
                 steps: int = 100, lr: float = 0.05, iters: int = 60) -> jax.Array:
    """MaxEnt IRL of a new expert's r coordinates in a shared basis U (r × k); returns Uᵀθ."""
    theta = maxent_irl(mdp, phi @ basis.T, basis @ mu_expert, steps, lr, iters)
    return basis.T @ theta
