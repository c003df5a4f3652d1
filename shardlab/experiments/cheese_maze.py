"""Contextual proxy in the cheese maze (S2): goal in one corner during training.

Brain agents learn random mazes with the cheese always in the top-right region; at test the
cheese can be anywhere. Shard theory's reading of the procgen cheese agent (seed 001): two
contextually activated decision influences, "go to the top right" when no cheese is nearby and
"go to the cheese" when it is. We measure, with the frozen trained policy, P(reach the top-right
region) and P(reach the cheese) as functions of the cheese's distance from the top-right corner,
against agents trained with the cheese anywhere, and probe the latent for both influences'
inputs (the cheese's offset from the mouse; the mouse's own position).

Parameters chosen to make learning possible in minutes (measured, not assumed):
* a 9×9 maze (4×4 cells) instead of 13×13, a 40-step limit, view radius 3;
* the mouse is hungry (hunger 0.8, constant), so cheese pays reward 1.0 rather than 0.2;
* basal ganglia with eligibility traces (λ = 0.8) and no habit prior: without them, whatever the
  mouse happened to do first (walking into walls) became self-reinforcing;
* the PFC planner is off (compile time; the claim is about the actor's shards).
Even so, learning is slow: the report gives the cheese rate in training against an untrained
population, so a reader can see how much was learned.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache, partial
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from shardlab.analysis import shards
from shardlab.analysis.steering import current_offset, steered_logits
from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.brain import agent as agent_
from shardlab.brain import pfc as pfc_
from shardlab.brain import population
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
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
        ObjectKind(
            "cheese", "c", (255, 225, 25), emits={"sweet": 1.0}, performance=1.0, terminal=True
        ),
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
    drive_init={"train": {"hunger": 0.8}, "test": {"hunger": 0.8}},
    default_reward={"sweet": 1.0},
)
_DEFAULT = agent_.AgentConfig()
BRAIN = replace(
    _DEFAULT,
    basal_ganglia=replace(_DEFAULT.basal_ganglia, habit_weight=0.0, trace=0.8),
    pfc=pfc_.PFCConfig(weight=0.0),
)
CORNER = (1, 7)  # the top-right open cell of every maze
DISTANCE_BINS = (0, 3, 6, 9, 13)  # Manhattan distance of the cheese from CORNER: [lo, hi)
NEAR, FAR = 3, 6  # near: distance < 3; far: distance >= 6


@cache
def world() -> World:
    """One World object per process, so every population chunk compiles once."""
    return World(MAZE)


class Config(ExperimentConfig):
    population: int = 8
    train_steps: int = 8000
    chunk: int = 2000  # ticks per compiled chunk (one compilation serves both conditions)
    episodes: int = 48  # test episodes per agent
    probe_mazes: int = 16  # mazes whose every open cell is a probe state


# ----------------------------------------------------------------------------- training
def train_agents(
    key: jax.Array, n_agents: int, n_steps: int, chunk: int, phase: str = "train"
) -> tuple[agent_.AgentState, tuple[float, float]]:
    """Agents trained in the maze with `phase`'s cheese placement (the "test" phase puts it
    anywhere: the contrast condition). Returns them and their cheese rate per episode in the
    first and the last quarter of training (how much they learned)."""
    w = world()
    life = population.train(w, w.default_params(phase), BRAIN, key, n_agents, n_steps,
                            chunk=chunk)  # fmt: skip
    perf, done = np.asarray(life.log.performance), np.asarray(life.log.done)
    quarter = max(n_steps // 4, 1)

    def rate(ticks: slice) -> float:
        return float(perf[ticks].sum() / max(done[ticks].sum(), 1))

    return life.agents, (rate(slice(None, quarter)), rate(slice(-quarter, None)))


# ----------------------------------------------------------------------------- test episodes
def in_region(pos: jax.Array, region: jax.Array) -> jax.Array:
    """Whether cells (..., 2) lie in a region given as [r0, r1, c0, c1) in cells."""
    r0, r1, c0, c1 = region
    return (pos[..., 0] >= r0) & (pos[..., 0] < r1) & (pos[..., 1] >= c0) & (pos[..., 1] < c1)


@partial(jax.jit, static_argnames="n_episodes")
def _episodes(
    agents: agent_.AgentState, params: EnvParams, key: jax.Array, offset: jax.Array,
    n_episodes: int,
) -> dict[str, jax.Array]:  # fmt: skip
    """Frozen-policy episodes, (agents, episodes): did the mouse visit the top-right region,
    eat the cheese, and where was the cheese. `offset` (agents, Z) is added to each latent."""
    w = world()
    region = params.slot_region[0]  # the training slot's region: the top right, in cells

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
    keys = jax.random.split(key, (n, n_episodes))
    per_agent = jax.vmap(episode, in_axes=(None, None, 0))
    return jax.vmap(per_agent)(agents, offset, keys)


def frozen_episodes(agents: agent_.AgentState, key: jax.Array, n_episodes: int) -> pd.DataFrame:
    """One row per (agent, test episode) with the cheese anywhere; steered by any active
    `shardlab.analysis.steering.steer` block on the latent "z"."""
    n = agents.action.shape[0]
    offset = current_offset("z", agents.goal.shape)
    out = _episodes(agents, world().default_params("test"), key, jnp.asarray(offset, jnp.float32),
                    n_episodes)  # fmt: skip
    df = pd.DataFrame({k: np.asarray(v).reshape(-1) for k, v in out.items()})
    df.insert(0, "agent", np.repeat(np.arange(n), n_episodes))
    df["distance"] = (df["cheese_row"] - CORNER[0]).abs() + (df["cheese_col"] - CORNER[1]).abs()
    return df


# ----------------------------------------------------------------------------- probe states
def maze_states(key: jax.Array, n_mazes: int) -> tuple[EnvState, pd.DataFrame]:
    """Test-phase mazes (cheese anywhere) with the mouse placed on every open cell: a batch of
    states and a table (maze, row, col, cheese_row, cheese_col) describing each."""
    _, fresh = world().reset_batch(key, n_mazes, world().default_params("test"))
    walls, cheese = np.asarray(fresh.walls), np.asarray(fresh.slot_pos[:, 1])
    maze, row, col = np.nonzero(~walls)
    index = jnp.asarray(maze)
    states = jax.tree.map(lambda x: x[index], fresh)
    cells = jnp.asarray(np.stack([row, col], -1), jnp.int32)
    both = states.slot_pos.at[:, 0].set(states.slot_pos[:, 1])  # the cheese in either phase
    states = replace(states, pos=cells, slot_pos=both)
    table = pd.DataFrame({"maze": maze, "row": row, "col": col, "cheese_row": cheese[maze, 0],
                          "cheese_col": cheese[maze, 1]})  # fmt: skip
    return states, table


@jax.jit
def observe(states: EnvState, cheese_shown: jax.Array) -> jax.Array:
    """(M, O) observations of `states`, with or without the cheese (per state)."""
    params = world().default_params("test")
    states = replace(states, gone=jnp.broadcast_to(~cheese_shown[:, None], states.gone.shape))
    return jax.vmap(world().observe, in_axes=(0, None))(states, params)


@jax.jit
def _probabilities(agents: agent_.AgentState, obs: jax.Array, offset: jax.Array) -> jax.Array:
    def one(agent, offset):
        logits = jax.vmap(lambda o: steered_logits(BRAIN, agent, o, offset))(obs)
        return jax.nn.softmax(logits, -1)

    return jax.vmap(one)(agents, offset)


def action_probabilities(agents: agent_.AgentState, obs: jax.Array) -> np.ndarray:
    """(agents, M, A) policy of each agent on each observation, steered by any active block."""
    offset = jnp.asarray(current_offset("z", agents.goal.shape), jnp.float32)
    return np.asarray(_probabilities(agents, obs, offset))


def cheese_visible(table: pd.DataFrame) -> np.ndarray:
    r = MAZE.view_radius
    return ((table.cheese_row - table.row).abs() <= r).to_numpy() & (
        (table.cheese_col - table.col).abs() <= r
    ).to_numpy()


def probe_r2(latents: np.ndarray, table: pd.DataFrame) -> tuple[float, float]:
    """Mean held-out R² over agents of linear probes z → the cheese's offset from the mouse (on
    states where it is in view: the cheese influence's input) and z → the mouse's row and
    column (where the top right lies: the corner influence's input)."""
    vis = cheese_visible(table)
    offset = np.stack([table.cheese_row - table.row, table.cheese_col - table.col], -1)[vis]
    position = table[["row", "col"]].to_numpy(float)
    cheese_r2 = [np.nanmean(shards.probe(z[vis], offset).r2) for z in latents]
    position_r2 = [np.nanmean(shards.probe(z, position).r2) for z in latents]
    return float(np.mean(cheese_r2)), float(np.mean(position_r2))


def expected_moves(probs: np.ndarray) -> np.ndarray:
    """(..., 2) expected (row, col) displacement under action probabilities (..., A)."""
    return probs @ np.asarray(MOVES, float)


# ----------------------------------------------------------------------------- the experiment
CONDITIONS = {"corner-trained": "train", "random-trained": "test"}  # condition: training phase
FIELD_CHEESE = {"cheese top right": CORNER, "cheese bottom right": (7, 7)}


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    key = jax.random.key(seed)
    k_states, k_field = jax.random.split(jax.random.fold_in(key, 99))
    states, table = maze_states(k_states, config.probe_mazes)
    obs = observe(states, jnp.ones(len(table), bool))
    curves, summary, field = [], [], []
    for i, (condition, phase) in enumerate(CONDITIONS.items()):
        k_train, k_test = jax.random.split(jax.random.fold_in(key, i))
        agents, (early, late) = train_agents(k_train, config.population, config.train_steps,
                                             config.chunk, phase)  # fmt: skip
        episodes = frozen_episodes(agents, k_test, config.episodes)
        episodes["bin"] = np.digitize(episodes.distance, DISTANCE_BINS) - 1
        for b, df in episodes.groupby("bin"):
            curves.append({"condition": condition, "bin": int(b), "n": len(df),
                           "corner": df.corner.mean(), "cheese": df.cheese.mean()})  # fmt: skip
        far, near = episodes[episodes.distance >= FAR], episodes[episodes.distance < NEAR]
        r2_cheese, r2_position = probe_r2(population.latents(agents, obs), table)
        summary.append({
            "condition": condition, "early_cheese_rate": early, "late_cheese_rate": late,
            "corner_far": far.corner.mean(), "cheese_far": far.cheese.mean(),
            "corner_near": near.corner.mean(), "cheese_near": near.cheese.mean(),
            "r2_cheese": r2_cheese, "r2_position": r2_position,
        })  # fmt: skip
        field.append(_field(agents, k_field).assign(condition=condition))
    return {"summary": pd.DataFrame(summary), "curves": pd.DataFrame(curves),
            "field": pd.concat(field, ignore_index=True)}  # fmt: skip


def _field(agents: agent_.AgentState, key: jax.Array) -> pd.DataFrame:
    """Agent 0's expected move on every open cell of one fixed maze, cheese at two places."""
    states, table = maze_states(key, 1)
    rows = []
    for label, cell in FIELD_CHEESE.items():
        at = jnp.broadcast_to(jnp.asarray(cell), states.slot_pos.shape)
        placed = replace(states, slot_pos=at)
        probs = action_probabilities(
            jax.tree.map(lambda x: x[:1], agents), observe(placed, jnp.ones(len(table), bool))
        )[0]
        move = expected_moves(probs)
        rows.append(table.assign(cheese=label, cheese_row=cell[0], cheese_col=cell[1],
                                 d_row=move[:, 0], d_col=move[:, 1]))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def _by_condition(tables: dict[str, pd.DataFrame], column: str) -> pd.DataFrame:
    """seed × condition table of one summary column."""
    return tables["summary"].pivot(index="seed", columns="condition", values=column)


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    corner_far = _by_condition(tables, "corner_far")
    trained = tables["summary"][tables["summary"].condition == "corner-trained"]
    # Margins: 0.05 in probability (one episode in twenty) for both behavioural effects, and a
    # held-out R² of 0.05 for "decodable" (5% of an input's variance read linearly from z).
    # The two conditions draw their own keys (unpaired); the near/far split and the probes are
    # measured on one population's own episodes and latents.
    tests = [
        superiority("P(top right | cheese far): corner-trained − random-trained",
                    corner_far["corner-trained"], corner_far["random-trained"], margin=0.05),
        superiority("corner-trained P(cheese | near) − P(cheese | far)", trained.cheese_near,
                    trained.cheese_far, margin=0.05, paired=True),
        superiority("probe R² of the cheese's offset", trained.r2_cheese, margin=0.05),
        superiority("probe R² of the mouse's position", trained.r2_position, margin=0.05),
    ]  # fmt: skip
    learned = precondition("corner-trained cheese rate rose over training",
                           trained.late_cheese_rate, trained.early_cheese_rate, paired=True)
    return [judge(S2, tests, [learned], n=len(corner_far))]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    paths = [out / "vector_field.png", out / "distance_curves.png"]
    field = tables["field"]
    field = field[(field.seed == field.seed.min()) & (field.condition == "corner-trained")]
    fig, axes = plt.subplots(1, len(FIELD_CHEESE), figsize=(4 * len(FIELD_CHEESE), 4))
    for ax, (label, df) in zip(axes, field.groupby("cheese", sort=False), strict=True):
        walls = np.ones(MAZE.size, bool)
        walls[df.row, df.col] = False
        ax.imshow(walls, cmap="Greys", vmin=0, vmax=1.5)
        ax.quiver(df.col, df.row, df.d_col, -df.d_row, angles="xy", scale_units="xy", scale=1,
                  color="#4c72b0")  # fmt: skip
        ax.scatter(df.cheese_col.iloc[0], df.cheese_row.iloc[0], s=150, c="gold",
                   edgecolors="k", marker="o", zorder=3)  # fmt: skip
        ax.set(title=f"{label} (seed {int(field.seed.min())}, agent 0)", xticks=[], yticks=[])
    fig.suptitle("Expected move on every open square (corner-trained mouse)")
    plots.save(fig, paths[0])

    curves = tables["curves"]
    labels = [f"[{lo},{hi})" for lo, hi in zip(DISTANCE_BINS[:-1], DISTANCE_BINS[1:], strict=True)]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    for ax, condition in zip(axes, CONDITIONS, strict=True):
        for outcome, color in (("corner", "#dd8452"), ("cheese", "#4c72b0")):
            per_seed = curves[curves.condition == condition].pivot(index="seed", columns="bin",
                                                                    values=outcome)  # fmt: skip
            plots.band(ax, per_seed, color, f"P(reach {outcome})")
        ax.set_xticks(range(len(labels)), labels)
        ax.set(title=condition, xlabel="cheese distance from the top-right corner")
    axes[0].set_ylabel("probability per test episode")
    axes[0].legend()
    plots.save(fig, paths[1])
    return paths


EXPERIMENT = register(
    Experiment(
        name="cheese-maze",
        title="Contextual proxy in the cheese maze: go to the corner, or to the cheese",
        description=__doc__ or "",
        config_type=Config,
        quick={
            "seeds": 3,
            "population": 4,
            "train_steps": 200,
            "chunk": 100,
            "episodes": 8,
            "probe_mazes": 4,
        },
        claims=(S2,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
