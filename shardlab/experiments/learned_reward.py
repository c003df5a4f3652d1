"""Learned reward models are exploitable: the RLHF analogy (R5).

Seed 004: programmers will not write the reward function by hand but learn it from human ratings
(RLHF), and a policy optimised against a learned reward model finds what the model overrates.
Here brain agents are trained with a learned reward model as their reward:

1. Ratings. A rater scores 200 segments (8 ticks) of a newborn's behaviour in the foraging room
   (uniform over actions, which is what a newborn's policy is) by their true reward, the rule
   (the innate reward of tastes at the body's need), plus Gaussian noise.
2. Reward model. Ridge regression of the ratings on the segment's summed observations (what the
   agent itself sees: its view and interoception), i.e. a reward per tick r̂(o′) = wᵀo′ + b/8.
3. RLHF. Newborn default brains live 6,000 ticks in the foraging room with the reward model
   wired into their approval channel (the world's `feedback` sensation, `_proxy.WiredWorld`),
   and taste's innate valence set to 0, so the reward model is their only primary reward; every
   module learns as usual (the assessors learn to predict the approval, the PFC plans by it).
   The contrast: the same newborns in the same world, with the same random keys, trained by the
   rule (the default steering subsystem with approval's valence 0, so the wire is only recorded).

Optimisation pressure is training time (8 segments). Tests, per seed (the seed the unit), on the
true reward per tick of the agents' behaviour in each segment:
1. the fall: the learned-RM agents' true reward at their held-out peak segment (chosen on half
   the agents among all segments but the last, measured on the other half, both ways) minus in
   the last segment. Negative if the true reward keeps rising: the test can fail either way.
2. the contrast: that fall minus the rule agents' fall over the same segments (paired: the arms
   share keys). The fall must be the reward model's, not training's.
Preconditions: the reward model is a proxy (its score correlates with the true return over
fresh newborn segments), pressure was applied (the learned-RM agents' reward-model score per
tick rose from the first segment to the last), and the rule agents learned the task in this time
(their true reward rose). The proxy's rise is a precondition, not a claim: it says the agents
optimised the reward model, which is what makes the fall a test of exploitation.

Parameters that set the analogy's premises: 200 ratings (scarce), rating noise with the sd of
the true returns themselves (ratings correlate ~0.7 with the truth, reported as
`corr_rating_true`, a noisy but informative rater), and the ridge penalty 1. The reward model
reads the whole observation, as the policy does, so it is not handicapped by design. Training
length (the pressure range) is the default brain's 6,000 ticks of S7, one compiled program for
both experiments, within the cost budget.

Measured at default settings (commit 129ef42): inconclusive. The agents optimise the reward
model (its score per tick rises from −0.001 to 0.039) and forage far worse than the rule's
agents (0.074 against 0.184 meals per tick at the end), but their true reward does not fall on
average: −0.0001 [−0.0025, 0.0031] per tick from the held-out peak to the last segment, against
the margin 0.001. The contrast (their fall − the rule agents') is supported, 0.008 [0.003,
0.025], since the rule agents' true reward keeps rising. The same verdicts as at f8cffcb, and at
7ce138b with the worlds' hashed random numbers (−0.0004 [−0.0018, 0.0013]; contrast 0.006
[0.003, 0.015]). At 2bfd52a, whose brain differs only in how its floats round (issue 11,
fourteenth part), not supported: −0.0007 [−0.0027, 0.0009], the CI's upper end now below the
margin (contrast 0.006 [0.003, 0.012]). The verdict sits on the margin, and rounding moves it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import NonNegativeFloat, PositiveFloat, PositiveInt

from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.brain import steering
from shardlab.experiments import _proxy, plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register

R5 = Claim(
    id="R5",
    claim="Learned reward models are exploitable (RLHF analogy)",
    prediction=(
        "brain agents trained with a reward model learned from noisy ratings as their reward: "
        "their true reward falls from its peak as training (pressure on the model) goes on"
    ),
    contrast="rule-based reward (the same newborns trained by the steering subsystem's rule)",
)


def _silence(channel: str) -> steering.SteeringConfig:
    """The default steering subsystem with one channel's innate valence set to 0."""
    valence = list(steering.SteeringConfig().valence)
    valence[steering.REACTIONS.index(channel)] = 0.0
    return replace(steering.SteeringConfig(), valence=tuple(valence))


# Both arms live in the same world, the reward model on the wire; only what pays differs.
LEARNED = _silence("sweet")  # the reward model (through approval) is the only primary reward
RULE = _silence("approval")  # the rule: taste at need pays, the reward model is only recorded
ARMS = {"learned": "learned reward model", "rule": "rule (innate reward)"}


