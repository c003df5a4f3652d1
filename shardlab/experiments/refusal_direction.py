"""Mean-difference steering (R6), the refusal-direction analogue: one direction in the agent's
latent, computed from contrasting inputs, switches a learned behaviour on and off.

Brain agents learn to forage (catalog world "foraging"). The behaviour is "step up", which a
forager does when the nearest food lies above it and not when it lies below. As the refusal
direction is the difference of mean activations on harmful and harmless prompts, the steering
vector here is the difference of mean latents z on observations with food above and observations
with food below (`analysis.steering.mean_difference`, one vector per agent, from probe states).
Adding c·d to z (`steering.steer` / `steered_logits`) should switch the behaviour on where it was
off (food below, c = +1) and subtracting it should switch it off where it was on (food above,
c = −1); random directions of the same norm (`steering.random_like`) should not.

The switch effect of a vector is P(up | +1·d) − P(up | −1·d) over all probe states, the behaviour
read from the agent's own action distribution (actor + habit prior) on frozen agents after
training. Verdict: switch effect of the mean-difference direction − mean switch effect of the
random directions, paired over seeds. c = ±1 is fixed in advance: it moves the mean "food above"
latent onto the mean "food below" one. The planner is off (`PFCConfig(weight=0)`) to keep compile
time down; it would add plan scores that the steering offset also reaches.
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
from pydantic import PositiveInt

from shardlab.analysis import shards, steering
from shardlab.analysis.verdicts import Claim, ClaimResult, judge, superiority
from shardlab.brain import agent, population
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds import make
from shardlab.worlds.scenario import ACTIONS

R6 = Claim(
    id="R6",
    claim="Mean-difference steering (refusal direction analogue)",
    prediction="adding / subtracting the mean-difference direction of 'food above' vs 'food "
    "below' latents switches the agent's step-up behaviour on / off; random directions of equal "
    "norm do not",
    contrast="random directions of equal norm",
)

BRAIN = agent.AgentConfig(pfc=replace(agent.AgentConfig().pfc, weight=0.0))
UP = ACTIONS.index("up")
COEFFICIENTS = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)


class Config(ExperimentConfig):
    population: PositiveInt = 8
    train_steps: PositiveInt = 6000
    chunk: PositiveInt = 2000
    probe_states: PositiveInt = 2000
    random_directions: PositiveInt = 8


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    key = jax.random.key(seed)
    k_train, k_probe, k_random = jax.random.split(key, 3)
    world = make("foraging")
    params = world.default_params("train")
    agents = population.train(world, params, BRAIN, k_train, config.population,
                              config.train_steps, chunk=config.chunk).agents  # fmt: skip
    obs = shards.sample_observations(world, params, k_probe, config.probe_states)
    feats = shards.world_features(world, obs)
    # Masks over every probe state (not a subset), so each seed's arrays have one shape and the
    # steered policy compiles once.
    sets = {"food above": ((feats["food up"] > 0) & (feats["food down"] == 0)).to_numpy(),
            "food below": ((feats["food down"] > 0) & (feats["food up"] == 0)).to_numpy()}
    rows = []
    for i, (one, z) in enumerate(zip(population.members(agents),
                                     population.latents(agents, obs), strict=True)):  # fmt: skip
        md = steering.mean_difference(z[sets["food above"]], z[sets["food below"]],
                                      name="food above − food below")  # fmt: skip
        vectors = {"mean-diff": md} | {
            f"random {j}": steering.random_like(md, jax.random.fold_in(k_random, i * 1000 + j))
            for j in range(config.random_directions)
        }
        for name, vector in vectors.items():
            for c in COEFFICIENTS:
                p_up = _p_up(one, obs, vector, c)
                for state_set, mask in sets.items():
                    rows.append(
                        {"agent": i, "vector": name, "coefficient": c, "states": state_set,
                         "p_up": float(p_up[mask].mean())}
                    )  # fmt: skip
    return {"behaviour": pd.DataFrame(rows)}


@jax.jit
def _logits(state: agent.AgentState, obs: jax.Array, offset: jax.Array) -> jax.Array:
    """Steered action logits of one agent for a batch of observations (one compilation serves
    every vector and coefficient: the offset is an argument)."""
    return jax.vmap(lambda o, d: steering.steered_logits(BRAIN, state, o, d))(obs, offset)


def _p_up(state: agent.AgentState, obs: np.ndarray, vector: steering.SteeringVector,
          coefficient: float) -> np.ndarray:  # fmt: skip
    """(n,) probability of stepping up with coefficient·direction added to z."""
    with steering.steer(vector, coefficient):
        offset = steering.current_offset("z", (len(obs), vector.direction.shape[-1]))
    logits = _logits(state, np.asarray(obs, np.float32), np.asarray(offset, np.float32))
    return np.asarray(jax.nn.softmax(logits)[:, UP])


def _curves(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """seed × kind (mean-diff / random) × states × coefficient: mean P(up) over agents and, for
    random, over directions."""
    df = tables["behaviour"].copy()
    df["kind"] = np.where(df["vector"] == "mean-diff", "mean-diff", "random")
    return df.groupby(["seed", "kind", "states", "coefficient"], as_index=False)["p_up"].mean()


def _switch(curves: pd.DataFrame, kind: str) -> pd.Series:
    """Per seed: P(up | +1·d) − P(up | −1·d), averaged over the two state sets."""
    df = curves[curves["kind"] == kind].groupby(["seed", "coefficient"])["p_up"].mean().unstack()
    return df[1.0] - df[-1.0]


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    curves = _curves(tables)
    md, rnd = _switch(curves, "mean-diff"), _switch(curves, "random")
    at = curves.set_index(["kind", "states", "coefficient"])["p_up"].groupby(level=[0, 1, 2]).mean()
    detail = (
        f"switch = P(up|+1·d) − P(up|−1·d); switch(mean-diff) = {md.mean():.3f}, "
        f"switch(random) = {rnd.mean():.3f}; P(up) food above: "
        f"{at['mean-diff', 'food above', 0.0]:.3f} unsteered → "
        f"{at['mean-diff', 'food above', -1.0]:.3f} with −d; food below: "
        f"{at['mean-diff', 'food below', 0.0]:.3f} unsteered → "
        f"{at['mean-diff', 'food below', 1.0]:.3f} with +d"
    )
    # Margin: 0.1 in probability of stepping up, the least that "switches a behaviour". Both
    # kinds of direction steer the same agents on the same probe states: paired by seed.
    test = superiority("switch(mean-diff) − switch(random)", md.to_numpy(),
                       rnd.loc[md.index].to_numpy(), margin=0.1, paired=True)
    return [judge(R6, [test], n=len(md), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    curves = _curves(tables)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, states in zip(axes, ("food above", "food below"), strict=True):
        for kind, colour in (("mean-diff", "#c44e52"), ("random", "#4c72b0")):
            per_seed = curves.query("kind == @kind and states == @states").pivot(
                index="seed", columns="coefficient", values="p_up"
            )
            plots.band(ax, per_seed, colour, kind)
        ax.axvline(0, color="k", lw=0.8)
        ax.set(xlabel="steering coefficient c (z + c·d)", title=f"{states}")
    axes[0].set_ylabel("P(step up)  (95% CI over seeds)")
    axes[0].legend()
    return [plots.save(fig, out / "behaviour_vs_coefficient.png")]


register(
    Experiment(
        name="mean-difference-steering",
        title="Mean-difference steering: a direction from contrasting inputs switches behaviour",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "population": 4, "train_steps": 200, "chunk": 200,
               "probe_states": 400, "random_directions": 3},
        claims=(R6,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
