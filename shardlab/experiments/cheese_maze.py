"""Contextual proxy in the cheese maze (S2): goal in one corner during training.

Brain agents learn random mazes with the cheese always in the top-right region; at test the
cheese can be anywhere. Shard theory's reading of the procgen cheese agent (seed 001): two
contextually activated decision influences, "go to the top right" when no cheese is nearby and
"go to the cheese" when it is. We measure, with the frozen trained policy, P(reach the top-right
region) and P(reach the cheese) as functions of the cheese's distance from the top-right corner,
against agents trained with the cheese anywhere, and probe the latent for both influences'
inputs (the cheese's offset from the mouse; the mouse's own position).

Parameters chosen to make learning possible in minutes (documented, as everything here):
a 9×9 maze (4×4 cells) instead of 13×13, a 40-step limit, view radius 3, and the PFC planner
off (it costs compile time and the claim is about the actor's shards).
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from shardlab.analysis import shards
from shardlab.analysis.statistics import bootstrap_ci, claim_result, paired_diff_ci, verdict
from shardlab.analysis.steering import current_offset, steered_logits
from shardlab.brain import agent as agent_
from shardlab.brain import pfc as pfc_
from shardlab.brain import population
from shardlab.experiments.base import Claim, ClaimResult, Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds.catalog import BOTTOM_LEFT, TOP_RIGHT
from shardlab.worlds.engine import MOVES, EnvParams, EnvState, World
from shardlab.worlds.scenario import ObjectKind, Scenario, Spawn

S2 = Claim(
    id="S2",
    claim="Contextual proxy (cheese maze): goal always in one corner during training",
    prediction=(
        "with the cheese moved at test, agents trained with it in the top right reach the top "
        "right more often than agents trained with random cheese when the cheese is far from it, "
        "and reach the cheese more often when it is near than when it is far; both influences "
        "are linearly decodable from the latent"
    ),
    contrast="agents trained with the cheese anywhere",
)

MAZE = Scenario(
    name="cheese-maze-9",
    description=(
        "9×9 random perfect mazes; the cheese lies in the top-right region in training and "
        "anywhere at test. The mouse starts bottom left."
    ),
    kinds=(
        ObjectKind("cheese", "c", (255, 225, 25), emits={"sweet": 1.0}, performance=1.0,
                   terminal=True),
    ),
    # Two slots, one per phase; an experiment places the cheese by moving both.
    spawns=(
        Spawn("cheese", region=TOP_RIGHT, phases=("train",)),
        Spawn("cheese", phases=("test",)),
    ),
    layout="maze",
    size=(9, 9),
    agent_region=BOTTOM_LEFT,
    view_radius=3,
    max_steps=40,
    default_reward={"sweet": 1.0},
)
BRAIN = agent_.AgentConfig(pfc=pfc_.PFCConfig(weight=0.0))
CORNER = (1, 7)  # the top-right open cell of every maze
DISTANCE_BINS = (0, 3, 6, 9, 13)  # Manhattan distance of the cheese from CORNER: [lo, hi)
NEAR, FAR = 3, 6  # near: distance < 3; far: distance >= 6


@cache
def world() -> World:
    """One World object per process, so every population chunk compiles once."""
    return World(MAZE)


class Config(ExperimentConfig):
    seeds: int = 6
    population: int = 12
    train_steps: int = 6000
    chunk: int = 1500  # ticks per compiled chunk (one compilation serves both conditions)
    episodes: int = 64  # test episodes per agent
    probe_mazes: int = 24  # mazes whose every open cell is a probe state


# ----------------------------------------------------------------------------- training
def train_agents(
    key: jax.Array, n_agents: int, n_steps: int, chunk: int, phase: str = "train"
) -> tuple[agent_.AgentState, float]:
    """Agents trained in the maze with `phase`'s cheese placement (the "test" phase puts it
    anywhere: the contrast condition). Returns them and their cheese rate per episode over the
    last quarter of training."""
    w = world()
    life = population.train(w, w.default_params(phase), BRAIN, key, n_agents, n_steps,
                            chunk=chunk)  # fmt: skip
    tail = slice(3 * n_steps // 4, None)
    eaten = float(np.asarray(life.log.performance[tail]).sum())
    ended = float(np.asarray(life.log.done[tail]).sum())
    return life.agents, eaten / max(ended, 1.0)


# ----------------------------------------------------------------------------- test episodes
def in_region(pos: jax.Array, region: tuple[int, int, int, int]) -> jax.Array:
    r0, r1, c0, c1 = region
    return (pos[..., 0] >= r0) & (pos[..., 0] < r1) & (pos[..., 1] >= c0) & (pos[..., 1] < c1)


@jax.jit
def _episodes(
    agents: agent_.AgentState, params: EnvParams, key: jax.Array, offset: jax.Array,
    n_episodes: jax.Array,
) -> dict[str, jax.Array]:  # fmt: skip
    """Frozen-policy episodes, (agents, episodes): did the mouse visit the top-right region,
    eat the cheese, and where was the cheese. `offset` (agents, Z) is added to each latent."""
    w = world()
    region = jnp.asarray(w._cells(TOP_RIGHT))

    def episode(agent, offset, key):
        k_reset, k_run = jax.random.split(key)
        obs, state = w.reset(k_reset, params)
        cheese = state.slot_pos[1]

        def tick(carry, key):
            obs, state, alive, corner, eaten = carry
            k_act, k_env = jax.random.split(key)
            action = jax.random.categorical(k_act, steered_logits(BRAIN, agent, obs, offset))
            obs, state, _, perf, done = w.step_env(k_env, state, action, params)
            corner = corner | (alive & in_region(state.pos, region))
            eaten = eaten | (alive & (perf > 0))
            return (obs, state, alive & ~done, corner, eaten), None

        init = (obs, state, jnp.bool_(True), jnp.bool_(False), jnp.bool_(False))
        keys = jax.random.split(k_run, MAZE.max_steps)
        (_, _, _, corner, eaten), _ = jax.lax.scan(tick, init, keys)
        return {"corner": corner, "cheese": eaten, "cheese_row": cheese[0],
                "cheese_col": cheese[1]}  # fmt: skip

    n = offset.shape[0]
    keys = jax.random.split(key, (n, n_episodes.shape[0]))
    per_agent = jax.vmap(episode, in_axes=(None, None, 0))
    return jax.vmap(per_agent)(agents, offset, keys)


def test_episodes(agents: agent_.AgentState, key: jax.Array, n_episodes: int) -> pd.DataFrame:
    """One row per (agent, test episode) with the cheese anywhere; steered by any active
    `shardlab.analysis.steering.steer` block on the latent "z"."""
    n = agents.action.shape[0]
    offset = current_offset("z", (n, BRAIN.cortex.latent))
    out = _episodes(agents, world().default_params("test"), key, jnp.asarray(offset, jnp.float32),
                    jnp.zeros(n_episodes))  # fmt: skip
    df = pd.DataFrame({k: np.asarray(v).reshape(-1) for k, v in out.items()})
    df.insert(0, "agent", np.repeat(np.arange(n), n_episodes))
    df["distance"] = (df["cheese_row"] - CORNER[0]).abs() + (df["cheese_col"] - CORNER[1]).abs()
    return df
