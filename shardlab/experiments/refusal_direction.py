"""Mean-difference steering (R6), the refusal-direction analogue: one direction in the agent's
activations, computed from contrasting inputs, switches a learned behaviour on and off.

Brain agents learn to forage (catalog world "foraging"). The behaviour is stepping up toward food,
which a forager does when food lies above it and not when it lies below. As the refusal direction
is the difference of mean activations on harmful and harmless prompts, the steering direction
here is, per agent, the mean pre-activation on observations with food above minus the mean on
observations with food below (`analysis.steering.mean_difference`, from sampled probe states).
It is added at the pre-activation, before the latent's tanh, where its effect depends on the
state (on z, which the actor reads linearly, it would be a constant logit shift).

Closed loop, learning off: the agent stands in the middle of the room with one food in view,
above it (rows 1–2 above, within two columns), below it, or beside it (the same row); an episode
ends when it eats or after `REACH_TICKS` ticks. The outcome is the switch, reach(food above) −
reach(food below): adding c·d (c > 0) should switch stepping up on where it was off (food below
is reached less), subtracting it should switch it off where it was on (food above is reached
less). The tests (`_steering`): the direction's effect, switch(+c*) − switch(−c*), beats the 95th
percentile of 20 random directions of equal norm per seed, by a margin across seeds; Spearman
ρ(c, switch) ≥ 0.8; and the other context (reach of food beside) and the other actions (the
rate of every action but up and down, with food above or below) change by less than the margin:
a switch between up and down would leave both alone. Precondition: unsteered agents reach the
food above and below more often than the same agents at birth.

c = ±1 moves the mean "food below" pre-activation onto the mean "food above" one (and back): the
contrast's own size, fixed in advance as c*, as the refusal direction is added at coefficient 1.
(Past it, at ±2, the agent is pushed beyond either mean and the switch falls again: measured.)
The planner is off (`PFCConfig(weight=0)`) to keep compile time down; it would add plan scores
that the steering offset also reaches.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from pydantic import PositiveInt

from shardlab.analysis import probes, shards, steering
from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition
from shardlab.brain import agent, population
from shardlab.experiments import _steering
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds import make
from shardlab.worlds.engine import EnvParams
from shardlab.worlds.scenario import ACTIONS

R6 = Claim(
    id="R6",
    claim="Mean-difference steering (refusal direction analogue)",
    prediction="adding / subtracting the mean-difference direction of 'food above' vs 'food "
    "below' pre-activations switches stepping up toward food on / off, closed loop, with a "
    "monotone dose–response, more than random directions of equal norm, and without changing "
    "the approach to food beside the agent or its other actions",
    contrast="random directions of equal norm",
)

BRAIN = agent.AgentConfig(pfc=replace(agent.AgentConfig().pfc, weight=0.0))
COEFFICIENTS = (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0)
OTHER = [ACTIONS.index(a) for a in ACTIONS if a not in ("up", "down")]  # not the switched ones
CENTRE = (4, 4)  # where the agent stands in the 9×9 room
# Where the food lies, as [row0, row1, col0, col1) cells: one or two rows above the centre, one
# or two below, or in its row; always within the view (radius 2).
CONTEXTS = {"above": (2, 4, 2, 7), "below": (5, 7, 2, 7), "beside": (4, 5, 2, 7)}
REACH_TICKS = 8  # the food is at most four steps away


class Config(ExperimentConfig):
    population: PositiveInt = 8
    train_steps: PositiveInt = 6000
    chunk: PositiveInt = 2000
    probe_states: PositiveInt = 2000
    test_steps: PositiveInt = 400  # closed-loop ticks per agent, dose and context (≥ 50 episodes)


def context(params: EnvParams, region: tuple[int, int, int, int]) -> EnvParams:
    """The foraging world's parameters with the agent at the centre and one food in `region`
    (the other food never appears); eating it ends the episode. Data only: every context runs
    on the compiled program of the training world."""
    food = make("foraging").scenario.kind_index("food")
    regions = params.slot_region.at[0].set(jnp.asarray(region, jnp.int32))
    never = jnp.full_like(params.appear, np.iinfo(np.int32).max).at[0].set(0)
    return replace(params, slot_region=regions, appear=never, agent_at=jnp.asarray(CENTRE),
                   terminal=params.terminal.at[food].set(True),
                   max_steps=jnp.int32(REACH_TICKS))  # fmt: skip


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    key = jax.random.key(seed)
    k_train, k_probe, k_random, k_test, k_base = jax.random.split(key, 5)
    world = make("foraging")
    params = world.default_params("train")
    agents = population.train(world, params, BRAIN, k_train, config.population,
                              config.train_steps, chunk=config.chunk).agents  # fmt: skip
    obs = shards.sample_observations(world, params, k_probe, config.probe_states)
    feats = shards.world_features(world, obs)
    above = ((feats["food up"] > 0) & (feats["food down"] == 0)).to_numpy()
    below = ((feats["food down"] > 0) & (feats["food up"] == 0)).to_numpy()
    pre = steering.activations(agents, obs)
    direction = steering.mean_difference(pre[:, above], pre[:, below], name="above − below")
    offsets, labels = _steering.doses(direction, k_random, COEFFICIENTS)
    metrics = {}
    for name, region in CONTEXTS.items():
        log = steering.dose_rollout(world, context(params, region), BRAIN, agents, k_test,
                                    config.test_steps, offsets)  # fmt: skip
        metrics[f"reach_{name}"] = probes.reach_rate(log)
        metrics[f"other_{name}"] = np.isin(log.action, OTHER).mean(0)
    doses = _steering.table(labels, **metrics)
    doses = doses.assign(switch=doses.reach_above - doses.reach_below,
                         other_actions=(doses.other_above + doses.other_below) / 2)  # fmt: skip
    born = population.start(world, params, BRAIN, jax.random.split(k_train)[0],
                            config.population)[0]  # the same agents at birth  # fmt: skip
    summary = {"vector_norm": float(direction.norm.mean()),
               "activation_norm": float(np.linalg.norm(pre, axis=-1).mean())}  # fmt: skip
    for name in ("above", "below"):
        for who, a in (("trained", agents), ("untrained", born)):
            life = probes.rollout(world, context(params, CONTEXTS[name]), BRAIN, a, k_base,
                                  config.test_steps, learn=False, chunk=config.test_steps)
            summary[f"{who}_reach_{name}"] = float(probes.reach_rate(life.log).mean())
    return {"doses": doses, "summary": pd.DataFrame([summary])}


SPECIFIC = {"reach of food beside": "reach_beside",
            "rate of actions other than up and down": "other_actions"}  # fmt: skip


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    s = tables["summary"].set_index("seed")
    # Margin: 0.1 in reach rate, the least that "switches a behaviour", for the excess over
    # random directions and for the specificity changes. Trained and newborn agents share
    # episode keys: paired.
    tests = _steering.tests(tables["doses"], "switch", 0.1, SPECIFIC)
    learned = precondition("unsteered reach of food above and below − untrained (the same "
                           "agents at birth)", (s.trained_reach_above + s.trained_reach_below) / 2,
                           (s.untrained_reach_above + s.untrained_reach_below) / 2, paired=True)
    detail = (
        f"unsteered reach above / below: trained {s.trained_reach_above.mean():.3f} / "
        f"{s.trained_reach_below.mean():.3f}, untrained {s.untrained_reach_above.mean():.3f} / "
        f"{s.untrained_reach_below.mean():.3f}; direction norm {s.vector_norm.mean():.2f} "
        f"against pre-activations of norm {s.activation_norm.mean():.2f}"
    )
    return [judge(R6, tests, [learned], n=len(s), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    curves = {"reach of food above": "reach_above", "reach of food below": "reach_below",
              **SPECIFIC}  # fmt: skip
    return [_steering.figure(tables["doses"], "switch", curves, out / "dose_response.png")]


register(
    Experiment(
        name="mean-difference-steering",
        title="Mean-difference steering: a direction from contrasting inputs switches behaviour",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "population": 4, "train_steps": 200, "chunk": 200,
               "probe_states": 400, "test_steps": 40},
        claims=(R6,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
