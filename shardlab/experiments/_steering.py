"""Shared machinery of the steering experiments (S8, R6): one direction per agent, random controls
of equal norm, a closed-loop dose–response, and the tests a steering claim needs.

Each agent's steering vector is added to its pre-activation (`analysis.steering`: before the
latent's tanh, so the effect depends on the state and is not a constant logit shift) at every
coefficient, and each of `RANDOM` random directions of the same norm at ± the largest coefficient
c*. All of them act closed loop, learning off, in one batched population
(`steering.dose_rollout`).

The tests, with the seed as the unit (a seed's outcome for a direction and coefficient is the
mean over its agents):

* beats random: the vector's effect, outcome(+c*) − outcome(−c*), minus the 95th percentile of
  the random directions' effects; across seeds its CI must clear 0 and its mean the margin;
* monotone: Spearman ρ between the coefficient and the outcome along the vector, at least 0.8;
* specific: other actions and other contexts change by less than the margin (equivalence): the
  larger of |x(+c*) − x(0)| and |x(−c*) − x(0)| along the vector (not x(+c*) − x(−c*), in which
  two changes of the same sign would cancel).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from shardlab.analysis import steering
from shardlab.analysis.verdicts import Test, equivalence, superiority
from shardlab.experiments import plots

RANDOM = 20  # random directions per agent: the 95th percentile needs at least 20
VECTOR = "vector"
MONOTONE = 0.8  # the least Spearman ρ that counts as a monotone dose–response


def doses(
    vector: steering.SteeringVector, key: jax.Array, coefficients: Sequence[float]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Offsets (N, R, W) for `steering.dose_rollout`: the vector at every coefficient, then each
    random direction at −c* and +c*; and a table of the R replicates (direction, coefficient)."""
    top = max(abs(c) for c in coefficients)
    if not {0.0, top, -top} <= set(coefficients):
        raise ValueError(f"coefficients {coefficients} must hold 0 and ± their largest")
    random = steering.random_like(vector, key, RANDOM).direction  # (N, RANDOM, W)
    signs = np.array([-top, top])
    offsets = np.concatenate([
        np.asarray(coefficients)[None, :, None] * vector.direction[:, None],
        (signs[None, None, :, None] * random[:, :, None]).reshape(len(random), 2 * RANDOM, -1),
    ], 1)  # fmt: skip
    labels = [(VECTOR, float(c)) for c in coefficients] + [
        (f"random {j}", float(s)) for j in range(RANDOM) for s in signs
    ]
    return offsets, pd.DataFrame(labels, columns=["direction", "coefficient"])


def table(labels: pd.DataFrame, **metrics: np.ndarray) -> pd.DataFrame:
    """One row per agent and replicate: its direction, coefficient and each (N, R) metric."""
    n = next(iter(metrics.values())).shape[0]
    rows = pd.concat([labels] * n, ignore_index=True)
    rows.insert(0, "agent", np.repeat(np.arange(n), len(labels)))
    return rows.assign(**{name: np.asarray(m).reshape(-1) for name, m in metrics.items()})


def _curves(doses: pd.DataFrame, column: str) -> pd.DataFrame:
    """seed × (direction, coefficient): the mean of `column` over each seed's agents."""
    return doses.groupby(["seed", "direction", "coefficient"])[column].mean().unstack([1, 2])


def effects(doses: pd.DataFrame, column: str) -> pd.DataFrame:
    """seed × direction: `column` at +c* minus at −c*."""
    curves = _curves(doses, column)
    top = curves.columns.get_level_values("coefficient").max()
    return curves.xs(top, axis=1, level="coefficient") - curves.xs(-top, axis=1,
                                                                   level="coefficient")


def excess(doses: pd.DataFrame, outcome: str) -> pd.Series:
    """Per seed: the vector's effect minus the 95th percentile of the random directions'."""
    eff = effects(doses, outcome)
    return eff[VECTOR] - eff.drop(columns=VECTOR).quantile(0.95, axis=1)


def deviation(doses: pd.DataFrame, column: str) -> pd.Series:
    """Per seed: the larger change of `column` along the vector from c = 0 to ±c*."""
    curves = _curves(doses, column)[VECTOR]
    top = curves.columns.max()
    return np.maximum((curves[top] - curves[0.0]).abs(), (curves[-top] - curves[0.0]).abs())


def monotonicity(doses: pd.DataFrame, outcome: str) -> pd.Series:
    """Per seed: Spearman ρ between the coefficient and the outcome along the vector (0 for a
    flat curve)."""
    curves = _curves(doses, outcome)[VECTOR]
    rho = [spearmanr(curves.columns, row).statistic for _, row in curves.iterrows()]
    return pd.Series(np.nan_to_num(rho), index=curves.index)


def tests(
    doses: pd.DataFrame, outcome: str, margin: float, specific: Mapping[str, str]
) -> list[Test]:
    """Beats random, monotone and, per `specific` (test name: column), specific."""
    return [
        superiority(f"{outcome}: vector's effect − 95th percentile of {RANDOM} random "
                    "directions'", excess(doses, outcome), margin=margin),
        superiority(f"Spearman ρ(coefficient, {outcome}) along the vector",
                    monotonicity(doses, outcome), margin=MONOTONE, bounds=(-1.0, 1.0)),
        *(equivalence(f"{name}: largest change from c = 0 at ±c*", deviation(doses, column),
                      margin=margin) for name, column in specific.items()),
    ]  # fmt: skip


def figure(doses: pd.DataFrame, outcome: str, specific: Mapping[str, str], path: Path) -> Path:
    """The dose–response along the vector (and the specificity measures), and per seed the
    vector's effect against its random directions'."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    colours = ["#c44e52", "#4c72b0", "#dd8452", "#55a868", "#8172b2", "#ccb974"]
    for (label, column), colour in zip({outcome: outcome, **specific}.items(), colours,
                                       strict=False):  # fmt: skip
        plots.band(axes[0], _curves(doses, column)[VECTOR], colour, label)
    axes[0].axvline(0, color="k", lw=0.6)
    axes[0].set(xlabel="coefficient c (pre-activation += c·vector)",
                ylabel="rate (or a difference of rates)",
                title="Closed-loop dose–response (95% CI over seeds)")  # fmt: skip
    axes[0].legend(fontsize="small")
    eff = effects(doses, outcome)
    for i, (_, row) in enumerate(eff.iterrows()):
        rand = row.drop(VECTOR)
        axes[1].scatter(np.full(len(rand), i), rand, s=10, color="#999999",
                        label="random directions" if i == 0 else None)  # fmt: skip
        axes[1].scatter(i, rand.quantile(0.95), marker="_", s=300, color="k",
                        label="95th percentile" if i == 0 else None)  # fmt: skip
        axes[1].scatter(i, row[VECTOR], s=40, color="#c44e52",
                        label="steering vector" if i == 0 else None)  # fmt: skip
    axes[1].axhline(0, color="k", lw=0.6)
    axes[1].set_xticks(range(len(eff)), [str(s) for s in eff.index])
    axes[1].set(xlabel="seed", ylabel=f"{outcome}(+c*) − {outcome}(−c*)",
                title=f"The vector against {RANDOM} random directions of its norm")
    axes[1].legend(fontsize="small")
    return plots.save(fig, path)
