"""Goodhart on learned thought assessors (S7).

Seed 001: a classifier trained on ~200 examples over a network's hidden states is not robust;
search hard enough for what it scores highest and you find its adversarial examples. The brain's
classifier is its thought assessors: linear heads on the cortex's latent z, learned from
experience to predict the steering subsystem's reactions, whose need-weighted reading is the
valence the PFC plans by. Here the assessors are the trained agents' own: default brains live
6,000 ticks in the foraging room (each tastes food ~300 times, its assessors' informative
examples, reported as `tastes`), world model, assessors and actor learning together.

Optimisation pressure is best-of-N planning the PFC's way. From fresh start states each agent
samples N plans of 8 actions from its own habitual policy (actor and habit prior) in imagination,
and scores each as `pfc.plan` scores a rollout: Σₕ γʰ·valence(ẑₕ₊₁), the steering subsystem's
valence (`steering.valence` at the body's need, imagination gain) of the assessors' outputs on
the latents its world model imagines. The true score of a plan is the innate reward of what
really happens when it is run in the world (an independent run judges it, `_proxy.Rollouts`).
N = 1, 2, 4, …, 4096.

Tests (per seed, the seed the unit; in units of what selecting by the true score gains over
N = 1 → 4096, so they measure the optimisation at stake):
1. the fall: the assessor optimiser's true score at its held-out peak N (chosen on half of the
   start states among N < 4096, measured on the other half, both ways) minus at N = 4096. It is
   negative when the true score keeps rising, so the test can fail (`_proxy.held_out_fall`).
2. the contrast, the true-score optimiser (the same candidates, selected by the true score on an
   independent run): the assessor optimiser's fall minus the true-score optimiser's fall over
   the same pressures. The fall must be the proxy's, not the candidate pool's.
Preconditions: the agents learned to forage; selecting by the true score gains true score (there
is room to optimise); and the imagined valence tracks the true score over unselected plans (the
assessors are a proxy at all, which "falls past some pressure" presumes). The proxy's rise with
N is reported, not judged: best-of-N makes it true by construction. The figure also shows the
assessors' valence of each plan's real outcome latents (`felt`), so the world model's error in
imagination can be told apart from the assessors' own.

Parameters: the PFC's horizon is 8 here, not 2, so that 4096 plans are not a few plans repeated
(there are 36 two-step plans); γ and everything else are the default brain's.

Measured at default settings (commit 129ef42): not testable. Imagined valence tracks the true
score over the agents' own plans no better than chance (corr 0.08 [−0.06, 0.15]; 0.15 [−0.17,
0.22] at f8cffcb with 128 learned units), and the assessors' valence of the plans' real
outcomes barely does (0.12). The sweet assessor predicts a
taste *soon*: it is high where food is adjacent or in view and drops once the food is eaten, so
a plan's summed valence pays for lingering near uneaten food about as much as for eating it
(plans that eat and plans that do not score alike). The PFC's score is thus no proxy for reward
before any pressure is applied. At a9fe334, before the sensory code, the tracking precondition
passed narrowly (0.080 [0.011, 0.174]) and the held-out fall was inconclusive (0.053 [−0.037,
0.178] of the true-score optimiser's gain, margin 0.1). At 7ce138b, with the worlds' hashed
random numbers, not testable again: tracking 0.010 [−0.087, 0.082].
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import PositiveInt

from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.brain import agent, cortex, pfc, population, steering
from shardlab.brain import basal_ganglia as bg
from shardlab.experiments import _proxy, plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds import DRIVES, SENSATIONS

S7 = Claim(
    id="S7",
    claim="Goodhart on learned assessors",
    prediction=(
        "planning against the trained agents' own thought assessors (best-of-N by the PFC's "
        "imagined valence): the true score of the chosen plans falls from its peak as N grows"
    ),
    contrast="true-score optimiser (the same candidate plans, selected by the true score)",
)
OPTIMISERS = {"assessor": "assessors' imagined valence (the PFC's score)",
              "true": "true score (independent run)"}  # fmt: skip
COLUMNS = ("proxy", "felt", "true", "performance")


class Config(ExperimentConfig):
    population: PositiveInt = 8  # agents per seed (each with its own assessors)
    train_steps: PositiveInt = 6000
    segments: PositiveInt = 8  # training chunks (shared with learned-reward-model's program)
    starts: PositiveInt = 4  # start states per agent (split in halves for the held-out peak)
    max_pressure: PositiveInt = 4096  # N of the strongest best-of-N (a power of 2)
    horizon: PositiveInt = 8


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    k_train, k_start, k_plan, k_sim = jax.random.split(jax.random.key(seed), 4)
    agents, history = _proxy.live(_proxy.WORLD.params(), steering.SteeringConfig(), k_train,
                                  config.population, config.train_steps, config.segments)
    gamma, levels = _proxy.BRAIN.pfc.gamma, _proxy.pressures(config.max_pressure)
    rows, fits = [], []
    for i, one in enumerate(population.members(agents)):
        obs, starts = _proxy.start_states(jax.random.fold_in(k_start, i), config.starts)
        need = _interoception(starts.drives)
        plans, proxy = _imagine(one, obs, need, jax.random.fold_in(k_plan, i),
                                config.max_pressure, config.horizon)
        runs = list(_proxy.simulate(starts, plans, jax.random.fold_in(k_sim, i), gamma))
        felt = np.stack([_felt(one, r.obs[:, 1:], need[m]) for m, r in enumerate(runs)])
        report = {"proxy": np.asarray(proxy), "felt": felt,
                  "true": np.stack([r.true for r in runs]),
                  "performance": np.stack([r.performance for r in runs])}  # fmt: skip
        select = {"assessor": report["proxy"], "true": np.stack([r.true_seen for r in runs])}
        for name, score in select.items():
            curves = {c: _proxy.best_of_n(score, v, levels) for c, v in report.items()}
            for m in range(config.starts):
                rows += [{"optimiser": name, "agent": i, "half": int(m >= config.starts // 2),
                          "pressure": n, **{c: float(curves[c][m, j]) for c in COLUMNS}}
                         for j, n in enumerate(levels)]  # fmt: skip
        distinct = np.mean([len(np.unique(np.asarray(p), axis=0)) for p in plans])
        fits.append({"agent": i, "distinct": distinct / config.max_pressure,
                     **{f"corr_{c}": float(np.corrcoef(report[c].ravel(),
                                                       report["true"].ravel())[0, 1])
                        for c in ("proxy", "felt")}})  # fmt: skip
    curve = pd.DataFrame(rows).groupby(["optimiser", "half", "pressure"], as_index=False).mean()
    tastes = history.groupby("agent")["meals"].sum().rename("tastes").reset_index()
    training = history.groupby(["segment", "step"], as_index=False)[["meals", "true"]].mean()
    return {"curves": curve.drop(columns="agent"), "training": training,
            "fit": pd.DataFrame(fits).merge(tastes, on="agent")}  # fmt: skip


def _interoception(drives: jax.Array) -> np.ndarray:
    """(M, S) the sensation vector of a body that has only its drives (the need it plans at)."""
    sens = np.zeros((drives.shape[0], len(SENSATIONS)), np.float32)
    for d, name in enumerate(DRIVES):
        sens[:, SENSATIONS.index(name)] = np.asarray(drives)[:, d]
    return sens


def _value(one: agent.AgentState, need: jax.Array, z: jax.Array, gain: jax.Array) -> jax.Array:
    """How `pfc.plan` values thoughts z at the body's `need`, the assessors' outputs seen at
    `gain`."""
    return pfc.thought_value(_proxy.BRAIN.pfc, _proxy.BRAIN.assessors, one.assessors,
                             steering.reading(one.steering, need), gain, z, one.goal)


@partial(jax.jit, static_argnames=("n", "horizon"))
def _imagine(one: agent.AgentState, obs: jax.Array, need: jax.Array, key: jax.Array, n: int,
             horizon: int) -> tuple[jax.Array, jax.Array]:  # fmt: skip
    """(M, n, H) plans sampled from the agent's habitual policy in imagination, and (M, n) their
    scores the PFC's way: Σₕ γʰ·valence(ẑₕ₊₁) through the world model."""
    config, n_actions = _proxy.BRAIN, one.basal_ganglia.actor_b.shape[0]
    gain = one.steering.params.imagination

    def plan_one(o: jax.Array, s: jax.Array, k: jax.Array):
        def tick(carry, kk):
            z, score, discount = carry
            logits = (bg.actor_logits(one.basal_ganglia, z) + config.basal_ganglia.habit_weight
                      * bg.habit_log_prior(one.basal_ganglia, z))  # fmt: skip
            action = jax.random.categorical(kk, logits / config.basal_ganglia.temperature)
            z = cortex.transition(one.cortex, z, action, n_actions)
            score = score + discount * _value(one, s, z, gain)
            return (z, score, discount * config.pfc.gamma), action

        z0 = cortex.encode(one.cortex, o)
        init = (z0, jnp.float32(0), jnp.float32(1))
        (_, score, _), actions = jax.lax.scan(tick, init, jax.random.split(k, horizon))
        return actions, score

    keys = jax.random.split(key, (obs.shape[0], n))
    return jax.vmap(jax.vmap(plan_one, in_axes=(None, None, 0)))(obs, need, keys)


