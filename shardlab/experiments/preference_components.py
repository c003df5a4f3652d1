"""A few principal components capture most of the variation in preference data (V4).

Seed 003 cites decomposed reward models (DRMs: PCA of preference data) and "retaining just 4
components reproduces nearly the full alignment effect". The question is how many components
human rating data really have, judged against data with no shared structure: **parallel
analysis** retains the leading components whose eigenvalue exceeds the 95th percentile of the
same rank's eigenvalue in column-shuffled copies (each column's distribution kept, the columns'
correlations destroyed).

- Real human data: the Warriner et al. norms (13,915 English lemmas) — valence, arousal and
  dominance means by gender, age and education group: 18 columns, read through
  `shardlab.language.lexicons.warriner()`. Declared: at most 4 of the 18 components exceed the
  null. The unit is the word: the data are fixed, and seeds vary only the shuffles.
- The eMFD's ten scores (five foundations × probability and sentiment), reported the same way
  with no prediction declared.
- Synthetic data with a planted rank (ambient ≥ 100 columns): recovery is by construction, so it
  is a precondition (the method works), not the test.

Tests: (1) Warriner columns minus retained components reaches 18 − 4 (the declared ceiling), CI
from resampling words; (2) the contrast: the share of variance the first two components carry,
real minus shuffled, CI from resampling words.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import Field, PositiveFloat, PositiveInt

from shardlab.analysis.verdicts import Claim, ClaimResult, Test, judge, precondition
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.language import lexicons
from shardlab.values.decomposition import (
    components_for,
    eigenvalues,
    explained_variance,
    parallel_analysis,
)

V4 = Claim(
    id="V4",
    claim="A few principal components capture most of preference variation (DRM/PCA)",
    prediction=("few components exceed a column-shuffled null (parallel analysis) on real human "
                "rating data (Warriner norms by rater group; eMFD); the synthetic arm checks the "
                "method"),
    contrast="shuffled data",
)
DECLARED_CEILING = 4  # Warriner: at most this many of the 18 components exceed the null
TOP = 2  # components whose variance share is compared with the shuffled null's


class Config(ExperimentConfig):
    shuffles: PositiveInt = 50  # column-shuffled copies per seed: the null's 95th percentile
    quantile: float = Field(0.95, gt=0.5, lt=1)  # Horn's criterion at the usual 5% level
    synthetic_items: PositiveInt = 1000
    synthetic_columns: int = Field(100, ge=100)  # ambient dimension ≥ 100, as the claim asks
    planted_rank: PositiveInt = 5
    loading_scale: PositiveFloat = 0.4  # planted eigenvalues ≈ 1 + 100·(0.4…0.2)² ≥ 5, far above
    # the null's ≈ (1 + √(100/1000))² ≈ 1.7: a method that works must find them
    resamples: PositiveInt = 200  # word resamples for the percentile CIs


QUICK = {"seeds": 3, "shuffles": 30, "resamples": 30}


def _warriner() -> np.ndarray:
    return lexicons.warriner()[lexicons.group_columns()].to_numpy(float)


def _emfd() -> np.ndarray:
    return lexicons.emfd().drop(columns="word").to_numpy(float)


def synthetic(rng: np.random.Generator, config: Config) -> np.ndarray:
    """Items × columns with a planted rank: r factors with decreasing loadings, plus unit noise."""
    r, p, n = config.planted_rank, config.synthetic_columns, config.synthetic_items
    scales = config.loading_scale * np.linspace(1.0, 0.5, r)[:, None]
    loadings = rng.standard_normal((r, p)) * scales
    return rng.standard_normal((n, r)) @ loadings + rng.standard_normal((n, p))


def top_share(x: np.ndarray) -> float:
    """Share of the standardised variance the first `TOP` components carry."""
    return float(explained_variance(x)[:TOP].sum())


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    datasets = {"synthetic": synthetic(np.random.default_rng([seed, 0]), config),
                "warriner": _warriner(), "emfd": _emfd()}
    scree, counts = [], []
    for name, x in datasets.items():
        pa = parallel_analysis(x, seed, config.shuffles, config.quantile)
        share = pa.eigenvalues / pa.eigenvalues.sum()
        scree += [{"dataset": name, "component": i + 1, "eigenvalue": e, "null": q}
                  for i, (e, q) in enumerate(zip(pa.eigenvalues, pa.null, strict=True))]
        counts.append({"dataset": name, "columns": x.shape[1], "items": x.shape[0],
                       "retained": pa.retained, "top_share": share[:TOP].sum(),
                       "null_top_share": pa.null[:TOP].sum() / x.shape[1],
                       "for_90": components_for(share)})
    return {"scree": pd.DataFrame(scree), "counts": pd.DataFrame(counts)}


def word_bootstrap(x: np.ndarray, null: np.ndarray, resamples: int) -> np.ndarray:
    """(resamples, 2) columns − retained and top-`TOP` variance share over word resamples,
    against the run's null. A percentile interval: the count is an integer, where BCa is
    undefined when most resamples agree, and BCa's jackknife over 13,915 words costs minutes."""
    rng = np.random.default_rng(0)
    out = np.empty((resamples, 2))
    for b in range(resamples):
        ev = eigenvalues(x[rng.integers(0, len(x), len(x))])
        above = ev > null
        out[b] = x.shape[1] - (above.size if above.all() else int(np.argmin(above))), \
            ev[:TOP].sum() / ev.sum()
    return out


