"""Steps/s of a JAX grid engine: one jitted scan of vmapped ticks with random actions, the
observations consumed inside the loop (summed) so XLA cannot drop them; best of three timed
repeats after a compiling warm-up.

It imports nothing from shardlab, so the same timing also runs in gymnax's own virtualenv
(gymnax pins a Gymnasium older than ours): `python jax_rate.py BATCH STEPS` prints gymnax
FourRooms' steps/s there as one JSON number.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np


def best(run: Callable[[], Any], repeats: int = 3) -> float:
    """The fastest of `repeats` timed calls, in seconds."""
    fastest = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def jax_rate(reset: Callable, step: Callable, n_actions: int, batch: int, steps: int) -> float:
    """Steps/s of `steps` batched ticks: `reset(key) -> state`, `step(key, state, action) ->
    (obs, state)`."""

    @jax.jit
    def roll(key: jax.Array) -> jax.Array:
        k_reset, k_run = jax.random.split(key)
        state = reset(k_reset)

        def tick(carry, key):
            state, total = carry
            k_act, k_step = jax.random.split(key)
            action = jax.random.randint(k_act, (batch,), 0, n_actions)
            obs, state = step(k_step, state, action)
            return (state, total + obs.sum()), None

        (_, total), _ = jax.lax.scan(tick, (state, 0.0), jax.random.split(k_run, steps))
        return total

    roll(jax.random.key(0)).block_until_ready()
    return batch * steps / best(lambda: roll(jax.random.key(1)))


def gymnax_rate(batch: int, steps: int) -> float:
    """gymnax's FourRooms (in gymnax's virtualenv)."""
    import gymnax

    env, params = gymnax.make("FourRooms-misc")

    def reset(key):
        return jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, batch), params)[1]

    def step(key, state, action):
        obs, state, *_ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(key, batch), state, action, params
        )
        return obs, state

    return jax_rate(reset, step, env.action_space(params).n, batch, steps)


if __name__ == "__main__":
    print(json.dumps(gymnax_rate(int(sys.argv[1]), int(sys.argv[2]))))