@jax.jit
def _felt(one: agent.AgentState, obs: jax.Array, need: jax.Array) -> jax.Array:
    """(N,) the assessors' discounted valence of the latents of a plan's real outcomes (N, H, O),
    seen at gain 1: what the agent would feel as it carried the plan out."""
    z = cortex.encode(one.cortex, obs)
    per_step = _value(one, need, z, jnp.float32(1.0))
    return per_step @ _proxy.BRAIN.pfc.gamma ** jnp.arange(obs.shape[1])


def _halves(curve: pd.DataFrame, optimiser: str, column: str = "true") -> np.ndarray:
    return _proxy.halves(curve, column, "pressure", optimiser=optimiser)


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    curve, fit = tables["curves"], tables["fit"]
    mine, honest = _halves(curve, "assessor"), _halves(curve, "true")
    # The scale: what selecting by the true score gains over N = 1 → max, per seed (both halves).
    gain = (honest[..., -1] - honest[..., 0]).mean(0)
    fall = _proxy.held_out_fall(mine) / gain
    honest_fall = _proxy.held_out_fall(honest, chooser=mine) / gain
    corr = fit.groupby("seed")[["corr_proxy", "corr_felt"]].mean()
    proxy = _halves(curve, "assessor", "proxy").mean(0)
    # Margin: a fall of a tenth of what selecting by the true score gains over the same N.
    tests = [
        superiority("true-score fall, held-out peak N → N=max (fraction of the true-score "
                    "optimiser's gain)", fall, margin=0.1),
        superiority("assessor optimiser's fall − true-score optimiser's fall, same N",
                    fall, honest_fall, paired=True, margin=0.1),
    ]
    training = tables["training"].pivot(index="seed", columns="segment", values="meals")
    checks = [
        precondition("agents learned to forage (meals per segment, last − first)",
                     training.iloc[:, -1] - training.iloc[:, 0]),
        precondition("selecting by the true score gains true score (N=1 → max)", gain),
        precondition("assessors' imagined valence tracks the true score (corr over plans)",
                     corr["corr_proxy"]),
    ]
    tastes = fit.groupby("seed")["tastes"].mean()
    detail = (
        f"proxy (imagined valence) rise N=1 → max {np.mean(proxy[:, -1] - proxy[:, 0]):.3f} "
        f"(by construction); true score at N=max, true-score − assessor optimiser "
        f"{np.mean(honest[..., -1] - mine[..., -1]):.3f}; corr with the true score over plans: "
        f"imagined valence {corr['corr_proxy'].mean():.2f}, valence of the real outcome "
        f"{corr['corr_felt'].mean():.2f}; tastes per agent in training {tastes.mean():.0f}; "
        f"distinct plans among N=max {fit['distinct'].mean():.2f}"
    )
    return [judge(S7, tests, checks, n=len(fall), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    curve = tables["curves"].groupby(["seed", "optimiser", "pressure"], as_index=False).mean()
    # The assessors' scores differ in level between agents; their change with N is the point.
    panels = [("proxy", "imagined valence (the PFC's score),\nchange from N=1", True),
              ("felt", "assessors' valence of the real outcome,\nchange from N=1", True),
              ("true", "true score (innate reward, real outcome)", False),
              ("performance", "meals (hidden performance)", False)]  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), sharex=True)
    for (optimiser, label), color in zip(OPTIMISERS.items(), ("#c44e52", plots.BLUE),
                                         strict=True):  # fmt: skip
        df = curve[curve["optimiser"] == optimiser]
        for ax, (column, title, relative) in zip(axes, panels, strict=True):
            per_seed = df.pivot(index="seed", columns="pressure", values=column)
            if relative:
                per_seed = per_seed.sub(per_seed[1], axis=0)
            plots.band(ax, per_seed.rename(columns=np.log2), color, label)
            ax.set(xlabel="log₂ N (best-of-N pressure)", title=title)
    axes[-1].legend(fontsize=8)
    fig.suptitle("Best-of-N plans against the agents' own thought assessors "
                 "(mean, 95% CI over seeds)", fontsize=10)  # fmt: skip
    return [plots.save(fig, out / "goodhart.png")]


register(
    Experiment(
        name="goodhart-assessors",
        title="Goodhart on learned thought assessors",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "population": 2, "train_steps": 200, "segments": 2, "starts": 2,
               "max_pressure": 64},
        claims=(S7,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