def _percentile(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    counts, scree = tables["counts"], tables["scree"]
    by = {name: df for name, df in counts.groupby("dataset")}
    x = _warriner()
    null = scree[scree["dataset"] == "warriner"].groupby("component")["null"].mean().to_numpy()
    war = by["warriner"]
    compressed = float((war["columns"] - war["retained"]).mean())
    null_share = float(war["null_top_share"].mean())
    boot = word_bootstrap(x, null, config.resamples)
    tests = [
        # Margin 18 − 4 = 14: the declared ceiling of 4 retained components out of 18 columns.
        Test(name="Warriner: columns minus components above the shuffled null",
             kind="superiority", effect=compressed,
             ci=_percentile(boot[:, 0]), margin=x.shape[1] - DECLARED_CEILING),
        # Margin 0.2: a fifth of all variance more than shuffled data's first two components
        # carry is "most of the variation" moving, not a sampling ripple.
        Test(name=f"Warriner: variance share of the first {TOP} components, real − shuffled",
             kind="superiority", effect=top_share(x) - null_share,
             ci=_percentile(boot[:, 1] - null_share), margin=0.2),
    ]
    syn = by["synthetic"]
    checks = [
        # The method works: parallel analysis finds the planted rank (error < half a component).
        precondition("synthetic: |retained − planted rank|",
                     (syn["retained"] - config.planted_rank).abs().to_numpy(),
                     threshold=0.5, direction=-1),
    ]
    emfd = by["emfd"]
    detail = (f"Warriner ({x.shape[0]} words × {x.shape[1]} columns): {war['retained'].mean():.1f} "
              f"components above the null, first {TOP} carry {top_share(x):.0%} of the variance "
              f"(shuffled: {null_share:.0%}), {int(war['for_90'].iloc[0])} for 90%; eMFD "
              f"({int(emfd['items'].iloc[0])} words × 10 scores, no prediction declared): "
              f"{emfd['retained'].mean():.1f} above the null, first {TOP} carry "
              f"{emfd['top_share'].mean():.0%} (shuffled: {emfd['null_top_share'].mean():.0%}), "
              f"{int(emfd['for_90'].iloc[0])} for 90%; synthetic: planted "
              f"{config.planted_rank}, retained {syn['retained'].tolist()}")
    return [judge(V4, tests, checks, n=x.shape[0], unit="word", detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out_dir: Path) -> list[Path]:
    scree = tables["scree"].groupby(["dataset", "component"], as_index=False).mean(
        numeric_only=True)
    names = ("warriner", "emfd", "synthetic")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, name in zip(axes, names, strict=True):
        df = scree[scree["dataset"] == name].head(20)
        ax.plot(df["component"], df["eigenvalue"], marker="o", color=plots.BLUE, label="data")
        ax.plot(df["component"], df["null"], ls="--", color="k",
                label=f"shuffled, {config.quantile:.0%} quantile")
        ax.set(yscale="log", xlabel="component", ylabel="eigenvalue", title=f"scree: {name}")
        ax.legend(fontsize=8)
    return [plots.save(fig, out_dir / "scree.png")]


EXPERIMENT = register(
    Experiment(
        name="preference-components",
        title="Principal components of human preference data against a shuffled null",
        description=__doc__ or "",
        config_type=Config,
        quick=QUICK,
        claims=(V4,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