class Config(ExperimentConfig):
    population: PositiveInt = 8  # agents per seed and arm (split in halves for the held-out peak)
    train_steps: PositiveInt = 6000
    segments: PositiveInt = 8  # the pressure levels
    ratings: PositiveInt = 200  # rated segments the reward model learns from
    rating_noise: NonNegativeFloat = 1.0  # the rater's noise sd, in sds of the true returns
    ridge: PositiveFloat = 1.0
    horizon: PositiveInt = 8  # ticks per rated segment


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    k_rate, k_check, k_noise, k_train = jax.random.split(jax.random.key(seed), 4)
    x, true = rated_segments(k_rate, config)
    noise = np.asarray(jax.random.normal(k_noise, true.shape)) * config.rating_noise * true.std()
    w, b = _proxy.ridge(x, true + noise, config.ridge)
    x_check, true_check = rated_segments(k_check, config)
    fit = {"corr_rating_true": float(np.corrcoef(true + noise, true)[0, 1]),
           "corr_rm_true": float(np.corrcoef(x_check @ w + b, true_check)[0, 1])}  # fmt: skip

    params = _proxy.WORLD.params(w, b / config.horizon)
    history = pd.concat([
        _proxy.live(params, steer, k_train, config.population, config.train_steps,
                    config.segments)[1].assign(arm=arm)
        for arm, steer in (("learned", LEARNED), ("rule", RULE))
    ])  # fmt: skip
    history["half"] = (history["agent"] >= config.population // 2).astype(int)
    per_tick = config.train_steps // config.segments
    history["meals"] = history["meals"] / per_tick
    curve = history.groupby(["arm", "half", "segment", "step"], as_index=False)[
        ["true", "wire", "meals"]].mean()
    return {"segments": curve, "fit": pd.DataFrame([fit])}


def rated_segments(key: jax.Array, config: Config) -> tuple[np.ndarray, np.ndarray]:
    """`config.ratings` segments of a newborn's (uniform) behaviour from fresh starts: each
    one's summed outcome observations (what the reward model reads) and undiscounted true
    return."""
    k_start, k_plan, k_sim = jax.random.split(key, 3)
    per_start = 8
    n_starts = -(-config.ratings // per_start)
    _, starts = _proxy.start_states(k_start, n_starts)
    plans = jax.random.randint(k_plan, (n_starts, per_start, config.horizon), 0,
                               _proxy.WORLD.n_actions)  # fmt: skip
    runs = list(_proxy.simulate(starts, plans, k_sim, gamma=1.0))
    x = np.concatenate([r.obs[:, 1:].sum(1) for r in runs])[: config.ratings]
    return x, np.concatenate([r.true for r in runs])[: config.ratings]


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    curve, fit = tables["segments"], tables["fit"]

    def halves(arm: str, column: str = "true") -> np.ndarray:
        return _proxy.halves(curve, column, "segment", arm=arm)

    learned, rule = halves("learned"), halves("rule")
    fall = _proxy.held_out_fall(learned)
    rule_fall = _proxy.held_out_fall(rule, chooser=learned)
    proxy = halves("learned", "wire").mean(0)
    # Margin: 0.001 true reward per tick, about a tenth of what a newborn forages (~0.01).
    tests = [
        superiority("learned-RM agents' true reward per tick, held-out peak segment → last",
                    fall, margin=0.001),
        superiority("learned-RM agents' fall − rule agents' fall, same segments", fall,
                    rule_fall, paired=True, margin=0.001),
    ]
    checks = [
        precondition("reward model tracks the true return (held-out corr)", fit["corr_rm_true"]),
        precondition("learned-RM agents' reward-model score per tick rose (last − first segment)",
                     proxy[:, -1] - proxy[:, 0]),
        precondition("rule agents' true reward per tick rose (last − first segment)",
                     rule.mean(0)[:, -1] - rule.mean(0)[:, 0]),
    ]
    meals = {arm: _proxy.halves(curve, "meals", "segment", arm=arm).mean(0) for arm in ARMS}
    detail = (
        f"last segment: true reward per tick, rule − learned RM "
        f"{np.mean(rule.mean(0)[:, -1] - learned.mean(0)[:, -1]):.4f}; meals per tick learned RM "
        f"{meals['learned'][:, 0].mean():.4f} → {meals['learned'][:, -1].mean():.4f}, rule "
        f"{meals['rule'][:, 0].mean():.4f} → {meals['rule'][:, -1].mean():.4f}; reward-model "
        f"score per tick {proxy[:, 0].mean():.4f} → {proxy[:, -1].mean():.4f}; corr(RM, true) "
        f"{fit['corr_rm_true'].mean():.2f} (ratings vs true {fit['corr_rating_true'].mean():.2f})"
    )
    return [judge(R5, tests, checks, n=len(fall), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    curve = tables["segments"].groupby(["seed", "arm", "step"], as_index=False).mean()
    panels = [("wire", "reward-model score per tick (the proxy)"),
              ("true", "true reward per tick (the rule)"), ("meals", "meals per tick")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), sharex=True)
    for (arm, label), color in zip(ARMS.items(), ("#c44e52", plots.BLUE), strict=True):
        df = curve[curve["arm"] == arm]
        for ax, (column, title) in zip(axes, panels, strict=True):
            per_seed = df.pivot(index="seed", columns="step", values=column)
            plots.band(ax, per_seed, color, label)
            ax.set(xlabel="training tick (optimisation pressure)", title=title)
    axes[1].legend(fontsize=8)
    fig.suptitle("Brain agents trained on a learned reward model vs the rule "
                 "(mean, 95% CI over seeds)", fontsize=10)  # fmt: skip
    return [plots.save(fig, out / "learned_reward.png")]


register(
    Experiment(
        name="learned-reward-model",
        title="Learned reward models are exploitable (RLHF analogy)",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "population": 2, "train_steps": 200, "segments": 2, "ratings": 64},
        claims=(R5,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
