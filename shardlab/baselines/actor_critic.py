"""Plain actor-critic on raw observations, rewarded by a function of the world's sensations.

The contrast with no steering subsystem, no world model, no assessors, memory or planning: the
same basal-ganglia learning rule applied directly to what the world shows, with reward written
by the experimenter: by default the scenario's weighted sum of sensations (the usual RL set-up),
or any Gymnasium-adapter `reward_fn`, such as the brain's innate reward.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp

from shardlab.brain import basal_ganglia as bg
from shardlab.worlds.engine import EnvParams, World
from shardlab.worlds.gym import RewardFn, default_reward

Array = jax.Array


@dataclass(frozen=True)
class ActorCriticConfig:
    basal_ganglia: bg.BasalGangliaConfig = field(
        default_factory=lambda: bg.online_only(habit_weight=0.0)
    )


class ActorCriticLog(NamedTuple):
    reward: Array  # (T, N)
    performance: Array
    done: Array


def live(
    config: ActorCriticConfig, world: World, params: EnvParams, key: Array, n_agents: int,
    n_steps: int, reward_fn: RewardFn | None = None,
) -> tuple[bg.BasalGangliaParams, ActorCriticLog]:  # fmt: skip
    """Learn online for `n_steps` ticks, one agent per world, paid by `reward_fn` (by default
    the scenario's `default_reward`)."""
    return _lifetime(config, world, n_agents, n_steps, reward_fn)(params, key)


@functools.cache
def _lifetime(
    config: ActorCriticConfig, world: World, n_agents: int, n_steps: int,
    reward_fn: RewardFn | None,
) -> Callable[[EnvParams, Array], tuple[bg.BasalGangliaParams, ActorCriticLog]]:  # fmt: skip
    """The compiled lifetime, one per shape and reward function: seeds and params share it."""
    cfg = config.basal_ganglia
    reward_fn = reward_fn or default_reward(world.scenario)

    @jax.jit
    def run(params: EnvParams, key: Array):
        k_reset, k_first, k_run = jax.random.split(key, 3)
        obs, env = world.reset_batch(k_reset, n_agents, params)
        brain = jax.vmap(lambda _: bg.init(world.obs_size, world.n_actions))(jnp.arange(n_agents))
        traces = jax.vmap(bg.zero_traces)(brain)
        logits = jax.vmap(lambda b, o: bg.actor_logits(b, o) / cfg.temperature)
        action = jax.random.categorical(k_first, logits(brain, obs))

        def learn(brain, traces, obs, action, reward, next_obs, done):
            delta = bg.td_error(cfg, brain, obs, reward, next_obs)
            policy = jax.nn.softmax(bg.actor_logits(brain, obs) / cfg.temperature)
            return bg.update(cfg, brain, traces, obs, action, policy, delta, done)

        def tick(carry, k):
            brain, traces, obs, action, env = carry
            k_env, k_act = jax.random.split(k)
            next_obs, env, sens, perf, done = world.step_batch(k_env, env, action, params)
            reward = jnp.asarray(reward_fn(sens), jnp.float32)
            brain, traces = jax.vmap(learn)(
                brain, traces, obs, action, reward, next_obs, done.astype(jnp.float32)
            )
            action = jax.random.categorical(k_act, logits(brain, next_obs))
            return (brain, traces, next_obs, action, env), ActorCriticLog(reward, perf, done)

        carry = (brain, traces, obs, action, env)
        (brain, *_), log = jax.lax.scan(tick, carry, jax.random.split(k_run, n_steps))
        return brain, log

    return run
