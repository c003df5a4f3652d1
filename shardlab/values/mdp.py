"""Tabular grid MDPs with rewards linear in k-dimensional state features.

A `GridMDP` stores transitions sparsely: the cell each action's intended move reaches, and a slip
probability with which the action is replaced by a uniformly random one. An expectation over next
states is then a gather, O(S·A) per sweep instead of O(S²·A), so value iteration over a sweep of
rewards, data sizes and seeds stays one cheap compiled call.

Features are normalised as Abbeel & Ng assume (φ ∈ [0, 1]ᵏ, ‖w‖₁ ≤ 1), so a value V = w·μ lies in
[−1/(1 − γ), 1/(1 − γ)] and the bound's ε and a measured policy-value gap share units. A sweep
over k pads φ and w to a common width with zero columns: a zero feature has zero expectation under
every policy, so padding changes neither values nor gradients.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

ACTIONS = ((0, 0), (-1, 0), (1, 0), (0, 1), (0, -1))
"""Stay, up, down, right, left."""


class GridMDP(NamedTuple):
    """A square grid world: intended moves, slip probability, discount and start distribution."""

    next_state: jax.Array  # (S, A) int: the cell each action's intended move reaches
    slip: float  # probability that the action is replaced by a uniformly random one
    gamma: float
    start: jax.Array  # (S,) initial state distribution

    @property
    def n_states(self) -> int:
        return self.next_state.shape[0]

    @property
    def n_actions(self) -> int:
        return self.next_state.shape[1]


def grid(side: int, slip: float = 0.1, gamma: float = 0.9) -> GridMDP:
    """A side × side grid with walls at the border and a uniform start distribution."""
    rows, cols = jnp.divmod(jnp.arange(side * side), side)
    moves = jnp.array(ACTIONS)
    r = jnp.clip(rows[:, None] + moves[None, :, 0], 0, side - 1)
    c = jnp.clip(cols[:, None] + moves[None, :, 1], 0, side - 1)
    start = jnp.full(side * side, 1.0 / (side * side))
    return GridMDP(next_state=r * side + c, slip=slip, gamma=gamma, start=start)


def features(key: jax.Array, n_states: int, k: int, k_max: int | None = None) -> jax.Array:
    """(S, k_max) features uniform in [0, 1]; columns from k on are zero padding."""
    k_max = k if k_max is None else k_max
    phi = jax.random.uniform(key, (n_states, k_max))
    return phi * (jnp.arange(k_max) < k)


def l1_normalise(w: jax.Array) -> jax.Array:
    """Reward weights scaled to ‖w‖₁ = 1, the bound's assumption."""
    return w / jnp.maximum(jnp.abs(w).sum(-1, keepdims=True), 1e-12)


def expected_next(mdp: GridMDP, v: jax.Array) -> jax.Array:
    """(S, A) expectation of v at the next state, slip included."""
    intended = v[mdp.next_state]
    return (1 - mdp.slip) * intended + mdp.slip * intended.mean(axis=1, keepdims=True)


def q_values(mdp: GridMDP, reward: jax.Array, v: jax.Array) -> jax.Array:
    """Q(s, a) = r(s) + γ E[V(s')]: reward is earned in the state the agent is in."""
    return reward[:, None] + mdp.gamma * expected_next(mdp, v)


def value_iteration(
    mdp: GridMDP, reward: jax.Array, iters: int = 100
) -> tuple[jax.Array, jax.Array]:
    """Optimal (V, Q) by `iters` Bellman sweeps; the error shrinks as γ^iters."""

    def sweep(v: jax.Array, _: None) -> tuple[jax.Array, None]:
        return q_values(mdp, reward, v).max(axis=1), None

    v, _ = jax.lax.scan(sweep, jnp.zeros_like(reward), None, length=iters)
    return v, q_values(mdp, reward, v)


def soft_value_iteration(
    mdp: GridMDP, reward: jax.Array, iters: int = 100
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Soft (V, Q, π) of the causal-entropy MDP: V = logsumexp_a Q, π = exp(Q − V) (Ziebart)."""

    def sweep(v: jax.Array, _: None) -> tuple[jax.Array, None]:
        return jax.nn.logsumexp(q_values(mdp, reward, v), axis=1), None

    v, _ = jax.lax.scan(sweep, jnp.zeros_like(reward), None, length=iters)
    q = q_values(mdp, reward, v)
    v = jax.nn.logsumexp(q, axis=1)
    return v, q, jnp.exp(q - v[:, None])


def greedy(q: jax.Array) -> jax.Array:
    """(S, A) deterministic policy, one-hot on the best action."""
    return jax.nn.one_hot(q.argmax(axis=1), q.shape[1])


def occupancy(mdp: GridMDP, policy: jax.Array, iters: int = 100) -> jax.Array:
    """(S,) discounted state occupancy Σ_t γᵗ P(s_t = s) from the start distribution."""
    n_states, n_actions = mdp.next_state.shape

    def sweep(carry: tuple[jax.Array, jax.Array, jax.Array], _: None):
        p, total, g = carry
        flow = (1 - mdp.slip) * p[:, None] * policy + mdp.slip * p[:, None] / n_actions
        nxt = jax.ops.segment_sum(flow.ravel(), mdp.next_state.ravel(), num_segments=n_states)
        return (nxt, total + g * p, g * mdp.gamma), None

    init = (mdp.start, jnp.zeros(n_states), jnp.asarray(1.0))
    (_, total, _), _ = jax.lax.scan(sweep, init, None, length=iters)
    return total


def policy_value(mdp: GridMDP, policy: jax.Array, reward: jax.Array, iters: int = 100) -> jax.Array:
    """Expected discounted return of `policy` from the start distribution."""
    return occupancy(mdp, policy, iters) @ reward


def uniform_policy(mdp: GridMDP) -> jax.Array:
    return jnp.full(mdp.next_state.shape, 1.0 / mdp.n_actions)


def sample_occupancies(
    key: jax.Array, mdp: GridMDP, policy: jax.Array, n: int, horizon: int = 60
) -> jax.Array:
    """(n, S) discounted visit counts of n sampled trajectories (demonstrations) of `policy`.

    A demonstration's feature counts are its row times φ; their mean over m rows is the empirical
    feature expectation μ̂ the bound is about.
    """
    n_states, n_actions = mdp.next_state.shape

    # Draw every uniform up front: one cheap random call instead of one per step.
    k0, kt = jax.random.split(key)
    s0 = jnp.searchsorted(jnp.cumsum(mdp.start), jax.random.uniform(k0, (n,)) * 0.999999)
    uniforms = jax.random.uniform(kt, (horizon, n))
    discounts = mdp.gamma ** jnp.arange(horizon)

    def step(s: jax.Array, inputs: tuple[jax.Array, jax.Array]):
        u, g = inputs
        # The chosen action with probability 1 − slip, a uniformly random one otherwise.
        p = (1 - mdp.slip) * policy[s] + mdp.slip / n_actions
        a = jnp.minimum((jnp.cumsum(p, axis=-1) < u[:, None]).sum(-1), n_actions - 1)
        return mdp.next_state[s, a], s

    _, states = jax.lax.scan(step, s0, (uniforms, discounts))
    onehot = jax.nn.one_hot(states, n_states)  # (horizon, n, S)
    return jnp.einsum("t,tns->ns", discounts, onehot)
