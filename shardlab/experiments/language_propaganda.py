"""Propaganda (M2): valence bleeds by association, with no reward on the concept.

Agents with a linguistic world model (`language.world_model`: pretrained MiniLM embeddings plus a
plastic part learned by skip-gram from a corpus stream) read a background culture in which words
of like valence are co-mentioned, ground a valence head on two thirds of the pool concepts (their
human-rated valence as innate valence) and freeze it. Then a campaign places a neutral **target**
concept among positive concepts `dose` times, while a matched **control** concept is placed
among neutral concepts equally often. Nothing rewards either; the head never changes.

The test: the target's assessed valence rises more than the control's (Δ target − Δ control, at
the top dose, per seed the mean over its agents). Preconditions: the frozen-world-model contrast
(the same campaign read with learning off) shows no change, and the head generalises (held-out r
with innate valence on the ungrounded pool concepts). Each seed draws its own words, so **the
unit is the seed**; each agent reads its own corpus sample.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import PositiveInt

from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.language import concepts, encoders, society
from shardlab.language.culture import Mention, Phase

M2 = Claim(
    id="M2",
    claim="Valence bleeds by association (propaganda)",
    prediction="repeated co-occurrence of a neutral concept with positive ones raises its "
    "assessed valence with no reward on it, more than a matched-exposure control concept "
    "co-mentioned with neutral ones",
    contrast="frozen world model",
)


class Config(ExperimentConfig):
    encoder: str = encoders.DEFAULT
    pool_size: PositiveInt = 30  # positive and negative pools; the neutral pool is twice as big
    doses: tuple[int, ...] = (0, 25, 50, 100, 200)  # expected campaign co-mentions
    agents_per_dose: PositiveInt = 4
    background_steps: PositiveInt = 300
    campaign_steps: PositiveInt = 300


def campaign(target: str, control: str, dose: int, steps: int, sentences: int) -> Phase:
    """Background talk plus `dose` sentences placing `target` among positive concepts and as
    many placing `control` among neutral ones."""
    share = dose / (steps * sentences)  # of all sentences, for each of the two
    weight = share * sum(m.weight for m in society.BACKGROUND) / (1 - 2 * share)
    return Phase(steps, (*society.BACKGROUND, Mention("positive", (target,), weight),
                         Mention("neutral", (control,), weight)))


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    sizes = {"positive": config.pool_size, "negative": config.pool_size,
             "neutral": 2 * config.pool_size}
    space, (target, control) = concepts.sample_space(seed, sizes, 2, config.encoder)
    setting = society.Society(background_steps=config.background_steps,
                              second_steps=config.campaign_steps)
    sentences = setting.model.sentences_per_step
    top = max(config.doses)
    arms = [(d, False) for d in config.doses for _ in range(config.agents_per_dose)]
    arms += [(top, True) for _ in range(config.agents_per_dose)]
    phases = [campaign(target, control, d, config.campaign_steps, sentences) for d, _ in arms]
    out = society.live(setting, space, phases, [0.0 if frozen else 1.0 for _, frozen in arms],
                       seed)
    t, c = space.index[target], space.index[control]
    return {"agents": pd.DataFrame({
        "agent": np.arange(len(arms)), "dose": [d for d, _ in arms],
        "frozen": [f for _, f in arms], "target": target, "control": control,
        "delta_target": out.after[:, t] - out.grounded[:, t],
        "delta_control": out.after[:, c] - out.grounded[:, c], "head_r": out.head_r,
    })}  # fmt: skip


def _per_seed(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    df = tables["agents"].assign(
        effect=lambda d: d["delta_target"] - d["delta_control"])
    return df.groupby(["seed", "frozen", "dose"], as_index=False)[
        ["effect", "delta_target", "delta_control", "head_r"]].mean()


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    per_seed = _per_seed(tables)
    top = max(config.doses)
    live = per_seed.query("not frozen and dose == @top").set_index("seed")
    frozen = per_seed.query("frozen").set_index("seed").loc[live.index]
    # Margin: 0.1 in assessed valence, a tenth of the innate scale's half-range (about 0.4 of a
    # point on Warriner's 9-point scale), the least shift a rater would notice.
    test = superiority(f"Δ target − Δ control at {top} co-mentions", live["effect"], margin=0.1)
    checks = [
        # Threshold: a fifth of the test's margin; a frozen world model should not move at all.
        precondition("frozen world model: |Δ target − Δ control|", frozen["effect"].abs(),
                     threshold=0.02, direction=-1),
        # Threshold: r 0.5, a head that ranks unseen concepts by valence well above chance.
        precondition("valence head generalises: held-out r on ungrounded concepts",
                     live["head_r"], threshold=0.5),
    ]
    doses = per_seed.query("not frozen").groupby("dose")[["delta_target", "delta_control"]].mean()
    detail = "mean Δ target / Δ control by dose: " + ", ".join(
        f"{d}: {row.delta_target:.3f} / {row.delta_control:.3f}" for d, row in doses.iterrows())
    return [judge(M2, [test], checks, n=len(live), unit="seed", detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    per_seed = _per_seed(tables)
    fig, ax = plt.subplots(figsize=(6, 4))
    plastic = per_seed.query("not frozen")
    for column, colour, label in (("delta_target", "#c44e52", "target (among positive)"),
                                  ("delta_control", plots.BLUE, "control (among neutral)")):
        plots.band(ax, plastic.pivot(index="seed", columns="dose", values=column), colour, label)
    frozen = per_seed.query("frozen")
    ax.scatter(frozen["dose"], frozen["delta_target"], marker="x", color="k",
               label="target, frozen world model")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="campaign co-mentions", ylabel="Δ assessed valence (95% CI over seeds)",
           title="propaganda: dose–response")
    ax.legend(fontsize=8)
    return [plots.save(fig, out / "dose_response.png")]


register(
    Experiment(
        name="propaganda",
        title="Propaganda: a neutral concept co-mentioned with positive ones gains valence",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "doses": (0, 200), "agents_per_dose": 2, "background_steps": 100,
               "campaign_steps": 100},
        claims=(M2,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
