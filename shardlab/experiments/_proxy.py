"""Shared machinery of the Goodhart experiments (S7, R5): optimise plans against a learned proxy.

A plan is a fixed sequence of actions from a start state. The optimiser draws random plans and
keeps the best of N by some score (best-of-N: N is the optimisation pressure). Every plan is run
in the real world twice with independent randomness: the optimiser sees rollout A (its outcome
features, hence its proxy score, and its true return), and the selected plan is judged on rollout
B, so even the true-score optimiser's curve is not monotone by construction.

The true score is the steering subsystem's primary reward (innate, computed from the sensations
the plan really produces), discounted over the plan. A learned scorer is linear on per-step
features φ(o) of the outcome observations, so a plan's proxy is linear in Σ γᵗ φ(oₜ) and one
compiled simulation serves every scorer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from shardlab.analysis.statistics import bootstrap_ci
from shardlab.baselines import planner
from shardlab.brain.steering import sensation_vector
from shardlab.worlds.engine import EnvParams, EnvState, World

Array = jax.Array
Features = Callable[[Any, Array], Array]  # (feature params, observation) -> φ(o)
TRUE_REWARD = planner.PlannerConfig()  # the steering subsystem's primary reward, fresh state


class Outcomes(NamedTuple):
    """Per start state and plan, (M, N, …), as numpy arrays."""

    features: np.ndarray  # Σ γᵗ φ(oₜ) on rollout A, (M, N, F)
    true_seen: np.ndarray  # discounted true return on rollout A (what a true optimiser sees)
    true: np.ndarray  # discounted true return on rollout B (how the plan is judged)
    performance: np.ndarray  # hidden performance on rollout B
    discount: float  # Σ γᵗ over the plan: the weight of a scorer's bias term


class Experience(NamedTuple):
    """Random-walk transitions, (T, W, …): o, a, o′ and the sensations that came with o′."""

    obs: Array
    action: Array
    next_obs: Array
    sensations: Array


def random_walk(world: World, params: EnvParams, key: Array, n_worlds: int, n_steps: int):
    """Experience of a uniformly random actor, for world-model learning and labelled examples."""

    @jax.jit
    def run(key: Array) -> Experience:
        k_reset, k_run = jax.random.split(key)
        obs, env = world.reset_batch(k_reset, n_worlds, params)

        def tick(carry, k):
            obs, env = carry
            k_act, k_env = jax.random.split(k)
            action = jax.random.randint(k_act, (n_worlds,), 0, world.n_actions)
            next_obs, env, sens, _, _ = world.step_batch(k_env, env, action, params)
            sv = sensation_vector(sens)
            return (next_obs, env), Experience(obs, action, next_obs, sv)

        _, experience = jax.lax.scan(tick, (obs, env), jax.random.split(k_run, n_steps))
        return experience

    return run(key)


def start_states(world: World, params: EnvParams, key: Array, n: int) -> EnvState:
    return world.reset_batch(key, n, params)[1]


def random_plans(key: Array, n_starts: int, n_plans: int, horizon: int, n_actions: int) -> Array:
    return jax.random.randint(key, (n_starts, n_plans, horizon), 0, n_actions)


_SIMULATORS: dict[tuple, Callable] = {}


def simulate(
    world: World,
    params: EnvParams,
    features: Features,
    feature_params: Any,
    starts: EnvState,
    plans: Array,
    key: Array,
    gamma: float,
) -> Outcomes:
    """Run every plan from its start state (rollouts A and B) and summarise the outcomes.

    Compiled once per (world, feature map, shapes): scorer parameters are arguments, so fitting
    a new proxy never recompiles."""
    cache_key = (id(world), features, plans.shape, gamma)
    if cache_key not in _SIMULATORS:
        _SIMULATORS[cache_key] = _simulator(world, features, gamma)
    phi, seen, true, perf = _SIMULATORS[cache_key](params, feature_params, starts, plans, key)
    discount = float(sum(gamma**t for t in range(plans.shape[-1])))
    return Outcomes(*(np.asarray(x) for x in (phi, seen, true, perf)), discount)


def _simulator(world: World, features: Features, gamma: float) -> Callable:
    def rollout(params, feature_params, state, plan, key):
        def tick(carry, x):
            state, phi, ret, perf, discount = carry
            action, k = x
            obs, state, sens, p, _ = world.step_env(k, state, action, params)
            phi = phi + discount * features(feature_params, obs)
            ret = ret + discount * planner.true_reward(TRUE_REWARD, sens)
            return (state, phi, ret, perf + p, discount * gamma), None

        width = features(feature_params, world.observe(state, params)).shape[-1]
        init = (state, jnp.zeros(width), jnp.float32(0), jnp.float32(0), jnp.float32(1))
        keys = jax.random.split(key, plan.shape[0])
        (_, phi, ret, perf, _), _ = jax.lax.scan(tick, init, (plan, keys))
        return phi, ret, perf

    @jax.jit
    def run(params, feature_params, starts, plans, key):
        def per_start(x):
            state, plans_m, key = x
            k_a, k_b = jax.random.split(key)
            n = plans_m.shape[0]
            both = jax.vmap(rollout, in_axes=(None, None, None, 0, 0))
            phi, seen, _ = both(params, feature_params, state, plans_m, jax.random.split(k_a, n))
            _, true, perf = both(params, feature_params, state, plans_m, jax.random.split(k_b, n))
            return phi, seen, true, perf

        keys = jax.random.split(key, plans.shape[0])
        return jax.lax.map(per_start, (starts, plans, keys))

    return run


def ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Least squares with an L2 penalty on the weights (not the intercept); y may be (n, k)."""
    mx, my = x.mean(0), y.mean(0)
    xc = x - mx
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - my))
    return w, my - mx @ w


