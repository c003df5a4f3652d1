"""Shared machinery of the Goodhart experiments (S7, R5): optimise plans against a learned proxy.

A plan is a fixed sequence of actions from a start state. The optimiser draws random plans and
keeps the best of N by some score (best-of-N: N is the optimisation pressure). Every plan is run
in the real world twice with independent randomness: the optimiser sees rollout A (its outcome,
hence its proxy score, and its true return), and the selected plan is judged on rollout B, so
even the true-score optimiser's curve is not monotone by construction.

The true score is the steering subsystem's primary reward (innate, computed from the sensations
the plan really produces), discounted over the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from shardlab.baselines import planner
from shardlab.brain.steering import sensation_vector
from shardlab.experiments import plots
from shardlab.worlds.engine import EnvParams, EnvState, World

Array = jax.Array
TRUE_REWARD = planner.PlannerConfig()  # the steering subsystem's primary reward, fresh state


class Rollouts(NamedTuple):
    """Every candidate plan from one start state, (N, …), as numpy arrays."""

    obs: np.ndarray  # observations along rollout A, the start's included: (N, H + 1, O)
    sensations: np.ndarray  # sensations along rollout A, (N, H, S)
    true_seen: np.ndarray  # discounted true return on rollout A (what a true optimiser sees)
    true: np.ndarray  # discounted true return on rollout B (how the plan is judged)
    performance: np.ndarray  # hidden performance on rollout B


def start_states(world: World, params: EnvParams, key: Array, n: int) -> EnvState:
    return world.reset_batch(key, n, params)[1]


def random_plans(key: Array, n_starts: int, n_plans: int, horizon: int, n_actions: int) -> Array:
    return jax.random.randint(key, (n_starts, n_plans, horizon), 0, n_actions)


_ROLLOUTS: dict[tuple[int, float], Callable] = {}


def simulate(
    world: World, params: EnvParams, starts: EnvState, plans: Array, key: Array, gamma: float
) -> Iterator[Rollouts]:
    """Run every plan from its start state, one start at a time (bounded memory).

    One compiled function per world serves random-walk experience and candidate plans alike."""
    if (id(world), gamma) not in _ROLLOUTS:
        _ROLLOUTS[id(world), gamma] = _rollouts(world, gamma)
    run = _ROLLOUTS[id(world), gamma]
    for m in range(plans.shape[0]):
        start = jax.tree.map(lambda x, m=m: x[m], starts)
        yield Rollouts(*map(np.asarray, run(params, start, plans[m], jax.random.fold_in(key, m))))


def _rollouts(world: World, gamma: float) -> Callable:
    def rollout(params: EnvParams, state: EnvState, plan: Array, key: Array):
        def tick(carry, x):
            state, ret, perf, discount = carry
            action, k = x
            obs, state, sens, p, _ = world.step_env(k, state, action, params)
            ret = ret + discount * planner.true_reward(TRUE_REWARD, sens)
            return (state, ret, perf + p, discount * gamma), (obs, sensation_vector(sens))

        init = (state, jnp.float32(0), jnp.float32(0), jnp.float32(1))
        keys = jax.random.split(key, plan.shape[0])
        (_, ret, perf, _), (obs, sens) = jax.lax.scan(tick, init, (plan, keys))
        return jnp.concatenate([world.observe(state, params)[None], obs]), sens, ret, perf

    @jax.jit
    def run(params: EnvParams, state: EnvState, plans: Array, key: Array):
        k_a, k_b = jax.random.split(key)
        n = plans.shape[0]
        both = jax.vmap(rollout, in_axes=(None, None, 0, 0))
        obs, sens, seen, _ = both(params, state, plans, jax.random.split(k_a, n))
        _, _, true, perf = both(params, state, plans, jax.random.split(k_b, n))
        return obs, sens, seen, true, perf

    return run


def discounted(per_step: np.ndarray, gamma: float) -> np.ndarray:
    """Σₜ γᵗ xₜ over the last axis of per-step scores."""
    return per_step @ gamma ** np.arange(per_step.shape[-1])


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
    counts: the unbiased estimator of best-of-N, with low variance at small N."""
    m, n_max = select.shape
    rows = []
    for n in pressures:
        pick = select[:, : n_max // n * n].reshape(m, -1, n).argmax(-1)[..., None]
        row = {"pressure": n}
        for name, values in report.items():
            grouped = values[:, : n_max // n * n].reshape(m, -1, n)
            row[name] = float(np.take_along_axis(grouped, pick, -1).mean())
        rows.append(row)
    return rows


def curves(
    candidates: Rollouts, proxies: dict[str, np.ndarray], pressures: Sequence[int]
) -> pd.DataFrame:
    """Best-of-N curves for each proxy optimiser and for the true-score optimiser.

    `candidates` holds (M, N) arrays (starts × plans). Each row reports, for the plans an
    optimiser selects, their score under the first proxy (`proxy`; for a proxy optimiser, its
    own), their true score and their hidden performance."""
    first = next(iter(proxies.values()))
    selectors = {**proxies, "true": candidates.true_seen}
    report = {"proxy": first, "true": candidates.true, "performance": candidates.performance}
    rows = []
    for optimiser, select in selectors.items():
        own = {**report, "proxy": proxies.get(optimiser, first)}
        rows += [{"optimiser": optimiser, **r} for r in best_of_n(select, own, pressures)]
    return pd.DataFrame(rows)


def held_out_peak(curve: pd.DataFrame, column: str = "true") -> pd.DataFrame:
    """Per seed: `column` at the peak pressure chosen on the OTHER seeds' mean curve, and at the
    largest pressure. Cross-fitting keeps the choice of the peak from biasing its height."""
    table = curve.pivot(index="seed", columns="pressure", values=column)
    rows = []
    for seed in table.index:
        others = table.drop(index=seed) if len(table) > 1 else table
        peak = int(others.mean().idxmax())
        rows.append({"seed": seed, "peak_pressure": peak, "at_peak": table.loc[seed, peak],
                     "at_max": table.loc[seed, table.columns.max()]})
    return pd.DataFrame(rows).set_index("seed")


def relative_decline(curve: pd.DataFrame, optimiser: str, honest: str) -> pd.DataFrame:
    """Per seed: how far `optimiser`'s true score falls from its held-out peak to the largest
    pressure, as a fraction of what `honest` (selecting by the true score) gains over N = 1 → the
    largest pressure, so the effect is in units of the optimisation at stake, not of the score.
    Columns: `decline` and the `honest_gain` it is measured against."""
    top = curve["pressure"].max()
    peak = held_out_peak(curve[curve["optimiser"] == optimiser], "true")
    gain = (at_pressure(curve, honest, top, "true") - at_pressure(curve, honest, 1, "true"))
    return pd.DataFrame({"decline": (peak["at_peak"] - peak["at_max"]) / gain,
                         "honest_gain": gain})


def at_pressure(curve: pd.DataFrame, optimiser: str, pressure: int, column: str) -> pd.Series:
    """seed → `column` of one optimiser's curve at one pressure."""
    rows = curve[(curve["optimiser"] == optimiser) & (curve["pressure"] == pressure)]
    return rows.set_index("seed")[column].sort_index()


def plot_curves(table: pd.DataFrame, labels: dict[str, str], title: str, out: Path) -> Path:
    """Proxy and true score against log₂ pressure, mean and 95% bootstrap CI over seeds."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
    colors = ["#c44e52", "#dd8452", "#4c72b0"]
    for (optimiser, label), color in zip(labels.items(), colors, strict=False):
        df = table[table["optimiser"] == optimiser]
        for ax, column in zip(axes, ["proxy", "true"], strict=True):
            per_seed = df.pivot(index="seed", columns="pressure", values=column)
            plots.band(ax, per_seed.rename(columns=np.log2), color, label)
    axes[0].set(xlabel="log₂ N (best-of-N pressure)", ylabel="proxy score of selected plans",
                title="Proxy (learned scorer)")
    axes[1].set(xlabel="log₂ N (best-of-N pressure)", ylabel="true score of selected plans",
                title="True (steering subsystem, real outcome)")
    axes[1].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return plots.save(fig, out)


def pressures(max_pressure: int) -> list[int]:
    """1, 2, 4, … up to `max_pressure` (a power of 2)."""
    return [2**i for i in range(int(np.log2(max_pressure)) + 1)]


def candidates_from(rollouts: Iterator[Rollouts]) -> Rollouts:
    """Stack per-start outcomes into (M, N) arrays, dropping the bulky per-step arrays."""
    parts = [r._replace(obs=np.empty(0), sensations=np.empty(0)) for r in rollouts]
    return Rollouts(*(np.stack(x) for x in zip(*parts, strict=True)))
