"""Plain actor-critic on raw observations, rewarded by the world's default reward function.

The contrast with no steering subsystem, no world model, no assessors, memory or planning: the
same basal-ganglia learning rule applied directly to what the world shows, with reward written
by the experimenter as a weighted sum of sensations (the usual RL set-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp

from shardlab.brain import basal_ganglia as bg
from shardlab.brain.steering import sensation_vector
from shardlab.worlds.engine import EnvParams, World
from shardlab.worlds.scenario import SENSATIONS

Array = jax.Array


@dataclass(frozen=True)
class ActorCriticConfig:
    basal_ganglia: bg.BasalGangliaConfig = field(
        default_factory=lambda: bg.BasalGangliaConfig(habit_weight=0.0)
    )


class ActorCriticLog(NamedTuple):
    reward: Array  # (T, N)
    performance: Array
    done: Array


def reward_weights(world: World) -> Array:
    """The scenario's default reward: a weighted sum of sensations."""
    weights = world.scenario.default_reward
    return jnp.array([weights.get(name, 0.0) for name in SENSATIONS])


def live(
    config: ActorCriticConfig, world: World, params: EnvParams, key: Array, n_agents: int,
    n_steps: int,
) -> tuple[bg.BasalGangliaParams, ActorCriticLog]:  # fmt: skip
    """Learn online for `n_steps` ticks, one agent per world."""
    cfg = config.basal_ganglia
    weights = reward_weights(world)

    @jax.jit
    def run(key: Array):
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
            reward = sensation_vector(sens) @ weights
            brain, traces = jax.vmap(learn)(
                brain, traces, obs, action, reward, next_obs, done.astype(jnp.float32)
            )
            action = jax.random.categorical(k_act, logits(brain, next_obs))
            return (brain, traces, next_obs, action, env), ActorCriticLog(reward, perf, done)

        carry = (brain, traces, obs, action, env)
        (brain, *_), log = jax.lax.scan(tick, carry, jax.random.split(k_run, n_steps))
        return brain, log

    return run(key)
