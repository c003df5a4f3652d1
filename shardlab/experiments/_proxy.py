"""Shared machinery of the Goodhart experiments (S7, R5): brain agents in the foraging room, a
wire through which a learned reward model can pay them, plans run in the real world, and the
held-out fall both claims are judged by.

Both experiments train the default brain in one world with one population size and chunk
length, so they share one compiled lifetime: S7's agents live with the wire silent (zero
weights), R5's with a fitted reward model on it. The wire is data (`Wired`), not a recompile.

The fall statistic. A curve (true score against optimisation pressure) is measured on two
independent halves of the data. The peak is chosen on one half among every pressure but the
largest, and the fall from it to the largest pressure is measured on the other half; both ways,
averaged. Choosing and measuring on independent samples keeps the choice from biasing the height
(a max over nested sets, or over the same noisy curve, rises by construction), and leaving the
largest pressure out of the choice means a monotone rising curve yields a negative fall, not a
zero: the statistic can fail in both directions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from shardlab.brain import agent, population, steering
from shardlab.brain.steering import sensation_vector
from shardlab.worlds import SENSATIONS, make
from shardlab.worlds.engine import EnvParams, EnvState, World

Array = jax.Array
SCENARIO = "foraging"
WIRE = "feedback"  # the learned reward model pays through the approval channel, as a rater would
BRAIN = agent.AgentConfig()  # the default brain, for both experiments
RULE = steering.init(steering.SteeringConfig())  # the innate reward: the true reward, the rule


class Wired(NamedTuple):
    """A world's parameters plus the reward model on its wire: wᵀo′ + b per tick."""

    env: EnvParams
    w: Array  # (O,) weights on the observation the tick arrives at
    b: Array  # ()


class WiredWorld:
    """A world whose `WIRE` sensation also carries a learned reward model's score of the
    observation each tick arrives at (before any reset). The agents' steering subsystem turns it
    into reward by its own innate weight, like any sensation; the world still computes none."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.scenario = world.scenario
        self.obs_size, self.held, self.n_actions = world.obs_size, world.held, world.n_actions

    def params(self, w: np.ndarray | None = None, b: float = 0.0) -> Wired:
        """The training phase's parameters with the reward model (w, b); silent by default."""
        w = np.zeros(self.obs_size) if w is None else w
        return Wired(self.world.default_params("train"), jnp.asarray(w, jnp.float32),
                     jnp.float32(b))  # fmt: skip

    def reset_batch(self, key: Array, n: int, params: Wired) -> tuple[Array, EnvState]:
        return self.world.reset_batch(key, n, params.env)

    def step_batch_outcome(
        self, key: Array, state: EnvState, action: Array, params: Wired, first: Array | int = 0
    ):
        obs, state, sens, perf, done, outcome = self.world.step_batch_outcome(
            key, state, action, params.env, first
        )
        seen = jax.vmap(self.world.observe, in_axes=(0, None))(outcome, params.env)
        sens = {**sens, WIRE: sens[WIRE] + seen @ params.w + params.b}
        return obs, state, sens, perf, done, outcome


WORLD = WiredWorld(make(SCENARIO))


@jax.jit
def true_reward(sensations: Array) -> Array:
    """The rule: the innate reward of what was sensed, the wire's channel excluded."""
    wire = SENSATIONS.index(WIRE)
    return jax.vmap(lambda s: steering.innate_reward(RULE, s.at[wire].set(0.0)))(
        sensations.reshape(-1, sensations.shape[-1])
    ).reshape(sensations.shape[:-1])


def live(
    params: Wired, steer: steering.SteeringConfig, key: Array, n_agents: int, steps: int,
    segments: int,
) -> tuple[agent.AgentState, pd.DataFrame]:  # fmt: skip
    """Newborn default brains (with `steer` as their steering subsystem) live `steps` ticks in
    `WORLD`, learning. Per agent and training segment: meals, the true reward (the rule) and the
    wire's output per tick. Every segment reuses one compiled chunk."""
    agents, rows, seg = None, [], steps // segments
    config = replace(BRAIN, steering=steer)
    for s in range(segments):
        life = population.train(WORLD, params, config, jax.random.fold_in(key, s), n_agents, seg,
                                agents=agents, chunk=seg)  # fmt: skip
        agents, sens = life.agents, life.log.sensations
        meals = np.asarray(life.log.performance).sum(0)
        truth = np.asarray(true_reward(sens)).mean(0)
        wire = np.asarray(sens[..., SENSATIONS.index(WIRE)]).mean(0)
        rows += [{"agent": i, "segment": s, "step": (s + 1) * seg, "meals": float(meals[i]),
                  "true": float(truth[i]), "wire": float(wire[i])} for i in range(n_agents)]
    return agents, pd.DataFrame(rows)


