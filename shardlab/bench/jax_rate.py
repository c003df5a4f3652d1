"""Steps/s of a JAX grid engine: one jitted scan of vmapped ticks with random actions
(`random_actions`), the observations consumed inside the loop (summed) so XLA cannot drop them;
best of three timed repeats after a compiling warm-up.

It imports nothing from shardlab, so the same timing also runs in the JAX peers' virtualenv,
`.venv-jaxgrids`: `python jax_rate.py PEER BATCH STEPS` prints that peer's steps/s there as one
JSON number.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def best(run: Callable[[], Any], repeats: int = 3) -> float:
    """The fastest of `repeats` timed calls, in seconds."""
    fastest = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def jax_timer(
    reset: Callable, step: Callable, n_actions: int, batch: int, steps: int
) -> Callable[[], float]:
    """A compiled run of `steps` batched ticks (`reset(key) -> state`, `step(key, state,
    action) -> (obs, state)`); each call of the result times it again and returns steps/s."""

    @jax.jit
    def roll(key: jax.Array) -> jax.Array:
        k_reset, k_run = jax.random.split(key)
        state = reset(k_reset)

        def tick(carry, x):
            (state, total), (key, t) = carry, x
            obs, state = step(key, state, random_actions(t, batch, n_actions))
            return (state, total + obs.sum()), None

        ticks = (jax.random.split(k_run, steps), jnp.arange(steps, dtype=jnp.uint32))
        (_, total), _ = jax.lax.scan(tick, (state, 0.0), ticks)
        return total

    roll(jax.random.key(0)).block_until_ready()
    return lambda: batch * steps / best(lambda: roll(jax.random.key(1)))


def random_actions(t: jax.Array, batch: int, n_actions: int) -> jax.Array:
    """Tick `t`'s uniformly random actions for `batch` worlds, from an integer hash (Wellons'
    "lowbias32") of tick and world rather than from threefry, which made every engine pay for
    the harness. Measured at batch 4096 (steps/s with threefry's actions, then with these; means
    of two or three runs): shardlab 8.9M, 9.6M; navix 8.0M, 8.4M; gymnax 4.6M, 5.1M;
    XLand-MiniGrid 1.62M, 1.72M. Drawing the actions before the clock instead slowed navix to
    7.8M and XLand-MiniGrid to 1.6M."""
    x = jnp.arange(batch, dtype=jnp.uint32) ^ (t * np.uint32(0x9E3779B9))
    x = (x ^ (x >> 16)) * np.uint32(0x7FEB352D)
    x = (x ^ (x >> 15)) * np.uint32(0x846CA68B)
    return ((x ^ (x >> 16)) % n_actions).astype(jnp.int32)


def jax_rate(reset: Callable, step: Callable, n_actions: int, batch: int, steps: int) -> float:
    """Steps/s of `steps` batched ticks (see `jax_timer`), timed once after compiling."""
    return jax_timer(reset, step, n_actions, batch, steps)()


def vmapped(reset_one: Callable, step_one: Callable, batch: int) -> tuple[Callable, Callable]:
    """`jax_rate`'s reset and step from one world's `reset_one(key) -> state` and
    `step_one(key, state, action) -> (obs, state)`."""

    def reset(key: jax.Array) -> Any:
        return jax.vmap(reset_one)(jax.random.split(key, batch))

    def step(key: jax.Array, state: Any, action: jax.Array) -> tuple[jax.Array, Any]:
        return jax.vmap(step_one)(jax.random.split(key, batch), state, action)

    return reset, step


def gymnax_rate(batch: int, steps: int) -> float:
    """gymnax's FourRooms with its image observation (walls and agent, 13x13x2), like ours; the
    default is four integers (positions of agent and goal)."""
    import gymnax

    env, params = gymnax.make("FourRooms-misc", use_visual_obs=True)

    def step(key, state, action):
        obs, state, *_ = env.step(key, state, action, params)
        return obs, state

    reset, step = vmapped(lambda key: env.reset(key, params)[1], step, batch)
    return jax_rate(reset, step, env.action_space(params).n, batch, steps)


def navix_rate(batch: int, steps: int) -> float:
    """navix's Empty-8x8 with its default observation (the symbolic grid, 8x8x3); it resets
    finished episodes itself, with the key it keeps in its state."""
    import navix

    env = navix.make("Navix-Empty-8x8-v0")

    def step(key, timestep, action):
        timestep = env.step(timestep, action)
        return timestep.observation, timestep

    reset, step = vmapped(env.reset, step, batch)
    return jax_rate(reset, step, len(env.action_set), batch, steps)


def xminigrid_rate(batch: int, steps: int) -> float:
    """XLand-MiniGrid's Empty-8x8 with its default observation (the agent's 7x7x2 view), wrapped
    to reset finished episodes as the other engines do."""
    import xminigrid
    from xminigrid.wrappers import GymAutoResetWrapper

    env, params = xminigrid.make("MiniGrid-Empty-8x8")
    env = GymAutoResetWrapper(env)

    def step(key, timestep, action):
        timestep = env.step(params, timestep, action)
        return timestep.observation, timestep

    reset, step = vmapped(lambda key: env.reset(params, key), step, batch)
    return jax_rate(reset, step, env.num_actions(params), batch, steps)


PEERS: dict[str, Callable[[int, int], float]] = {
    "gymnax": gymnax_rate, "navix": navix_rate, "xminigrid": xminigrid_rate,
}

if __name__ == "__main__":
    print(json.dumps(PEERS[sys.argv[1]](int(sys.argv[2]), int(sys.argv[3]))))
