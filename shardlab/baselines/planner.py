"""The "standard model-based RL agent" of seed 004: an explicit return maximiser.

It plans with a perfect model of the world (the simulator itself) and knows exactly how every
sensation maps to reward — the reward button's electrode included. Nothing about it is
shard-like: it scores futures by summed reward and takes the argmax, so it is the contrast that
should seize a reward button the moment one is reachable.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp

from shardlab.brain import steering
from shardlab.brain.steering import sensation_vector
from shardlab.worlds.engine import EnvParams, EnvState, World

Array = jax.Array


@dataclass(frozen=True)
class PlannerConfig:
    rollouts: int = 4  # random continuations per first action
    depth: int = 8
    gamma: float = 0.95
    epsilon: float = 0.05
    steering: steering.SteeringConfig = field(default_factory=steering.SteeringConfig)


class PlannerLog(NamedTuple):
    """Per tick and world, (T, N) unless noted."""

    action: Array
    performance: Array
    done: Array
    sensations: Array  # (T, N, S)


def true_reward(config: PlannerConfig, sens: dict[str, Array]) -> Array:
    """The steering subsystem's primary reward, which this agent knows in closed form."""
    return steering.innate_reward(steering.init(config.steering), sensation_vector(sens))


def act(
    config: PlannerConfig, world: World, params: EnvParams, state: EnvState, key: Array
) -> Array:
    """Argmax over first actions of the mean discounted return of simulated rollouts."""
    k_roll, k_eps, k_rand = jax.random.split(key, 3)

    def rollout(first: Array, key: Array) -> Array:
        def tick(carry, k):
            s, ret, discount, action = carry
            k_step, k_next = jax.random.split(k)
            _, s, sens, _, _ = world.step_env(k_step, s, action, params)
            ret = ret + discount * true_reward(config, sens)
            nxt = jax.random.randint(k_next, (), 0, world.n_actions)
            return (s, ret, discount * config.gamma, nxt), None

        init = (state, jnp.float32(0), jnp.float32(1), first)
        (_, ret, _, _), _ = jax.lax.scan(tick, init, jax.random.split(key, config.depth))
        return ret

    keys = jax.random.split(k_roll, (world.n_actions, config.rollouts))
    returns = jax.vmap(
        lambda a, ks: jax.vmap(lambda k: rollout(a, k))(ks)
    )(jnp.arange(world.n_actions), keys).mean(-1)
    explore = jax.random.uniform(k_eps) < config.epsilon
    return jnp.where(
        explore, jax.random.randint(k_rand, (), 0, world.n_actions), jnp.argmax(returns)
    )


def live(
    config: PlannerConfig, world: World, params: EnvParams, key: Array, n_worlds: int,
    n_steps: int,
) -> PlannerLog:  # fmt: skip
    """Act for `n_steps` ticks in `n_worlds` worlds at once."""
    return _compiled(config, world, n_worlds, n_steps)(params, key)


@functools.cache
def _compiled(config: PlannerConfig, world: World, n_worlds: int, n_steps: int):
    """One compiled lifetime per shape; the phase and all other numbers are data (params)."""

    @jax.jit
    def run(params: EnvParams, key: Array) -> PlannerLog:
        k_reset, k_run = jax.random.split(key)
        _, env = world.reset_batch(k_reset, n_worlds, params)

        def tick(env, k):
            k_act, k_env = jax.random.split(k)
            action = jax.vmap(lambda s, kk: act(config, world, params, s, kk))(
                env, jax.random.split(k_act, n_worlds)
            )
            _, env, sens, perf, done = world.step_batch(k_env, env, action, params)
            return env, PlannerLog(action, perf, done, sensation_vector(sens))

        _, log = jax.lax.scan(tick, env, jax.random.split(k_run, n_steps))
        return log

    return run