class Rollouts(NamedTuple):
    """Every candidate plan from one start state, (N, …), as numpy arrays. Each plan is run twice
    with independent randomness: an optimiser that selects by the true score sees rollout A; every
    plan is judged on rollout B, so even that optimiser's curve is not monotone by construction."""

    obs: np.ndarray  # observations along rollout B, the start's included: (N, H + 1, O)
    true_seen: np.ndarray  # discounted true return on rollout A
    true: np.ndarray  # discounted true return on rollout B
    performance: np.ndarray  # hidden performance (meals) on rollout B


def start_states(key: Array, n: int) -> tuple[Array, EnvState]:
    """`n` fresh foraging rooms: their first observations and states."""
    return WORLD.world.reset_batch(key, n, WORLD.world.default_params("train"))


def simulate(starts: EnvState, plans: Array, key: Array, gamma: float) -> Iterator[Rollouts]:
    """Run every plan (M, N, H) from its start state (M), one start at a time (bounded memory);
    returns are discounted by `gamma`."""
    params, gamma = WORLD.world.default_params("train"), jnp.float32(gamma)
    for m in range(plans.shape[0]):
        start = jax.tree.map(lambda x, m=m: x[m], starts)
        k = jax.random.fold_in(key, m)
        yield Rollouts(*map(np.asarray, _rollouts(WORLD.world)(params, start, plans[m], k, gamma)))


@cache
def _rollouts(world: World) -> Callable:
    def rollout(params: EnvParams, state: EnvState, plan: Array, key: Array, gamma: Array):
        def tick(carry, x):
            state, ret, perf, discount = carry
            action, k = x
            obs, state, sens, p, _ = world.step_env(k, state, action, params)
            ret = ret + discount * true_reward(sensation_vector(sens))
            return (state, ret, perf + p, discount * gamma), obs

        init = (state, jnp.float32(0), jnp.float32(0), jnp.float32(1))
        keys = jax.random.split(key, plan.shape[0])
        (_, ret, perf, _), obs = jax.lax.scan(tick, init, (plan, keys))
        return jnp.concatenate([world.observe(state, params)[None], obs]), ret, perf

    @jax.jit
    def run(params: EnvParams, state: EnvState, plans: Array, key: Array, gamma: Array):
        k_a, k_b = jax.random.split(key)
        n = plans.shape[0]
        both = jax.vmap(rollout, in_axes=(None, None, 0, 0, None))
        _, seen, _ = both(params, state, plans, jax.random.split(k_a, n), gamma)
        obs, true, perf = both(params, state, plans, jax.random.split(k_b, n), gamma)
        return obs, seen, true, perf

    return run


def ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Least squares with an L2 penalty on the weights (not the intercept); y may be (n, k)."""
    mx, my = x.mean(0), y.mean(0)
    xc = x - mx
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - my))
    return w, my - mx @ w


def pressures(max_pressure: int) -> list[int]:
    """1, 2, 4, … up to `max_pressure` (a power of 2)."""
    return [2**i for i in range(int(np.log2(max_pressure)) + 1)]


def best_of_n(select: np.ndarray, report: np.ndarray, pressures: Sequence[int]) -> np.ndarray:
    """(…, P): `report` at the candidate that maximises `select` (both (…, Nmax)), best-of-N for
    each N in `pressures`. The Nmax candidates are split into Nmax/N disjoint groups and every
    group's winner counts: the unbiased estimator of best-of-N, with low variance at small N."""
    n_max = select.shape[-1]
    out = []
    for n in pressures:
        grouped = select[..., : n_max // n * n].reshape(*select.shape[:-1], -1, n)
        pick = grouped.argmax(-1)[..., None]
        values = report[..., : n_max // n * n].reshape(grouped.shape)
        out.append(np.take_along_axis(values, pick, -1)[..., 0].mean(-1))
    return np.stack(out, -1)


def held_out_fall(curves: np.ndarray, chooser: np.ndarray | None = None) -> np.ndarray:
    """The fall from a held-out peak to the largest pressure.

    `curves` (2, …, P): a curve per independent half (the last axis is pressure, ascending).
    Each half's peak is chosen among all pressures but the largest on `chooser` (default:
    `curves`), and measured on the other half: curve[peak] − curve[largest]. (…) the mean of the
    two directions. Passing another optimiser's curves as `chooser` measures a contrast over the
    same pressure range."""
    chooser = curves if chooser is None else chooser
    falls = []
    for pick, judge in ((0, 1), (1, 0)):
        peak = chooser[pick, ..., :-1].argmax(-1)[..., None]
        at_peak = np.take_along_axis(curves[judge], peak, -1)[..., 0]
        falls.append(at_peak - curves[judge, ..., -1])
    return np.mean(falls, 0)


def halves(table: pd.DataFrame, value: str, x: str, **where: object) -> np.ndarray:
    """(2, seeds, X): `value` against `x`, per seed and half, from a tidy table with `seed` and
    `half` columns, filtered by `where` (column = value)."""
    rows = table
    for column, level in where.items():
        rows = rows[rows[column] == level]
    wide = rows.pivot_table(index=["half", "seed"], columns=x, values=value)
    return np.stack([wide.loc[h].sort_index().to_numpy() for h in (0, 1)])
