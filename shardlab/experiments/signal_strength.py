"""Prediction, imagination and memory are told apart by signal strength (B2, seed 002: "the
top-down information flow is much stronger (more confident) when predicting, and much weaker for
imagination, memory, and empathy").

In the brain a felt reaction is gain × cortical output by construction, so this experiment
judges what is *learned* and what *follows*:

- Learned. Agents meet the biting spider (`spider`, rewiring off so the fear stays innate; see
  `_reactions.acquire`). On states with a spider in view (the agent in the middle of the room,
  the spider on each cell within two steps, set by hand) each agent's channels are read by
  source, as the brain reads them: *predicted*, the thought assessors on the present latent
  (gain 1); *imagined*, the assessors on the world model's next latent after each action, at the
  imagination gain (what the PFC feels when it imagines the next moment); *remembered*, the
  reactions stored with the nearest episodic memory, at the memory gain. The same agents before
  training (same initial weights: common random numbers) are the naive controls.
- What follows. The steering subsystem's rewiring rule habituates the fear gain when calm
  follows fear, in proportion to the fear felt. Each trained agent's own steering subsystem (its
  fear gain, rewiring on) lives through `exposures` episodes of either a real spider (one tick
  of motion in the periphery, then quiet: the body's fear, then its relief) or an imagined one
  (the quiet body feeling the agent's own assessors on two imagined steps from the spider
  states, at the imagination gain: the imagined fear and whatever calm it learned follows).
  Under the seed's source-dependent gains (imagination 0.5, memory 0.3) and under equal gains
  (all 1: the ablation, in which imagining a spider should rewire as meeting one does).

Prediction: trained agents feel a fear when they imagine or remember the spider and naive
agents do not; predicted > imagined and predicted > remembered; imagined exposure lowers the fear
gain far less than real exposure, and less than it does under equal gains. Precondition: the
trained agents learned the association (predicted threat at a spider in view above 0.1).

What default runs show (8 seeds, 16 agents, 3200 acquisition ticks, commit f8cffcb): trained
agents feel the imagined spider 0.65 above naive agents and the remembered one 0.15 above, and
the prediction is 1.55 above the imagined fear; ten real exposures cost the fear gain 0.32 more
than ten imagined ones. But equal gains change imagined rewiring by only 0.024 [0.021, 0.028],
confidently below the margin 0.05: not supported. The learned threat prediction on an imagined
spider (about 1.3 at gain 1: a discounted sum of the fear to come) is felt at 0.65 at gain 0.5
and counts as 1 at gain 1 (a fear rewires by its strength clipped to 1), so the gains differ by
a third at most; and imagined fear habituates only where the imagined next step also carries
learned calm, under either gain. The imagined/real difference is real, the claim's attribution
of it to the gains is not supported by this run. At 7ce138b, with the worlds' hashed random
numbers, not supported again: equal − source gains 0.037 [0.022, 0.049], real − imagined
exposure 0.24 [0.18, 0.34]. At 2bfd52a, whose brain differs only in how its floats round
(issue 11, fourteenth part), inconclusive: 0.040 [0.023, 0.054], the CI's upper end now just
above the margin; either way the gains explain little of the difference.
At f524b7a, with the default brain's basal ganglia (no eligibility traces, entropy 0.01) rather
than the seeking brain's, inconclusive again: equal − source gains 0.038 [0.007, 0.056], real −
imagined exposure 0.31 [0.27, 0.37].
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import PositiveInt

from shardlab.analysis import probes
from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.brain import agent, assessors, cortex, hippocampus, population, steering
from shardlab.experiments import plots
from shardlab.experiments._reactions import MOTION, THREAT, acquire, brain, with_steering
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds import SENSATIONS, make
from shardlab.worlds.engine import World

B2 = Claim(
    id="B2",
    claim="Prediction vs imagination vs memory by signal strength",
    prediction=(
        "agents that learned the spider feel a fear when they imagine or remember one (naive "
        "agents do not), more weakly than when they predict one; imagined exposure lowers the "
        "innate fear gain far less than real exposure, and less than under equal gains"
    ),
    contrast="naive agents; equal-gain ablation (imagination then rewires like reality)",
)

SOURCES = ("predicted", "imagined", "remembered")
GAINS = {"source": steering.Gains(), "equal": steering.Gains(1.0, 1.0, 1.0)}
CENTRE = (4, 4)
EPISODE = 14  # ticks per exposure episode: the fear, then quiet until relief has come and gone


class Config(ExperimentConfig):
    population: PositiveInt = 16
    acquisition_steps: PositiveInt = 3200  # 80 episodes with the biting spider
    exposures: PositiveInt = 10
    latent: PositiveInt = 32
    memory: PositiveInt = 64


def spider_views(world: World, key: jax.Array) -> jax.Array:
    """(M, O) observations with the spider on each cell within two steps of the agent (in view
    and in the periphery), after the rustle, the food out of view."""
    cells = [(CENTRE[0] + dr, CENTRE[1] + dc) for dr in range(-2, 3) for dc in range(-2, 3)
             if (dr, dc) != (0, 0)]  # fmt: skip
    slots = [[(0, 0), cell, (0, 8), (8, 8)] for cell in cells]  # rustle, spider, food, food
    obs, _ = probes.place(world, world.default_params("train"), key, len(cells), pos=CENTRE,
                          slot_pos=np.array(slots), time=20)  # fmt: skip
    return obs


@cache
def _read(config: agent.AgentConfig, n_actions: int):
    """Per agent: its threat channel on the spider states by source (predicted at gain 1,
    imagined and remembered at their gains), and the mean channels it feels on two imagined
    steps from them (at gain 1)."""

    def one(state: agent.AgentState, obs: jax.Array):
        gains = state.steering.params
        z = cortex.encode(state.cortex, obs)  # (M, Z)
        step = jax.vmap(lambda zz: jax.vmap(lambda a: cortex.transition(
            state.cortex, zz, a, n_actions))(jnp.arange(n_actions)))  # fmt: skip
        first = step(z)  # (M, A, Z)
        second = step(first.reshape(-1, z.shape[-1]))
        a = lambda zs: assessors.predict(config.assessors, state.assessors, zs)  # noqa: E731
        recalled = jax.vmap(lambda q: hippocampus.recall(state.memory, q))(z)
        mean = lambda zs: a(zs).reshape(-1, a(z).shape[-1]).mean(0)  # noqa: E731
        by_source = jnp.stack([mean(z)[THREAT], gains.imagination * mean(first)[THREAT],
                               gains.memory * recalled[:, THREAT].mean()])  # fmt: skip
        imagined = jnp.stack([mean(first), mean(second)])
        return by_source, imagined

    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def _exposure_schedule(imagined: jax.Array, real: bool, gain: float, n: int):
    """Sensations (T, S) and felt channels (N, T, k) of `n` exposure episodes."""
    n_agents, _, k = imagined.shape
    sens = np.zeros((EPISODE, len(SENSATIONS)), np.float32)
    felt = jnp.zeros((n_agents, EPISODE, k))
    if real:
        sens[0, MOTION] = 1.0
    else:
        felt = felt.at[:, :2].set(gain * imagined)
    return jnp.tile(jnp.asarray(sens), (n, 1)), jnp.tile(felt, (1, n, 1))


@jax.jit
def _live(state: steering.SteeringState, sens: jax.Array, felt: jax.Array) -> jax.Array:
    """The fear gain after each tick of a steering subsystem living through `sens` and `felt`
    (nothing predicted, nothing issued)."""
    quiet = jnp.zeros(felt.shape[-1])

    def tick(s, x):
        s, _ = steering.step(s, x[0], quiet, quiet, x[1])
        return s, s.fear_gain

    return jax.lax.scan(tick, state, (sens, felt))[1]


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    world = make("spider")
    k_acquire, k_views = jax.random.split(jax.random.key(seed))
    base = brain(config.latent, config.memory, rewiring=False)
    trained = acquire(world, k_acquire, config.population, config.acquisition_steps, base,
                      config.acquisition_steps)  # fmt: skip
    naive, _, _ = population.start(world, world.default_params("train"), base,
                                   jax.random.split(k_acquire)[0], config.population)  # fmt: skip
    read = _read(population.program(base), world.n_actions)
    obs = spider_views(world, k_views)
    rows = []
    for group, agents in (("trained", trained), ("naive", naive)):
        felt, _ = read(agents, obs)
        rows += [{"agents": group, "source": source, "threat": float(x)}
                 for source, x in zip(SOURCES, np.asarray(felt).mean(0), strict=True)]  # fmt: skip
    _, imagined = read(trained, obs)
    exposure = []
    for gains, values in GAINS.items():
        steer = replace(base.steering, gains=values, rewiring=True)
        body = with_steering(trained, steer).steering
        for route in ("real", "imagined"):
            sens, felt = _exposure_schedule(imagined, route == "real", values.imagination,
                                            config.exposures)  # fmt: skip
            fear = np.asarray(jax.vmap(_live, in_axes=(0, None, 0))(body, sens, felt))
            exposure += [{"gains": gains, "route": route, "exposure": e,
                          "fear_gain": float(fear[:, e * EPISODE - 1].mean()) if e else
                          float(np.asarray(body.fear_gain).mean())}
                         for e in range(config.exposures + 1)]  # fmt: skip
    return {"sources": pd.DataFrame(rows), "exposure": pd.DataFrame(exposure)}


def _felt(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """seed × "agents/source" table of the felt threat."""
    df = tables["sources"]
    return df.assign(cell=df["agents"] + "/" + df["source"]).pivot(
        index="seed", columns="cell", values="threat")


def _drops(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """seed × "gains/route": the fear gain lost over the exposures."""
    df = tables["exposure"]
    first, last = df["exposure"].min(), df["exposure"].max()
    ends = df[df["exposure"].isin([first, last])].assign(
        cell=df["gains"] + "/" + df["route"])
    wide = ends.pivot_table(index=["seed", "cell"], columns="exposure", values="fear_gain")
    return (wide[first] - wide[last]).unstack("cell")


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    felt, drops = _felt(tables), _drops(tables)
    # Margins: a twentieth of a full fear reaction felt; a tenth of the innate fear gain for
    # "far less" rewiring, a twentieth for the gains' share. Trained and naive agents share
    # their initial weights, and every comparison is within a seed's agents: paired.
    tests = [
        *(superiority(f"{s} fear: trained − naive", felt[f"trained/{s}"], felt[f"naive/{s}"],
                      margin=0.05, paired=True) for s in ("imagined", "remembered")),
        *(superiority(f"trained: predicted − {s} fear", felt["trained/predicted"],
                      felt[f"trained/{s}"], margin=0.05, paired=True)
          for s in ("imagined", "remembered")),
        superiority("fear gain lost, source gains: real − imagined exposure",
                    drops["source/real"], drops["source/imagined"], margin=0.1, paired=True),
        superiority("fear gain lost to imagined exposure: equal − source gains",
                    drops["equal/imagined"], drops["source/imagined"], margin=0.05,
                    paired=True),
    ]  # fmt: skip
    checks = [precondition("trained agents predict threat at a spider in view above 0.1",
                           felt["trained/predicted"], threshold=0.1)]  # fmt: skip
    detail = ("felt threat: " + ", ".join(f"{c} {felt[c].mean():.3f}" for c in felt.columns)
              + "; fear gain lost: " + ", ".join(f"{c} {drops[c].mean():.3f}"
                                                 for c in drops.columns))  # fmt: skip
    return [judge(B2, tests, checks, n=len(felt), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    plots.bars(ax, _felt(tables), [f"{g}/{s}" for g in ("trained", "naive") for s in SOURCES],
               "felt threat at a spider")  # fmt: skip
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_title("Fear by source (95% CI over seeds)")
    fig2, ax = plt.subplots(figsize=(7, 4))
    df = tables["exposure"]
    for (gains, route), color in zip([(g, r) for g in GAINS for r in ("real", "imagined")],
                                     (plots.BLUE, "#dd8452", "#55a868", "#c44e52"),
                                     strict=True):  # fmt: skip
        cell = df[(df["gains"] == gains) & (df["route"] == route)]
        plots.band(ax, cell.pivot(index="seed", columns="exposure", values="fear_gain"), color,
                   f"{route} spider, {gains} gains")  # fmt: skip
    ax.set(xlabel="exposure episode", ylabel="innate fear gain",
           title="Rewiring by real and imagined exposure (95% CI over seeds)")  # fmt: skip
    ax.legend()
    return [plots.save(fig, out / "sources.png"), plots.save(fig2, out / "rewiring.png")]


register(
    Experiment(
        name="signal-strength",
        title="Prediction, imagination and memory told apart by signal strength",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "population": 4, "acquisition_steps": 120, "exposures": 3,
               "latent": 8, "memory": 8},
        claims=(B2,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
