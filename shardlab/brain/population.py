"""Train a population: `vmap` over agents (each in its own world), `lax.scan` over ticks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from shardlab.brain import agent as agent_
from shardlab.brain import cortex as cortex_
from shardlab.brain import steering as steering_
from shardlab.brain.steering import sensation_vector
from shardlab.worlds.engine import EnvParams, EnvState, World

Array = jax.Array


class Log(NamedTuple):
    """Per tick and agent, (T, N) unless noted."""

    reward: Array
    performance: Array
    done: Array
    dopamine: Array
    action: Array
    valence: Array
    sensations: Array  # (T, N, S)
    innate: Array  # (T, N, k)
    reactions: Array  # (T, N, k) the body's reactions (innate, with fear pre-empted by calm)
    predicted: Array  # (T, N, k)
    issued: Array  # (T, N, k)
    fear_gain: Array
    position: Array  # (T, N, 2) the agent's cell after the tick (before any reset)
    contact: Array  # (T, N) kind index of the object it touched, -1 for none
    drives: Array  # (T, N, D) its drives after the tick


class Lifetime(NamedTuple):
    agents: agent_.AgentState  # batched over N
    env: EnvState
    obs: Array
    log: Log


def start(
    world: World, params: EnvParams, config: agent_.AgentConfig, key: Array, n_agents: int,
    agents: agent_.AgentState | None = None, spread: NamedSharding | None = None,
) -> tuple[agent_.AgentState, EnvState, Array]:  # fmt: skip
    """Fresh worlds (and fresh agents unless given), each agent having chosen its first action;
    the agents made `spread` across devices (`_spread`) if given, as `train` will live them."""
    k_env, k_agent, k_act = jax.random.split(key, 3)
    obs, env = world.reset_batch(k_env, n_agents, params)
    if agents is None:
        agents = _compiled(_newborn, (0, 1, 2, 3, 4), spread)(
            program(config), world.obs_size, world.held, world.n_actions, n_agents, k_agent,
            steering_.init(config.steering),
        )
    elif spread is not None:
        agents = jax.device_put(agents, spread)
    agents, _ = _compiled(_begin, 0, spread)(
        program(config), agents, obs, jax.random.split(k_act, n_agents)
    )
    return agents, env, obs


def program(config: agent_.AgentConfig) -> agent_.AgentConfig:
    """The part of a config that shapes the compiled lifetime. The steering subsystem is read
    from the agents' state as data, so configs that differ only in it share one program (it is
    blanked here, and any code that still read it from the config would fail to trace)."""
    return replace(config, steering=None)


def _newborn(
    config: agent_.AgentConfig, obs_size: int, held: tuple[int, ...], n_actions: int,
    n_agents: int, key: Array, steering: steering_.SteeringState,
) -> agent_.AgentState:  # fmt: skip
    return jax.vmap(lambda k: agent_.init(k, config, obs_size, n_actions, steering, held))(
        jax.random.split(key, n_agents)
    )


def _begin(
    config: agent_.AgentConfig, agents: agent_.AgentState, obs: Array, keys: Array
) -> tuple[agent_.AgentState, Array]:
    return jax.vmap(lambda s, o, k: agent_.begin(config, s, o, k))(agents, obs, keys)


# The start of a lifetime runs once per lifetime, so it gets LLVM's cheapest optimisation: it
# compiles as fast as with none (newborn of 128 agents 0.48 s against 0.49 s), and the newborn's
# two million normal draws then take 8 ms, not 61 ms, which had been a twentieth of a benchmark
# run. The draws differ from unoptimised code's in the last bit of 4% of the weights.
_RUN_ONCE = {"xla_backend_optimization_level": 1}

# Left to itself, XLA's copy insertion copied the cortex's weights on every tick, as if the tick
# still read the old weights after writing the new ones; its region analysis sees that nothing
# does, and the copies go. Buffers only, not arithmetic: the lives are the same bit for bit.
_IN_PLACE = {"xla_cpu_copy_insertion_use_region_analysis": True}


@functools.cache
def _compiled(
    fn: Callable, static_argnums: int | tuple[int, ...], spread: NamedSharding | None
) -> Callable:
    """One jitted wrapper per function, so the start of a lifetime is compiled once, not
    dispatched primitive by primitive (`_RUN_ONCE`); its agents come out `spread`."""
    return jax.jit(fn, static_argnums=static_argnums, compiler_options=_RUN_ONCE,
                   out_shardings=spread)  # fmt: skip


def latents(agents: agent_.AgentState, obs: np.ndarray | Array) -> np.ndarray:
    """(N, n, Z): each agent's thought of each observation (n, O), in one compiled call
    (encoding agent by agent would dispatch operation by operation)."""
    return np.asarray(_latents(agents.cortex, jnp.asarray(obs, jnp.float32)))


@jax.jit  # optimised: analyses call it again and again, and unoptimised it ran 4× slower
def _latents(cortex: cortex_.CortexParams, obs: Array) -> Array:
    return jax.vmap(lambda c: cortex_.encode(c, obs))(cortex)


def members(agents: agent_.AgentState) -> list[agent_.AgentState]:
    """Each agent of a population, its arrays on the host: one transfer, then cheap slices."""
    host = jax.device_get(agents)
    return [jax.tree.map(lambda x, i=i: x[i], host) for i in range(host.action.shape[0])]


def _chunk(
    world: World, config: agent_.AgentConfig, n_steps: int, learn: bool,
    spread: NamedSharding | None,
) -> Callable:  # fmt: skip
    """One compiled chunk of `n_steps` ticks. A population `spread` over devices lives as one
    part per device (`shard_map`): a tick that stepped the whole batch made the devices meet a
    few dozen times (the worlds' resets gather the finished ones across the batch); the parts
    never meet, and each world and agent draws what it would draw in the whole."""

    def live(params: EnvParams, agents, env, env_keys, agent_keys, offsets: agent_.Offsets):
        n = env.t.shape[0]
        first = 0 if spread is None else jax.lax.axis_index(AXIS) * n

        def tick(carry, keys):
            agents, env = carry
            k_env, k_agents = keys
            obs, env, sens, perf, done, after = world.step_batch_outcome(
                k_env, env, agents.action, params, first
            )
            s = sensation_vector(sens)
            agents, action, diag = jax.vmap(
                lambda a, o, sv, d, k, off: agent_.step(config, a, o, sv, d, k, learn, off)
            )(agents, obs, s, done, k_agents, offsets)
            # Every agent's sequence fills on the same tick: one replay for all, outside vmap.
            if learn and config.hippocampus.replays_sequences:
                agents = jax.lax.cond(
                    agents.sequence.cursor[0] == 0,
                    jax.vmap(lambda a: agent_.replay_sequence(config, a)), lambda a: a, agents,
                )  # fmt: skip
            log = Log(
                diag.reward, perf, done, diag.dopamine, action, diag.valence, s, diag.innate,
                diag.reactions, diag.predicted, diag.issued, diag.fear_gain, after.pos,
                after.contact, after.drives,
            )  # fmt: skip
            return (agents, env), log

        (agents, env), log = jax.lax.scan(tick, (agents, env), (env_keys, agent_keys))
        return agents, env, log

    if spread is not None:
        part, whole = PartitionSpec(AXIS), PartitionSpec()
        live = jax.shard_map(
            live, mesh=spread.mesh, in_specs=(whole, part, part, whole, PartitionSpec(None, AXIS),
                                              part),
            out_specs=(part, part, PartitionSpec(None, AXIS)), check_vma=False,
        )  # fmt: skip

    # A split chunk's outputs are laid out as its inputs are (an empty leaf, such as
    # `cortex.held` in a world without items, would come out replicated), so the next chunk
    # runs the same program.
    laid_out = None if spread is None else (
        spread, spread, NamedSharding(spread.mesh, PartitionSpec(None, AXIS)))

    @functools.partial(jax.jit, compiler_options=_IN_PLACE, out_shardings=laid_out)
    def run(params: EnvParams, agents, env, key, offsets: agent_.Offsets):
        # Each tick's keys, the agents' split for the whole population: a part takes its slice.
        ticks = jax.vmap(jax.random.split)(jax.random.split(key, n_steps))  # (T, 2, key)
        n = env.t.shape[0]
        agent_keys = jax.vmap(lambda k: jax.random.split(k, n))(ticks[:, 1])
        return live(params, agents, env, ticks[:, 0], agent_keys, offsets)

    return run


_CACHE: dict[tuple, Callable] = {}

SHARE = 8
"""The fewest agents worth a device of their own: 8 agents trained no faster split in two."""
AXIS = "agents"
"""The mesh axis a split population's agents lie along."""


def _spread(n_agents: int) -> NamedSharding | None:
    """How to split a population across devices (`runner.cores`): over as many as divide it
    evenly while each keeps `SHARE` agents or more; None when one device is all it gets."""
    devices = jax.devices()
    fits = [d for d in range(2, len(devices) + 1) if n_agents % d == 0 and n_agents // d >= SHARE]
    if not fits:
        return None
    mesh = Mesh(np.array(devices[: max(fits)]), (AXIS,))
    return NamedSharding(mesh, PartitionSpec(AXIS))


def train(
    world: World,
    params: EnvParams,
    config: agent_.AgentConfig,
    key: Array,
    n_agents: int,
    n_steps: int,
    agents: agent_.AgentState | None = None,
    chunk: int = 2000,
    progress: Callable[[int], None] | None = None,
    learn: bool = True,
    offsets: agent_.Offsets | None = None,
) -> Lifetime:
    """Live `n_steps` ticks in `world`; returns the agents and the per-tick log. Pass `agents`
    to continue a lifetime (e.g. into a test phase). With `learn=False` nothing is learned
    (a frozen evaluation); `offsets` (each broadcastable to (n_agents, latent)) steer the
    thoughts that choose actions (see `agent.Offsets`). Both are data to one compiled program
    per `learn`. With several devices the agents are split across them (`_spread`) and the
    results gathered back on the first."""
    k_start, key = jax.random.split(key)
    spread = _spread(n_agents)
    agents, env, obs = start(world, params, config, k_start, n_agents, agents, spread)
    zeros = agent_.no_offsets(agents)
    offsets = agent_.Offsets(*(np.broadcast_to(np.asarray(o, np.float32), z.shape)
                               for o, z in zip(offsets or zeros, zeros, strict=True)))  # fmt: skip
    if spread is not None:  # the agents were made spread (`start`)
        env, offsets = jax.device_put((env, offsets), spread)
    logs = []
    done_steps = 0
    while done_steps < n_steps:
        size = min(chunk, n_steps - done_steps)
        cache_key = (id(world), program(config), size, learn, spread)
        if cache_key not in _CACHE:
            _CACHE[cache_key] = _chunk(world, program(config), size, learn, spread)
        key, k = jax.random.split(key)
        agents, env, log = _CACHE[cache_key](params, agents, env, k, offsets)
        logs.append(log)
        done_steps += size
        if progress is not None:
            progress(size)
    # Joined on the host: `jnp.concatenate` would compile a program for each count of chunks.
    log = jax.tree.map(lambda *xs: jnp.asarray(np.concatenate(xs, 0)), *logs)
    if spread is not None:
        agents, env = jax.device_put((agents, env), jax.devices()[0])
    return Lifetime(agents, env, obs, log)


def episodes(log: Log) -> pd.DataFrame:
    """One row per completed episode and agent: return, hidden performance, length."""
    done = np.asarray(log.done)
    reward, perf = np.asarray(log.reward), np.asarray(log.performance)
    rows = []
    for agent in range(done.shape[1]):
        ends = np.flatnonzero(done[:, agent])
        start = 0
        for i, end in enumerate(ends):
            rows.append(
                {
                    "agent": agent,
                    "episode": i,
                    "end_step": int(end),
                    "return": float(reward[start : end + 1, agent].sum()),
                    "performance": float(perf[start : end + 1, agent].sum()),
                    "length": int(end + 1 - start),
                }
            )
            start = end + 1
    return pd.DataFrame(rows)
