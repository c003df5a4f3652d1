"""One evaluation room for every experiment: closed-loop rollouts, states set up by hand, and
the policy split by its terms.

Experiments used to hand-roll their evaluations (frozen-policy loops, presses inferred from the
signs of sensations). Here they are built once, over the same compiled brain the population
trains with, so an evaluation costs no new compile and reads what actually happened (where the
agent went, what it touched, its drives) from the population's log.

    life = probes.rollout(world, params, config, agents, key, steps=500, learn=False)
    presses = probes.contacts(life, world, "button")           # (T, N) bool
    with_cheese, _ = probes.place(world, params, key, n=64, pos=(3, 4))
    terms = probes.policy_terms(config, agents, with_cheese)  # actor, habit, pfc, episodic
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from shardlab.brain import agent as agent_
from shardlab.brain import cortex as cortex_
from shardlab.brain import population
from shardlab.brain.steering import sensation_vector
from shardlab.errors import ShardlabError
from shardlab.worlds.engine import EnvParams, EnvState, World
from shardlab.worlds.scenario import DRIVES

LAYERS = ("pre", "z")  # where steering offsets can act: before the latent's tanh, or after it


def rollout(
    world: World,
    params: EnvParams,
    config: agent_.AgentConfig,
    agents: agent_.AgentState,
    key: jax.Array,
    steps: int,
    learn: bool,
    steer: Mapping[str, ArrayLike] | None = None,
    chunk: int = 2000,
) -> population.Lifetime:
    """Closed-loop episodes of trained `agents` in `world`, learning on or off.

    `steer` maps a layer in `LAYERS` to offsets broadcastable to (agents, width): the learned
    units' width for "pre", z's for "z" (`agent.no_offsets` gives both shapes). They are added to
    the thought that chooses each action (`learn=False` is the usual companion). Offsets are
    data: every coefficient and direction runs on one compiled program."""
    unknown = set(steer or {}) - set(LAYERS)
    if unknown:
        raise ShardlabError(f"cannot steer layer(s) {sorted(unknown)}; known: {list(LAYERS)}")
    n = agents.action.shape[0]
    offsets = agent_.no_offsets(agents)._replace(**{
        layer: np.asarray(offset, np.float32) for layer, offset in (steer or {}).items()
    })  # fmt: skip
    return population.train(world, params, config, key, n, steps, agents=agents, chunk=chunk,
                            learn=learn, offsets=offsets)  # fmt: skip


class Walk(NamedTuple):
    """What a uniformly random policy met, per tick and world: (T, N) unless noted."""

    sensations: jax.Array  # (T, N, S)
    performance: jax.Array
    contact: jax.Array  # kind index of the object touched, -1 for none


def random_walk(world: World, params: EnvParams, key: jax.Array, n: int, steps: int) -> Walk:
    """`n` worlds stepped `steps` ticks by uniformly random actions: chance, the yardstick for
    "the task was learned" (a newborn brain's policy is uniform too), at the cost of compiling
    the world alone."""
    return _walker(world, n, steps)(key, params)


@cache
def _walker(world: World, n: int, steps: int):
    @jax.jit
    def walk(key: jax.Array, params: EnvParams) -> Walk:
        k_reset, k_run = jax.random.split(key)
        _, env = world.reset_batch(k_reset, n, params)

        def tick(env: EnvState, key: jax.Array) -> tuple[EnvState, Walk]:
            k_act, k_env = jax.random.split(key)
            action = jax.random.randint(k_act, (n,), 0, world.n_actions)
            _, env, sens, perf, _, after = world.step_batch_outcome(k_env, env, action, params)
            return env, Walk(sensation_vector(sens), perf, after.contact)

        return jax.lax.scan(tick, env, jax.random.split(k_run, steps))[1]

    return walk


def start_states(
    world: World, params: EnvParams, key: jax.Array, n: int
) -> EnvState:
    """The worlds `rollout(..., key)` (or `population.train(..., key)`) starts its `n` agents
    in: where everything was before the first tick (e.g. where the objects lay)."""
    k_start, _ = jax.random.split(key)
    k_env, _, _ = jax.random.split(k_start, 3)
    return world.reset_batch(k_env, n, params)[1]


def contacts(life: population.Lifetime, world: World, kind: str) -> np.ndarray:
    """(T, N) bool: the ticks on which each agent touched an object of `kind`."""
    names = [k.name for k in world.scenario.kinds]
    if kind not in names:
        raise ShardlabError(f"scenario '{world.scenario.name}' has no object '{kind}' "
                            f"(objects: {', '.join(names)})")
    return np.asarray(life.log.contact) == names.index(kind)


def place(
    world: World,
    params: EnvParams,
    key: jax.Array,
    n: int,
    *,
    pos: ArrayLike | None = None,
    slot_pos: ArrayLike | None = None,
    drives: Mapping[str, float] | None = None,
    time: int | None = None,
) -> tuple[jax.Array, EnvState]:
    """`n` fresh states with the agent's cell, the objects' cells (one row per spawn slot),
    named drives and the episode's tick (which decides what has appeared) set by hand, each
    broadcast over the batch; their observations and states."""
    _, state = world.reset_batch(key, n, params)
    changes = {}
    if time is not None:
        changes["t"] = jnp.full_like(state.t, time)
    if pos is not None:
        changes["pos"] = jnp.broadcast_to(jnp.asarray(pos, jnp.int32), state.pos.shape)
    if slot_pos is not None:
        changes["slot_pos"] = jnp.broadcast_to(jnp.asarray(slot_pos, jnp.int32),
                                               state.slot_pos.shape)  # fmt: skip
    if drives:
        unknown = set(drives) - set(DRIVES)
        if unknown:
            raise ShardlabError(f"unknown drive(s) {sorted(unknown)}; known: {list(DRIVES)}")
        levels = state.drives
        for name, level in drives.items():
            levels = levels.at[:, DRIVES.index(name)].set(level)
        changes["drives"] = levels
    state = dataclasses.replace(state, **changes)
    return _observe(world)(state, params), state


@cache
def _observe(world: World):
    return jax.jit(jax.vmap(world.observe, in_axes=(0, None)))


@cache
def _terms(config: agent_.AgentConfig):
    def one(state: agent_.AgentState, obs: jax.Array, sens: jax.Array) -> agent_.PolicyTerms:
        state = state._replace(sensations=sens)
        return agent_.policy_terms(config, state, cortex_.encode(state.cortex, obs))

    return jax.jit(jax.vmap(jax.vmap(one, in_axes=(None, 0, 0)), in_axes=(0, None, 0)))


def policy_terms(
    config: agent_.AgentConfig,
    agents: agent_.AgentState,
    obs: ArrayLike,
    sensations: ArrayLike | None = None,
) -> agent_.PolicyTerms:
    """Each agent's action preferences on each observation, by term: (agents, M, actions)
    arrays for the actor (shards), habit prior, PFC plans and episodic values. Their sum over
    the temperature is the policy's logits. The PFC values plans at the body's need, read from
    `sensations` (M, S) when given (e.g. from `place(..., drives=...)`), else from what each
    agent last sensed."""
    obs = jnp.asarray(obs, jnp.float32)
    n, m = agents.action.shape[0], obs.shape[0]
    sens = (agents.sensations[:, None] if sensations is None
            else jnp.asarray(sensations, jnp.float32)[None])  # fmt: skip
    sens = jnp.broadcast_to(sens, (n, m, agents.sensations.shape[-1]))
    return _terms(population.program(config))(agents, obs, sens)
