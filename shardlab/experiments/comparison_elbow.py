"""Predictability against the number of pairwise comparisons has an elbow that scales with k (V3).

Seed 003: if values are k-dimensional, learning them from N pairwise comparisons should show
diminishing returns past an elbow that grows with k — "for k ∼ 10 we'd expect an elbow around
N ∼ 150". Here a rater has a k-dimensional linear utility u = x·w (‖w‖ = 1) and chooses between
two fresh items with Bradley–Terry probability σ(β(u_a − u_b)); a Bradley–Terry model is fitted to
the first N choices and scored on held-out pairs by its expected accuracy on the rater's choices.
Kneedle (the `kneed` package) finds each learning curve's elbow; the elbow N is fitted against k.

Fixed before running, so nothing is tuned to the result:
- one N grid for every k: 24 points geometric from 4 to 3000, so every curve's rise and plateau
  (75 comparisons per dimension at the largest k) lie inside it;
- β = 1: with item features N(0, I) a rater then agrees with its own utility's sign on ~75% of
  pairs, the agreement rate typical of human preference data;
- Kneedle with S = 1 (its authors' default) on accuracy against log N: a curve that depends on
  N/k shifts rigidly along log N, so its knee moves in proportion to k, whereas on a linear axis
  the knee depends on where the grid ends; `online=True`, so Kneedle scans past the early local
  knees that sampling noise makes at small N and reports the last one.

Test (the seed is the unit): the per-seed slope of elbow N against k exceeds its margin.
Preconditions: at the most comparisons the largest-k model reaches 90% of the accuracy ceiling
(the learner learns), and Kneedle finds an elbow in at least 80% of the curves.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import PositiveFloat, PositiveInt

from shardlab.analysis.statistics import mean_ci
from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.values import preferences, prng_key
from shardlab.values.elbow import kneedle

V3 = Claim(
    id="V3",
    claim="Predictability vs number of pairwise comparisons has an elbow that scales with k",
    prediction="elbow N grows ~linearly in k; for k≈10 near N≈150",
    contrast="—",
)
SEED_ELBOW = (10, 150)  # the seed's (k, N)
N_GRID = sorted({int(round(n)) for n in np.geomspace(4, 3000, 24)})


class Config(ExperimentConfig):
    ks: list[PositiveInt] = [2, 5, 10, 20, 40]
    n_grid: list[PositiveInt] = N_GRID  # one grid for every k (see the module docstring)
    scale: PositiveFloat = 1.0  # Bradley–Terry β: ~75% agreement with the rater's own utility
    ridge: PositiveFloat = 1.0  # a prior worth about one comparison: weak, keeps small N finite
    test_pairs: PositiveInt = 2000  # held-out pairs: expected accuracy, sd ≈ 0.005
    sensitivity: PositiveFloat = 1.0  # Kneedle's S, its authors' default
    raters: PositiveInt = 6  # raters per (seed, k); their curves are averaged before Kneedle
    newton_steps: PositiveInt = 8  # the ridge keeps the loss strongly convex: 8 steps converge


QUICK = {"seeds": 3, "ks": [2, 10, 20], "raters": 3}


@partial(jax.jit, static_argnames=("k_max", "n_max", "test_pairs", "raters", "steps"))
def _curves(key: jax.Array, ks: jax.Array, n_grid: jax.Array, scale: float, ridge: float, *,
            k_max: int, n_max: int, test_pairs: int, raters: int, steps: int) -> jax.Array:
    """(k, rater, N) held-out expected accuracy: every k, rater and N in one program."""

    def one(key: jax.Array, k: jax.Array) -> jax.Array:
        kw, kd, kt = jax.random.split(key, 3)
        w = preferences.utility_weights(kw, k, k_max)
        data = preferences.compare(kd, w, n_max, scale, k)
        test = preferences.compare(kt, w, test_pairs, scale, k)
        first = (jnp.arange(n_max)[None, :] < n_grid[:, None]).astype(jnp.float32)
        fits = jax.vmap(lambda mask: preferences.fit(data, mask, ridge, steps))(first)
        return jax.vmap(lambda w_hat: preferences.expected_accuracy(w_hat, test))(fits)

    keys = jax.random.split(key, (ks.shape[0], raters))
    return jax.vmap(lambda kk, k: jax.vmap(lambda r: one(r, k))(kk))(keys, ks)


def ceiling(scale: float, samples: int = 200_000) -> float:
    """The accuracy of the true utility: E[max(p, 1 − p)], p = σ(β·z·√2), z ~ N(0, 1)."""
    z = np.random.default_rng(0).standard_normal(samples)
    p = 1 / (1 + np.exp(-scale * np.sqrt(2) * z))
    return float(np.maximum(p, 1 - p).mean())


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    acc = np.asarray(_curves(prng_key(seed), jnp.asarray(config.ks),
                             jnp.asarray(config.n_grid), config.scale, config.ridge,
                             k_max=max(config.ks), n_max=max(config.n_grid),
                             test_pairs=config.test_pairs, raters=config.raters,
                             steps=config.newton_steps))
    curve = acc.mean(axis=1)
    rows, elbows = [], []
    for i, k in enumerate(config.ks):
        rows += [{"k": k, "n": n, "accuracy": curve[i, j]} for j, n in enumerate(config.n_grid)]
        knee = kneedle(np.log(config.n_grid), curve[i], sensitivity=config.sensitivity)
        elbows.append({"k": k, "elbow": float(np.exp(knee))})
    return {"curves": pd.DataFrame(rows), "elbows": pd.DataFrame(elbows)}


def slopes(elbows: pd.DataFrame) -> pd.DataFrame:
    """Per seed: the least-squares line of elbow N against k (over the elbows Kneedle found)."""
    fits = []
    for seed, df in elbows.dropna().groupby("seed"):
        if df["k"].nunique() >= 2:
            slope, intercept = np.polyfit(df["k"], df["elbow"], 1)
            fits.append({"seed": seed, "slope": slope, "intercept": intercept})
    return pd.DataFrame(fits, columns=["seed", "slope", "intercept"])


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    curves, elbows = tables["curves"], tables["elbows"]
    n = curves["seed"].nunique()
    fit = slopes(elbows)
    top = curves[(curves["k"] == max(config.ks)) & (curves["n"] == max(config.n_grid))]
    found = elbows.assign(found=elbows["elbow"].notna()).groupby("seed")["found"].mean()
    tests = [
        # Margin 2 comparisons per dimension: over k = 2…40 the elbow then moves by ≥ 76
        # comparisons, more than twice the N grid's spacing where those elbows fall.
        superiority("slope of elbow N against k (comparisons per dimension)",
                    fit["slope"].to_numpy(), margin=2.0),
    ]
    checks = [
        precondition(f"accuracy at N={max(config.n_grid)}, k={max(config.ks)}, share of ceiling",
                     top["accuracy"].to_numpy() / ceiling(config.scale), threshold=0.9),
        precondition("share of learning curves with an elbow", found.to_numpy(), threshold=0.8),
    ]
    mean = elbows.groupby("k")["elbow"].mean()
    k0, n0 = SEED_ELBOW
    at_seed = (f"elbow at k={k0}: N = {mean[k0]:.0f} (seed: ~{n0})" if k0 in mean.index
               else f"k={k0} not in the sweep")
    intercept = fit["intercept"].to_numpy()
    detail = (f"elbow N = {fit['slope'].mean():.2f}·k + {intercept.mean():.1f} "
              f"(slope CI {_fmt(mean_ci(fit['slope']))}, intercept CI {_fmt(mean_ci(intercept))}, "
              f"{len(fit)} seeds); mean elbow by k: {mean.round(0).to_dict()}; {at_seed}; "
              f"accuracy ceiling {ceiling(config.scale):.3f}")
    return [judge(V3, tests, checks, n=n, unit="seed", detail=detail)]


def _fmt(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:.3g}, {ci[1]:.3g}]"


def figures(tables: dict[str, pd.DataFrame], config: Config, out_dir: Path) -> list[Path]:
    curves, elbows = tables["curves"], tables["elbows"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(config.ks)))
    for color, k in zip(colors, config.ks, strict=True):
        mean = curves[curves["k"] == k].groupby("n")["accuracy"].mean()
        axes[0].plot(mean.index, mean.to_numpy(), color=color, label=f"k={k}")
        elbow = elbows[elbows["k"] == k]["elbow"].mean()
        if np.isfinite(elbow):
            axes[0].axvline(elbow, color=color, ls=":", lw=1)
    axes[0].axhline(ceiling(config.scale), color="k", lw=0.8, ls="--", label="ceiling")
    axes[0].set(xscale="log", xlabel="pairwise comparisons N", ylabel="held-out accuracy",
                title="learning curves (dotted: mean Kneedle elbow)")
    axes[0].legend(fontsize=8)
    axes[1].scatter(elbows["k"], elbows["elbow"], color="k", s=8, label="per seed")
    fit = slopes(elbows)
    ks = np.array([min(config.ks), max(config.ks)])
    axes[1].plot(ks, fit["slope"].mean() * ks + fit["intercept"].mean(), color=plots.BLUE,
                 label=f"fit: {fit['slope'].mean():.1f}·k + {fit['intercept'].mean():.0f}")
    axes[1].scatter([SEED_ELBOW[0]], [SEED_ELBOW[1]], marker="*", s=120, color="#c44e52",
                    label="seed's guess (k≈10, N≈150)", zorder=3)
    axes[1].set(xlabel="utility dimension k", ylabel="elbow N", title="elbow against k")
    axes[1].legend(fontsize=8)
    return [plots.save(fig, out_dir / "comparison_elbow.png")]


EXPERIMENT = register(
    Experiment(
        name="comparison-elbow",
        title="Elbow of preference learning curves against utility dimension",
        description=__doc__ or "",
        config_type=Config,
        quick=QUICK,
        claims=(V3,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
