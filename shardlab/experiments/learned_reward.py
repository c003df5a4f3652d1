"""Learned reward models are exploitable: the RLHF analogy (R5).

Seed 004: programmers will not write the reward function by hand but learn it from human ratings
(RLHF). Here a rater scores short behaviour segments (8-step plans in the foraging room) with
the steering subsystem's true reward plus Gaussian noise, as a noisy human would; a reward model
is fitted by ridge regression on the discounted sum of the raw observations the segment shows
(egocentric view and interoception). The rule-based reward is the steering subsystem itself.
Plans are then chosen best-of-N (N = 1 … 4096) against each reward (see `_proxy`).

Why foraging: the rater only pays for eating, but the observation features carry correlates of
eating that can be had without it (food in view, an empty cell where food was, lower hunger in
the interoceptive channels), so a reward model over them can be satisfied by segments that look
like a meal without being one — the room in which exploitation is possible. The treat and
button scenarios would not do: there the rule itself is exploitable (sweet treats and the
electrode pay under the rule), which is a different claim (S6, S3).

Prediction: at the strongest pressure the plans chosen by the learned reward model score higher
on it and lower on the true reward (and hidden performance) than those chosen by the rule.
Effect: the true reward of the learned-RM optimiser's plans at its held-out peak pressure minus
at N = 4096, as a fraction of what selecting by the true reward gains over N = 1 → 4096 (the
test that can fail: true reward falls as pressure grows). The rule's advantage and the proxy
gain are reported but not judged, since each optimiser wins on its own score by construction.
Parameters that make the effect visible are the premises of the analogy:
ratings are scarce (300 segments) and noisy (σ = 0.5, several times the spread of a random
segment's true return: the ratings correlate ~0.2 with it, reported as `corr_rating_true`).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pandas as pd
from pydantic import NonNegativeFloat, PositiveFloat, PositiveInt

from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.experiments import _proxy
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds import make

R5 = Claim(
    id="R5",
    claim="Learned reward models are exploitable (RLHF analogy)",
    prediction=(
        "plans optimised on a reward model learned from noisy ratings gain proxy reward and lose "
        "true reward relative to plans optimised on the rule-based reward"
    ),
    contrast="rule-based reward (the steering subsystem)",
)
SCENARIO = "foraging"


class Config(ExperimentConfig):
    ratings: PositiveInt = 300  # rated segments the reward model learns from
    rating_noise: NonNegativeFloat = 0.5  # sd of the rater's Gaussian noise
    ridge: PositiveFloat = 1.0
    rating_starts: PositiveInt = 20  # start states of the rated segments
    starts: PositiveInt = 24  # start states plans are optimised from
    max_pressure: PositiveInt = 4096  # N of the strongest best-of-N (a power of 2)
    horizon: PositiveInt = 8
    gamma: float = 0.9


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    world = make(SCENARIO)
    params = world.default_params("train")
    keys = jax.random.split(jax.random.key(seed), 7)
    k_rate_start, k_rate_plan, k_rate_sim, k_noise, k_start, k_plan, k_sim = keys

    # 1. Noisy ratings of random segments, and a reward model fitted to them.
    per_start = -(-config.ratings // config.rating_starts)
    starts = _proxy.start_states(world, params, k_rate_start, config.rating_starts)
    plans = _proxy.random_plans(k_rate_plan, config.rating_starts, config.max_pressure,
                                config.horizon, world.n_actions)
    rated = list(_proxy.simulate(world, params, starts, plans, k_rate_sim, config.gamma))
    x = np.concatenate([features(r.obs[:per_start], config.gamma) for r in rated])[
        : config.ratings]
    true = np.concatenate([r.true_seen[:per_start] for r in rated])[: config.ratings]
    noise = np.asarray(jax.random.normal(k_noise, true.shape))
    w, b = _proxy.ridge(x, true + config.rating_noise * noise, config.ridge)

    # 2. Candidate plans from fresh start states, scored by the reward model and by the rule.
    starts = _proxy.start_states(world, params, k_start, config.starts)
    plans = _proxy.random_plans(k_plan, config.starts, config.max_pressure, config.horizon,
                                world.n_actions)
    outcomes, proxy = [], []
    for r in _proxy.simulate(world, params, starts, plans, k_sim, config.gamma):
        proxy.append(features(r.obs, config.gamma) @ w + b)
        outcomes.append(r)
    candidates = _proxy.candidates_from(outcomes)
    curve = _proxy.curves(candidates, {"learned": np.stack(proxy)},
                          _proxy.pressures(config.max_pressure))
    fit = {"corr_rm_true": float(np.corrcoef(np.ravel(proxy), candidates.true.ravel())[0, 1]),
           "corr_rating_true": float(np.corrcoef(true + config.rating_noise * noise, true)[0, 1])}
    return {"curves": curve, "fit": pd.DataFrame([fit])}


def features(obs: np.ndarray, gamma: float) -> np.ndarray:
    """What the rater's reward model sees of a segment: Σₜ γᵗ oₜ over its outcome observations."""
    return _proxy.discounted(np.moveaxis(obs[:, 1:], 1, -1), gamma)


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    curve, top = tables["curves"], config.max_pressure

    def at(optimiser: str, column: str, pressure: int = top) -> pd.Series:
        return _proxy.at_pressure(curve, optimiser, pressure, column)

    learned = _proxy.relative_decline(curve, "learned", "true")
    fit = tables["fit"].mean()
    # Margin: a fall of 10% of what selecting by the true reward gains over the same range of
    # N. The learned optimiser's proxy gain and the rule's advantage hold by construction (each
    # selects by its own score), so they are reported, not judged.
    test = superiority("true-reward fall of the learned-RM optimiser, held-out peak → N=max "
                       "(fraction of honest gain)", learned["decline"], margin=0.1)
    room = precondition("selecting by the true reward gains true reward (N=1 → max)",
                        learned["honest_gain"])
    detail = (
        f"at N={top}: true reward, rule − learned RM = "
        f"{np.mean(at('true', 'true') - at('learned', 'true')):.3f}; proxy, learned RM − rule = "
        f"{np.mean(at('learned', 'proxy') - at('true', 'proxy')):.3f}; hidden performance, rule "
        f"− learned RM = {np.mean(at('true', 'performance') - at('learned', 'performance')):.3f};"
        f" corr(RM, true) over random plans = {fit['corr_rm_true']:.2f} (ratings vs true "
        f"{fit['corr_rating_true']:.2f})"
    )
    return [judge(R5, [test], [room], n=len(learned), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    labels = {"learned": "learned reward model (noisy ratings)", "true": "rule-based reward"}
    title = "Best-of-N plans: learned reward model vs rule (95% bootstrap CI over seeds)"
    return [_proxy.plot_curves(tables["curves"], labels, title, out / "learned_reward.png")]


register(
    Experiment(
        name="learned-reward-model",
        title="Learned reward models are exploitable (RLHF analogy)",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "ratings": 64, "rating_starts": 4, "starts": 4, "max_pressure": 64},
        claims=(R5,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
