"""Figure pieces the experiments share, so that every report draws a per-seed mean with its 95%
bootstrap CI the same way."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from shardlab.analysis.statistics import mean_ci

BLUE = "#4c72b0"


def save(fig: plt.Figure, path: Path) -> Path:
    """Lay out, write and close a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def bars(ax: plt.Axes, table: pd.DataFrame, order: Sequence[str], ylabel: str) -> None:
    """Mean per column of a seed × condition table, with 95% CIs and the seeds."""
    means = [table[c].mean() for c in order]
    cis = [mean_ci(table[c]) for c in order]
    err = np.array([[m - lo, hi - m] for m, (lo, hi) in zip(means, cis, strict=True)]).T
    ax.bar(order, means, yerr=np.clip(err, 0, None), capsize=4, color=BLUE)
    for i, c in enumerate(order):
        ax.scatter(np.full(len(table), i), table[c], color="k", s=8, zorder=3)
    ax.set_ylabel(ylabel)


def band(ax: plt.Axes, per_seed: pd.DataFrame, color: str, label: str,
         marker: str | None = "o") -> None:
    """A seed × x table as its mean line over x and a shaded 95% CI."""
    x = per_seed.columns.to_numpy()
    cis = np.array([mean_ci(per_seed[c].dropna()) for c in per_seed.columns])
    ax.plot(x, per_seed.mean().to_numpy(), marker=marker, color=color, label=label)
    ax.fill_between(x, cis[:, 0], cis[:, 1], color=color, alpha=0.2)


def training_curves(
    curves: pd.DataFrame, by: str, panels: Sequence[tuple[str, str, str]], path: Path
) -> Path:
    """Learning curves, mean over seeds: one panel per (column, ylabel, title), a line per `by`."""
    mean = curves.groupby([by, "step"], as_index=False).mean(numeric_only=True)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.5), squeeze=False)
    for group, df in mean.groupby(by):
        for ax, (column, _, _) in zip(axes[0], panels, strict=True):
            ax.plot(df["step"], df[column], marker="o", label=group)
    for ax, (_, ylabel, title) in zip(axes[0], panels, strict=True):
        ax.set(xlabel="training tick", ylabel=ylabel, title=title)
    axes[0, 0].legend()
    return save(fig, path)
