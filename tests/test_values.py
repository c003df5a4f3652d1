"""Value-learning tools against analytic answers: the bound's table, value iteration, soft value
iteration, the MaxEnt gradient, planted rewards, utilities and subspaces, and choix."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from shardlab.errors import ShardlabError
from shardlab.values import irl, preferences, prng_key
from shardlab.values import mdp as grid_mdp
from shardlab.values.bounds import SEED_TABLE, abbeel_ng, matches_printed
from shardlab.values.decomposition import (
    components_for,
    explained_variance,
    parallel_analysis,
    subspace_alignment,
    top_subspace,
)
from shardlab.values.elbow import kneedle


def test_bound_reproduces_the_seeds_table() -> None:
    for (gamma, k), printed in SEED_TABLE.items():
        assert matches_printed(abbeel_ng(k, gamma, 0.1, 0.05), printed)
    ratio = abbeel_ng(1000, 0.9, 0.1, 0.05) / abbeel_ng(10, 0.9, 0.1, 0.05)
    assert round(ratio) == 177
    assert not matches_printed(1.3e6, 1.2e6)
    with pytest.raises(ShardlabError, match="discount"):
        abbeel_ng(10, 1.0, 0.1, 0.05)


def test_value_iteration_on_a_known_grid() -> None:
    # 2 × 2 grid, no slip, reward 1 in cell 3: stay there for 1/(1−γ); one step away loses γ.
    mdp = grid_mdp.grid(2, slip=0.0, gamma=0.9)
    v, q = grid_mdp.value_iteration(mdp, jnp.array([0.0, 0.0, 0.0, 1.0]), iters=400)
    np.testing.assert_allclose(v, [8.1, 9.0, 9.0, 10.0], rtol=1e-4)
    occ = grid_mdp.occupancy(mdp._replace(start=jnp.array([1.0, 0, 0, 0])), grid_mdp.greedy(q),
                             iters=400)
    np.testing.assert_allclose(occ.sum(), 10.0, rtol=1e-4)  # Σ_t γᵗ = 1/(1−γ)
    np.testing.assert_allclose(occ[3], 8.1, rtol=1e-4)


def test_soft_value_iteration_matches_the_two_state_closed_form() -> None:
    # Two states, action a moves to state a. V(s) = r(s) + C with C = log Σ_s' e^{γ r(s')}/(1−γ).
    gamma, r = 0.8, jnp.array([0.3, -0.5])
    mdp = grid_mdp.GridMDP(jnp.array([[0, 1], [0, 1]]), 0.0, gamma, jnp.array([0.5, 0.5]))
    v, _, policy = grid_mdp.soft_value_iteration(mdp, r, iters=300)
    c = math.log(math.exp(gamma * 0.3) + math.exp(gamma * -0.5)) / (1 - gamma)
    np.testing.assert_allclose(v, [0.3 + c, -0.5 + c], rtol=1e-5)
    np.testing.assert_allclose(policy[0], jax.nn.softmax(gamma * v), rtol=1e-5)


def test_maxent_gradient_matches_finite_differences() -> None:
    mdp = grid_mdp.grid(3, slip=0.2, gamma=0.8)
    phi = grid_mdp.features(jax.random.key(0), 9, 3)
    mu_e = jnp.array([2.0, 1.5, 3.0])
    w = jnp.array([0.3, -0.2, 0.5])
    eps = 1e-2
    objective = jax.vmap(lambda w: irl.maxent_objective(mdp, phi, mu_e, w, 150))
    steps = eps * jnp.eye(3)
    fd = jax.jit(lambda w: (objective(w + steps) - objective(w - steps)) / (2 * eps))(w)
    grad = jax.jit(lambda w: irl.maxent_gradient(mdp, phi, mu_e, w, iters=150))(w)
    np.testing.assert_allclose(grad, fd, rtol=2e-2, atol=2e-3)


@pytest.mark.parametrize("method", ["maxent", "projection"])
def test_irl_recovers_a_planted_reward(method: str) -> None:
    mdp = grid_mdp.grid(6, slip=0.1, gamma=0.9)
    phi = grid_mdp.features(jax.random.key(1), 36, 4)
    w = grid_mdp.l1_normalise(jnp.array([1.0, -0.5, 0.3, -0.8]))

    @jax.jit
    def recover(w: jax.Array) -> irl.IRLResult:
        mu_e = irl.feature_expectations(mdp, irl.expert_policy(mdp, phi, w), phi)
        if method == "maxent":
            w_hat = irl.maxent_irl(mdp, phi, mu_e, steps=200, lr=0.1)
        else:
            w_hat = irl.projection_method(mdp, phi, mu_e, steps=40)
        return irl.evaluate(mdp, phi, w, w_hat)

    result = recover(w)
    assert float(result.regret) < 0.05
    assert float(result.gap) >= -1e-5  # nothing beats the optimal policy


def test_low_rank_irl_stays_in_its_basis() -> None:
    mdp = grid_mdp.grid(4, slip=0.1, gamma=0.9)
    phi = grid_mdp.features(jax.random.key(2), 16, 5)
    basis = jnp.eye(5)[:2]
    w_hat = jax.jit(lambda mu: irl.low_rank_irl(mdp, phi, mu, basis, steps=5))(jnp.ones(5))
    np.testing.assert_allclose(w_hat[2:], 0.0)


def test_sampled_demonstrations_estimate_the_occupancy() -> None:
    mdp = grid_mdp.grid(3, slip=0.3, gamma=0.8)
    policy = grid_mdp.uniform_policy(mdp)
    sample = jax.jit(lambda key: grid_mdp.sample_occupancies(key, mdp, policy, 4000, 60).mean(0))
    np.testing.assert_allclose(sample(jax.random.key(3)), grid_mdp.occupancy(mdp, policy),
                               atol=0.05)


def _population(key: jax.Array, raters: int, k: int, rank: int) -> tuple[jax.Array, jax.Array]:
    ku, kt = jax.random.split(key)
    basis = jnp.linalg.qr(jax.random.normal(ku, (k, rank)))[0].T
    weights = jax.random.normal(kt, (raters, rank)) @ basis
    return basis, weights / jnp.linalg.norm(weights, axis=1, keepdims=True)


def test_bradley_terry_recovers_a_planted_utility() -> None:
    @jax.jit
    def recover(key: jax.Array) -> tuple[jax.Array, ...]:
        kw, kd, kt = jax.random.split(key, 3)
        w = preferences.utility_weights(kw, 6, 8)
        w_hat = preferences.fit(preferences.compare(kd, w, 20_000, 2.0, 6), ridge=1e-3)
        test = preferences.compare(kt, w, 5000, 2.0, 6)
        return (w, w_hat, preferences.expected_accuracy(w_hat, test),
                preferences.expected_accuracy(w, test))

    w, w_hat, acc_hat, acc = recover(prng_key(4))
    np.testing.assert_allclose(w_hat, 2.0 * w, atol=0.1)  # the scale β is identified too
    assert acc_hat > 0.99 * acc


@jax.jit
def _subspace_case(key: jax.Array) -> tuple[jax.Array, ...]:
    kp, kf, kn, kt = jax.random.split(key, 4)
    basis, weights = _population(kp, 17, 12, 3)
    fits = jax.vmap(lambda key, w: preferences.fit(preferences.compare(key, w, 1500, 2.0, 12)))(
        jax.random.split(kf, 16), weights[1:])
    u_hat = top_subspace(fits, 3)
    # A new rater's 40 comparisons, by a learner with and without the others' subspace.
    new = preferences.compare(kn, weights[0], 20, 2.0, 12)
    test = preferences.compare(kt, weights[0], 4000, 2.0, 12)
    low = preferences.expected_accuracy(preferences.fit_low_rank(new, u_hat), test)
    full = preferences.expected_accuracy(preferences.fit(new), test)
    return subspace_alignment(u_hat, basis), low, full


def test_shared_subspace_is_recovered_across_a_population() -> None:
    alignment, low, full = _subspace_case(prng_key(7))
    assert float(alignment) > 0.95
    assert low > full + 0.03  # the low-rank learner predicts the new rater better


def test_bradley_terry_agrees_with_choix_on_items() -> None:
    choix = pytest.importorskip("choix")
    rng = np.random.default_rng(0)
    n_items, alpha = 6, 0.1
    strength = rng.normal(size=n_items)
    pairs = rng.choice(n_items, size=(400, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    margin = strength[pairs[:, 0]] - strength[pairs[:, 1]]
    a_wins = rng.random(len(pairs)) < 1 / (1 + np.exp(-margin))
    data = [(a, b) if won else (b, a) for (a, b), won in zip(pairs, a_wins, strict=True)]
    theirs = choix.opt_pairwise(n_items, data, alpha=alpha)
    eye = np.eye(n_items)
    diff = jnp.asarray(eye[[w for w, _ in data]] - eye[[lo for _, lo in data]], jnp.float32)
    ours = preferences.fit(preferences.Comparisons(diff, jnp.ones(len(data)), jnp.ones(len(data))),
                           ridge=2 * alpha)  # choix's penalty is alpha·‖θ‖²
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_parallel_analysis_finds_a_planted_rank() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1500, 3)) @ rng.normal(size=(3, 100)) * 0.5 + rng.normal(size=(1500, 100))
    assert parallel_analysis(x, 0, shuffles=20).retained == 3
    noise = rng.normal(size=(1500, 12))
    assert parallel_analysis(noise, 0, shuffles=20).retained <= 1
    share = explained_variance(x)
    np.testing.assert_allclose(share.sum(), 1.0)
    assert components_for(np.array([0.5, 0.3, 0.15, 0.05])) == 3
    with pytest.raises(ShardlabError, match="constant"):
        parallel_analysis(np.ones((10, 3)), 0)


def test_kneedle_finds_the_knee_of_a_saturating_curve() -> None:
    x = np.linspace(0, 10, 101)
    knee = kneedle(x, 1 - np.exp(-x))
    assert knee == pytest.approx(np.log(10), abs=0.1)  # where the normalised slope is 1
    assert math.isnan(kneedle(x, x))  # a straight line has no knee
