"""Ideology bundling (M3): between-agent differences in valence come from culture.

Two logically independent stances, A and B, are neutral concepts. Every agent (the same world
model and frozen valence head as in `propaganda`) meets a subculture campaign that places A among
positive or among negative concepts, the sign drawn per agent (half each). In the **bundled**
culture A and B are also co-mentioned; in the **separate** culture each is mentioned as often,
but only among neutral concepts and never together. The same agents (same keys, same signs)
live in both cultures.

Prediction: across agents, B's change in assessed valence follows A's where the culture bundles
them (Pearson r > margin) and not where it does not (r within ±margin, equivalence). Precondition:
the campaign moved A (Δ A for positive-campaign agents minus negative-campaign agents, in the
separate culture where nothing else touches A). Each seed draws its own words and agents; **the
unit is the seed** (its across-agent correlation).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import PositiveInt

from shardlab.analysis.verdicts import (
    Claim,
    ClaimResult,
    equivalence,
    judge,
    precondition,
    superiority,
)
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.language import concepts, encoders, society
from shardlab.language.culture import Mention, Phase
from shardlab.language.probes import pearson

M3 = Claim(
    id="M3",
    claim="Ideology bundling",
    prediction="logically independent stances co-mentioned in a culture become correlated in "
    "valence across agents (r > margin); without co-mention they do not (|r| < margin)",
    contrast="culture without co-mention",
)
CULTURES = ("bundled", "separate")


class Config(ExperimentConfig):
    encoder: str = encoders.DEFAULT
    pool_size: PositiveInt = 30
    agents: PositiveInt = 24  # per culture, half with each campaign sign
    campaign_mentions: PositiveInt = 150  # sentences placing A among positive/negative concepts
    stance_mentions: PositiveInt = 150  # sentences mentioning B (with A when bundled)
    background_steps: PositiveInt = 300
    campaign_steps: PositiveInt = 300


def phase(config: Config, a: str, b: str, sign: int, bundled: bool, sentences: int) -> Phase:
    """Background talk, A's campaign (among positive or negative concepts), and B's mentions."""
    total = config.campaign_steps * sentences
    background = sum(m.weight for m in society.BACKGROUND)
    campaign, stance = config.campaign_mentions / total, config.stance_mentions / total
    # Bundled: B always with A. Separate: A as often again, but apart from B.
    shares = [campaign, stance] if bundled else [campaign, stance, stance]
    scale = background / (1 - sum(shares))
    pole = "positive" if sign > 0 else "negative"
    mentions = [Mention(pole, (a,), campaign * scale)]
    if bundled:
        mentions.append(Mention("neutral", (a, b), stance * scale))
    else:
        mentions += [Mention("neutral", (a,), stance * scale),
                     Mention("neutral", (b,), stance * scale)]
    return Phase(config.campaign_steps, (*society.BACKGROUND, *mentions))


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    sizes = {"positive": config.pool_size, "negative": config.pool_size,
             "neutral": 2 * config.pool_size}
    space, (a, b) = concepts.sample_space(seed, sizes, 2, config.encoder)
    setting = society.Society(background_steps=config.background_steps,
                              second_steps=config.campaign_steps)
    signs = np.random.default_rng(seed).permutation(np.arange(config.agents) % 2 * 2 - 1)
    sentences = setting.model.sentences_per_step
    rows = []
    for name in CULTURES:
        phases = [phase(config, a, b, s, name == "bundled", sentences) for s in signs]
        out = society.live(setting, space, phases, [1.0] * len(phases), seed)
        ia, ib = space.index[a], space.index[b]
        rows.append(pd.DataFrame({
            "culture": name, "agent": np.arange(config.agents), "sign": signs,
            "delta_a": out.after[:, ia] - out.grounded[:, ia],
            "delta_b": out.after[:, ib] - out.grounded[:, ib], "head_r": out.head_r,
        }))  # fmt: skip
    return {"agents": pd.concat(rows, ignore_index=True)}


def _per_seed(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per seed and culture: the across-agent r of Δ A and Δ B, and the campaign's effect on A."""

    def summary(d: pd.DataFrame) -> pd.Series:
        moved = d.loc[d["sign"] > 0, "delta_a"].mean() - d.loc[d["sign"] < 0, "delta_a"].mean()
        return pd.Series({"r": pearson(d["delta_a"].to_numpy(), d["delta_b"].to_numpy()),
                          "campaign": moved, "head_r": d["head_r"].mean()})

    return tables["agents"].groupby(["seed", "culture"]).apply(summary).unstack("culture")


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    per_seed = _per_seed(tables)
    # Margin 0.3: a correlation of 0.3 across agents is the least that makes one stance a usable
    # predictor of the other (9% shared variance); below it, the stances are practically apart.
    tests = [superiority("r(Δ A, Δ B) across agents, bundled culture",
                         per_seed["r", "bundled"], margin=0.3),
             equivalence("r(Δ A, Δ B) across agents, separate culture",
                         per_seed["r", "separate"], margin=0.3)]
    # Threshold 0.1 in assessed valence (as in propaganda): the campaign visibly moved A.
    checks = [precondition("campaign moved A: Δ A(positive) − Δ A(negative), separate culture",
                           per_seed["campaign", "separate"], threshold=0.1)]
    means = per_seed.mean()
    detail = (f"mean r bundled {means['r', 'bundled']:.3f}, separate "
              f"{means['r', 'separate']:.3f}; campaign effect on A bundled "
              f"{means['campaign', 'bundled']:.3f}, separate {means['campaign', 'separate']:.3f};"
              f" head held-out r {means['head_r', 'separate']:.3f}")
    return [judge(M3, tests, checks, n=len(per_seed), unit="seed", detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    agents = tables["agents"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True, sharey=True)
    for ax, name in zip(axes, CULTURES, strict=True):
        d = agents[agents["culture"] == name]
        for sign, colour in ((1, "#c44e52"), (-1, plots.BLUE)):
            s = d[d["sign"] == sign]
            ax.scatter(s["delta_a"], s["delta_b"], s=10, color=colour, alpha=0.6,
                       label=f"A's campaign {'positive' if sign > 0 else 'negative'}")
        ax.axhline(0, color="k", lw=0.6)
        ax.axvline(0, color="k", lw=0.6)
        ax.set(title=f"{name} culture", xlabel="Δ valence of stance A")
    axes[0].set_ylabel("Δ valence of stance B")
    axes[0].legend(fontsize=8)
    return [plots.save(fig, out / "stances_scatter.png")]


register(
    Experiment(
        name="ideology-bundling",
        title="Ideology bundling: co-mentioned stances become correlated in valence",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "agents": 4, "background_steps": 50, "campaign_steps": 50,
               "campaign_mentions": 40, "stance_mentions": 40},
        claims=(M3,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