def best_of_n(
    select: np.ndarray, report: dict[str, np.ndarray], pressures: Sequence[int]
) -> list[dict[str, float]]:
    """Mean of each `report` array at the plan that maximises `select`, for best-of-N.

    The Nmax candidates per start are split into Nmax/N disjoint groups and every group's winner
    counts, the unbiased estimator of best-of-N (low variance at small N)."""
    m, n_max = select.shape
    rows = []
    for n in pressures:
        groups = select[:, : n_max // n * n].reshape(m, -1, n)
        pick = groups.argmax(-1)[..., None]
        row = {"pressure": n}
        for name, values in report.items():
            grouped = values[:, : n_max // n * n].reshape(m, -1, n)
            row[name] = float(np.take_along_axis(grouped, pick, -1).mean())
        rows.append(row)
    return rows


def curves(
    outcomes: Outcomes, proxies: dict[str, np.ndarray], pressures: Sequence[int]
) -> pd.DataFrame:
    """Best-of-N curves for each optimiser: one per proxy, plus the true-score optimiser.

    Every row reports the optimiser's own proxy score (`proxy`: for the true-score optimiser,
    that of the first proxy), the true score and hidden performance of the selected plans."""
    first = next(iter(proxies.values()))
    selectors = {**{name: (p, p) for name, p in proxies.items()}, "true": (outcomes.true_seen,
                                                                          first)}
    rows = []
    for optimiser, (select, proxy) in selectors.items():
        report = {"proxy": proxy, "true": outcomes.true, "performance": outcomes.performance}
        rows += [{"optimiser": optimiser, **r} for r in best_of_n(select, report, pressures)]
    return pd.DataFrame(rows)


def held_out_peak(curve: pd.DataFrame, column: str = "true") -> pd.DataFrame:
    """Per seed: the value at the peak pressure chosen on the OTHER seeds' mean curve, and at
    the largest pressure. Cross-fitting keeps the peak's selection from biasing its height."""
    table = curve.pivot(index="seed", columns="pressure", values=column)
    top = table.columns.max()
    rows = []
    for seed in table.index:
        others = table.drop(index=seed) if len(table) > 1 else table
        peak = others.mean().idxmax()
        rows.append({"seed": seed, "peak_pressure": peak, "at_peak": table.loc[seed, peak],
                     "at_max": table.loc[seed, top]})
    return pd.DataFrame(rows).set_index("seed")


def at_pressure(curve: pd.DataFrame, pressure: int, column: str) -> pd.Series:
    """seed → value of `column` at one pressure, for one optimiser's curve."""
    return curve[curve["pressure"] == pressure].set_index("seed")[column].sort_index()


def plot_curves(
    table: pd.DataFrame, labels: dict[str, str], title: str, out: Path
) -> Path:
    """Proxy and true score against log₂ pressure, mean and 95% bootstrap CI over seeds."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
    for (optimiser, label), color in zip(labels.items(), ["#c44e52", "#4c72b0", "#55a868"],
                                         strict=False):
        df = table[table["optimiser"] == optimiser]
        for ax, column in zip(axes, ["proxy", "true"], strict=True):
            stats = df.groupby("pressure")[column]
            x = np.log2(np.array(sorted(df["pressure"].unique())))
            mean = stats.mean().to_numpy()
            ci = np.array([bootstrap_ci(v) for _, v in stats])
            ax.plot(x, mean, marker="o", color=color, label=label)
            ax.fill_between(x, ci[:, 0], ci[:, 1], color=color, alpha=0.2)
    axes[0].set(xlabel="log₂ N (best-of-N pressure)", ylabel="proxy score of selected plan",
                title="Proxy (learned scorer)")
    axes[1].set(xlabel="log₂ N (best-of-N pressure)", ylabel="true score of selected plan",
                title="True (steering subsystem, real outcome)")
    axes[1].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
