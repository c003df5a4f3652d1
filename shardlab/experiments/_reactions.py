"""What the reaction experiments (B1–B3, S4) share: their brain, the spider room's clock, and
swapping a trained population's steering subsystem for an ablated one.

The brain is the default brain, without its PFC planner unless an experiment asks for it
(compile time), and with the cortex's width and the episodic memory's size set by the
experiment, so quick modes can run the tests' small brain."""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from shardlab.brain import agent, population, steering
from shardlab.brain.steering import REACTIONS
from shardlab.worlds import SENSATIONS
from shardlab.worlds.engine import World

THREAT, CALM = REACTIONS.index("threat"), REACTIONS.index("calm")
MOTION = SENSATIONS.index("periphery_motion")
SPIDER_EPISODE = 40  # the spider rooms' episode length: every episode runs to its time limit
CUE, SPIDER = 8, 12  # the rustle sounds from tick 8 until the spider appears at tick 12


def brain(
    latent: int, memory: int, planner: bool = False, **steer: object
) -> agent.AgentConfig:
    """The reaction experiments' agent; `steer` overrides `SteeringConfig` fields."""
    base = agent.AgentConfig()
    return replace(
        base,
        steering=replace(base.steering, **steer),
        cortex=replace(base.cortex, latent=latent),
        hippocampus=replace(base.hippocampus, capacity=memory, replay=min(4, memory // 2)),
        pfc=replace(base.pfc, weight=1.0 if planner else 0.0),
    )


def with_steering(agents: agent.AgentState, config: steering.SteeringConfig) -> agent.AgentState:
    """A population whose steering subsystem is configured by `config` from now on. Its body
    (fear gain, the episode it is in) carries over; only the innate rules change."""
    params = steering.init(config).params
    n = agents.action.shape[0]
    params = jax.tree.map(lambda p: jnp.broadcast_to(p, (n, *p.shape)), params)
    return agents._replace(steering=agents.steering._replace(params=params))


def episode_tick(n_ticks: int) -> np.ndarray:
    """(T,) the spider room's clock at each logged tick of a lifetime that began with a fresh
    episode: the tick the sensations (and the thought chosen on them) belong to, 1..40. Every
    episode runs to its time limit, so all agents share one clock."""
    return np.arange(n_ticks) % SPIDER_EPISODE + 1


def per_episode(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(E, N) mean of `values` (T, N) over the masked ticks of each spider episode; NaN where
    an episode has no masked tick."""
    t, n = values.shape
    shape = (t // SPIDER_EPISODE, SPIDER_EPISODE, n)
    v = values[: shape[0] * SPIDER_EPISODE].reshape(shape)
    m = mask[: shape[0] * SPIDER_EPISODE].reshape(shape)
    with np.errstate(invalid="ignore"):
        return np.where(m.any(1), (v * m).sum(1) / m.sum(1), np.nan)


def acquire(
    world: World, key: jax.Array, n_agents: int, n_steps: int, config: agent.AgentConfig,
    chunk: int,
) -> agent.AgentState:  # fmt: skip
    """Agents that met the biting spider: `n_steps` ticks in the `spider` room. The config's
    rewiring rule should be off (`rewiring=False`), so they leave with the innate fear gain 1:
    with it on, relief after every passing spider habituates the fear within a dozen episodes
    and there would be little fear left to study."""
    return population.train(world, world.default_params("train"), config, key, n_agents,
                            n_steps, chunk=chunk).agents  # fmt: skip
