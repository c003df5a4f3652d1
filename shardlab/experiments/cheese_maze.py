"""Contextual proxy in the cheese maze (S2): goal in one corner during training.

Brain mice learn random mazes with the cheese always in the top-right region; at test the cheese
can be anywhere. Shard theory's reading of the procgen cheese agent (seed 001, and Turner et al.'s
analysis of the maze-solving policy): two contextually activated decision influences, "go to the
top right" and "go to the cheese", the second winning when the cheese is near. The contrast is
mice trained with the cheese anywhere. Everything is measured with learning frozen.

* The choice at the decision square, as in the original analysis. In each test maze, the decision
  square is where the path from the start (bottom left) to the cheese and the path to the
  top-right corner part (the mazes are trees: it is the one square on all three paths between
  start, cheese and corner; mazes where the cheese lies on the corner's path have none). The mouse
  is placed there, and its choice is P(it steps onto the cheese's branch | it steps onto one of
  the two), against the path distance (breadth first, through the maze) from there to the cheese.
* The two influences, read from the policy (`probes.policy_terms`, in logits) rather than decoded
  from inputs. The cheese's influence is the change of the logits when the cheese is shown rather
  than removed, on the same square; the corner's is the cheese-free policy. Each is scored by its
  push along the maze path toward its goal: the logit of the step toward it minus the mean logit
  of the other open steps (so merely avoiding walls pushes nowhere). The cheese's is read only
  where its step differs from the corner's, so the two are read apart. Linear probes of the
  latent would prove nothing here: the actor is linear in z, so any contribution to the policy is
  exactly linear in z and "decodable" by construction. Baselines: the same mice at birth
  (untrained encoder and actor) for the cheese's influence; mice trained with the cheese anywhere
  for the corner's, since any mouse that learned to leave the bottom-left start pushes up and
  right.
* Precondition: corner-trained mice reach the cheese in their training mazes more often than the
  same mice at birth, closed loop, on the same episodes' keys.

The maze is the `cheese-maze` scenario: 9×9 (4×4 cells), 40 ticks, view radius 3, the mouse
hungry (0.8, constant) so the cheese pays 1.0, sized so that mice learn it in minutes. The brain
is the default one with its PFC planner off (compile time; the claim is about the actor's
shards). Until 65e82ad its basal ganglia also had eligibility traces (λ = 0.8) and no habit
prior, chosen when, without them, whatever the mouse happened to do first (walking into walls)
became self-reinforcing; with the default basal ganglia every test held (see below).

At defaults (8 seeds, commit 129ef42) the corner-trained mice reach the cheese 0.51 more
often than at birth, take the corner's branch more than random-trained mice when the cheese is
far (0.163 [0.140, 0.182]), choose the cheese's branch more as the cheese comes nearer (0.33
[0.31, 0.36]), and the cheese pushes them toward itself 1.28 [1.19, 1.35] logits more than at
birth: supported in every test, as at f8cffcb with 128 learned units. (At a9fe334, before the
sensory code, the near − far test was 0.026 [0.005, 0.054] against its margin 0.05,
inconclusive; at ac39dc6, before sequence replay, not supported.)

With the default basal ganglia (8 seeds; see the brain above), supported again: corner-trained
mice reach the cheese 0.52 more often than at birth; corner − random-trained when the cheese is
far 0.168 [0.147, 0.187]; near − far 0.31 [0.29, 0.35]; the cheese's push 1.33 [1.23, 1.41]
logits; the corner's push without cheese 1.45 [1.34, 1.57].
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import softmax

from shardlab import worlds
from shardlab.analysis import probes
from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.brain import agent as agent_
from shardlab.brain import pfc as pfc_
from shardlab.brain import population
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds.engine import MOVES, EnvState, World

S2 = Claim(
    id="S2",
    claim="Contextual proxy (cheese maze): goal always in one corner during training",
    prediction=(
        "with the cheese moved at test, mice trained with it in the top right take the corner's "
        "branch at the decision square more often than mice trained with it anywhere when the "
        "cheese is far along the path, and take the cheese's branch more often when it is near "
        "than when it is far; read from their policy, the cheese pushes them toward the cheese "
        "and, without cheese, they are pushed toward the corner more than random-trained mice"
    ),
    contrast="mice trained with the cheese anywhere",
)

MAZE = worlds.scenario("cheese-maze")
BRAIN = agent_.AgentConfig(pfc=pfc_.PFCConfig(weight=0.0))
START = (MAZE.size[0] - 2, 1)  # the bottom-left square, where the paths of the analysis begin
CORNER = (1, MAZE.size[1] - 2)  # the top-right square of every maze
NEAR, FAR = 2, 5  # path distance from the decision square to the cheese: near ≤ 2, far ≥ 5
STEPS = np.asarray(MOVES[:4])  # up, right, down, left
CONDITIONS = {"corner-trained": "train", "random-trained": "test"}  # condition: training phase


def world() -> World:
    """The maze world (one per process, so every population chunk compiles once)."""
    return worlds.make("cheese-maze")


class Config(ExperimentConfig):
    population: int = 8
    train_steps: int = 32000  # the cheese's influence forms slowly (push 0.02 logits at 8000)
    chunk: int = 2000  # ticks per compiled chunk (one compilation serves both conditions)
    decision_mazes: int = 512  # test mazes drawn for decision squares (about half have one)
    probe_mazes: int = 32  # mazes whose every open square is a probe state for the influences
    test_steps: int = 1000  # closed-loop ticks per mouse for the cheese rate (≥ 25 episodes)


# ----------------------------------------------------------------------------- the mice
def condition_key(key: jax.Array, condition: str) -> jax.Array:
    """The training key of a condition, so that other experiments can study the same mice."""
    return jax.random.fold_in(key, list(CONDITIONS).index(condition))


def train_agents(
    key: jax.Array, n_agents: int, n_steps: int, chunk: int, phase: str = "train"
) -> agent_.AgentState:
    """Mice trained in the maze with `phase`'s cheese placement (the "test" phase puts it
    anywhere: the contrast condition)."""
    w = world()
    return population.train(w, w.default_params(phase), BRAIN, key, n_agents, n_steps,
                            chunk=chunk).agents  # fmt: skip


def newborns(key: jax.Array, n_agents: int) -> agent_.AgentState:
    """The mice `train_agents(key, …)` trains, as they were at birth."""
    w = world()
    k_start, _ = jax.random.split(key)
    return population.start(w, w.default_params("train"), BRAIN, k_start, n_agents)[0]


def cheese_rate(agents: agent_.AgentState, key: jax.Array, phase: str, steps: int) -> np.ndarray:
    """(N,) fraction of closed-loop episodes, learning off, in which each mouse ate the cheese."""
    w = world()
    life = probes.rollout(w, w.default_params(phase), BRAIN, agents, key, steps, learn=False,
                          chunk=steps)  # fmt: skip
    return probes.reach_rate(life.log)


def logits(agents: agent_.AgentState, obs: jax.Array) -> np.ndarray:
    """(N, M, A) each mouse's policy logits on each observation (its terms over the temperature)."""
    terms = probes.policy_terms(BRAIN, agents, obs)
    return np.asarray(sum(terms)) / BRAIN.basal_ganglia.temperature


# ----------------------------------------------------------------------------- maze geometry
def path_distances(walls: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """(M, H, W) breadth-first path lengths through each maze (M, H, W) from its source square
    (M, 2); walls and unreachable squares are inf."""
    m = walls.shape[0]
    dist = np.full(walls.shape, np.inf)
    dist[np.arange(m), sources[:, 0], sources[:, 1]] = 0.0
    while True:
        pad = np.pad(dist, ((0, 0), (1, 1), (1, 1)), constant_values=np.inf)
        around = np.minimum.reduce([pad[:, :-2, 1:-1], pad[:, 2:, 1:-1], pad[:, 1:-1, :-2],
                                    pad[:, 1:-1, 2:]])  # fmt: skip
        new = np.where(walls, np.inf, np.minimum(dist, around + 1))
        if np.array_equal(new, dist):
            return dist
        dist = new


def _neighbours(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nxt = cells[:, None, :] + STEPS[None]
    return nxt[..., 0], nxt[..., 1]


def steps_toward(dist: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(M, 4) which steps from each maze's square (M, 2) shorten its path distance `dist`."""
    rows, cols = _neighbours(cells)
    m = np.arange(len(cells))[:, None]
    return dist[m, rows, cols] < dist[m[:, 0], cells[:, 0], cells[:, 1]][:, None]


def open_steps(walls: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(M, 4) which steps from each maze's square lead onto an open square."""
    rows, cols = _neighbours(cells)
    return ~walls[np.arange(len(cells))[:, None], rows, cols]


def decision_square(walls: np.ndarray, cheese: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each maze's decision square (M, 2), the one square on the paths between start, cheese and
    corner, and whether the paths fork there (it is neither the cheese nor the corner)."""
    corner = np.broadcast_to(CORNER, cheese.shape)
    total = (path_distances(walls, cheese) + path_distances(walls, corner)
             + path_distances(walls, np.broadcast_to(START, cheese.shape)))  # fmt: skip
    flat = total.reshape(len(walls), -1).argmin(1)
    square = np.stack(np.unravel_index(flat, walls.shape[1:]), -1)
    return square, (square != cheese).any(1) & (square != corner).any(1)


# ----------------------------------------------------------------------------- probe states
def maze_states(key: jax.Array, n_mazes: int) -> tuple[EnvState, pd.DataFrame]:
    """Test-phase mazes (cheese anywhere) with the mouse placed on every open square: a batch of
    states and a table (maze, row, col, cheese_row, cheese_col) describing each."""
    _, fresh = world().reset_batch(key, n_mazes, world().default_params("test"))
    walls, cheese = np.asarray(fresh.walls), np.asarray(fresh.slot_pos[:, 1])
    maze, row, col = np.nonzero(~walls)
    states = jax.tree.map(lambda x: x[jnp.asarray(maze)], fresh)
    states = replace(states, pos=jnp.asarray(np.stack([row, col], -1), jnp.int32))
    table = pd.DataFrame({"maze": maze, "row": row, "col": col, "cheese_row": cheese[maze, 0],
                          "cheese_col": cheese[maze, 1]})  # fmt: skip
    return states, table


@jax.jit
def observe(states: EnvState, cheese_shown: jax.Array) -> jax.Array:
    """(M, O) observations of `states`, with or without the cheese (per state)."""
    params = world().default_params("test")
    states = replace(states, gone=jnp.broadcast_to(~cheese_shown[:, None], states.gone.shape))
    return jax.vmap(world().observe, in_axes=(0, None))(states, params)


def cheese_visible(table: pd.DataFrame) -> np.ndarray:
    r = MAZE.view_radius
    return ((table.cheese_row - table.row).abs() <= r).to_numpy() & (
        (table.cheese_col - table.col).abs() <= r
    ).to_numpy()


class Decisions(NamedTuple):
    """The mouse on the decision square of each of some test mazes (every maze is kept, so the
    arrays have one shape whatever the draw: a mask says where the paths fork)."""

    obs: jax.Array  # (M, O), the cheese shown
    fork: np.ndarray  # (M,) the paths fork there (the cheese is not on the corner's path)
    path_distance: np.ndarray  # (M,) from the square to the cheese, through the maze
    cheese_step: np.ndarray  # (M,) the step onto the cheese's branch
    corner_step: np.ndarray  # (M,) the step onto the corner's branch


def decisions(key: jax.Array, n_mazes: int) -> Decisions:
    _, fresh = world().reset_batch(key, n_mazes, world().default_params("test"))
    walls, cheese = np.asarray(fresh.walls), np.asarray(fresh.slot_pos[:, 1])
    square, fork = decision_square(walls, cheese)
    to_cheese = path_distances(walls, cheese)
    to_corner = path_distances(walls, np.broadcast_to(CORNER, cheese.shape))
    states = replace(fresh, pos=jnp.asarray(square, jnp.int32))
    m = np.arange(n_mazes)
    return Decisions(observe(states, jnp.ones(n_mazes, bool)), fork,
                     to_cheese[m, square[:, 0], square[:, 1]],
                     steps_toward(to_cheese, square).argmax(1),
                     steps_toward(to_corner, square).argmax(1))  # fmt: skip


def choice(logits: np.ndarray, d: Decisions) -> np.ndarray:
    """(N, M) P(step onto the cheese's branch | step onto the cheese's or the corner's)."""
    m = np.arange(len(d.cheese_step))
    return 1.0 / (1.0 + np.exp(logits[:, m, d.corner_step] - logits[:, m, d.cheese_step]))


class Influences(NamedTuple):
    """Every open square of some test mazes, the cheese shown and removed, and where each
    influence is read."""

    shown: jax.Array  # (M, O)
    removed: jax.Array
    toward_cheese: np.ndarray  # (M, 4) the step along the path to the cheese
    toward_corner: np.ndarray
    open: np.ndarray  # (M, 4) the steps onto open squares
    cheese_context: np.ndarray  # (M,) the cheese in view, and its step not the corner's
    corner_context: np.ndarray  # (M,) not on the corner


def influence_states(states: EnvState, table: pd.DataFrame) -> Influences:
    """The influences' probe states from `maze_states`."""
    walls = np.asarray(states.walls)
    cells = table[["row", "col"]].to_numpy()
    cheese = table[["cheese_row", "cheese_col"]].to_numpy()
    toward_cheese = steps_toward(path_distances(walls, cheese), cells)
    toward_corner = steps_toward(path_distances(walls, np.broadcast_to(CORNER, cells.shape)),
                                 cells)  # fmt: skip
    apart = (toward_cheese != toward_corner).any(1) & toward_cheese.any(1)
    shown = jnp.ones(len(table), bool)
    return Influences(observe(states, shown), observe(states, ~shown), toward_cheese,
                      toward_corner, open_steps(walls, cells), cheese_visible(table) & apart,
                      toward_corner.any(1))  # fmt: skip


def push(logits: np.ndarray, toward: np.ndarray, open_: np.ndarray, where: np.ndarray
         ) -> np.ndarray:  # fmt: skip
    """(N,) each mouse's mean push toward a goal over the states `where`: the logit of the step
    toward it minus the mean logit of the other open steps (states with none are left out)."""
    steps = logits[..., :4]
    others = open_ & ~toward
    keep = where & toward.any(1) & others.any(1)
    ahead = (steps * toward).sum(-1) / np.maximum(toward.sum(-1), 1)
    rest = (steps * others).sum(-1) / np.maximum(others.sum(-1), 1)
    return (ahead - rest)[:, keep].mean(-1)


# ----------------------------------------------------------------------------- the experiment
FIELD_CHEESE = {"cheese bottom right": (MAZE.size[0] - 2, MAZE.size[1] - 2), "cheese top left":
                (1, 1)}  # fmt: skip


def field_states(states: EnvState, table: pd.DataFrame) -> tuple[jax.Array, pd.DataFrame]:
    """Every open square of the first maze of `maze_states` with the cheese at each
    `FIELD_CHEESE` placement: their observations and a table (cheese, row, col, cheese_row,
    cheese_col)."""
    first = np.flatnonzero(table.maze == 0)
    states, table = jax.tree.map(lambda x: x[first], states), table.iloc[first]
    obs, tables = [], []
    for label, cell in FIELD_CHEESE.items():
        at = jnp.broadcast_to(jnp.asarray(cell), states.slot_pos.shape)
        obs.append(observe(replace(states, slot_pos=at), jnp.ones(len(table), bool)))
        tables.append(table.assign(cheese=label, cheese_row=cell[0], cheese_col=cell[1]))
    return jnp.concatenate(obs), pd.concat(tables, ignore_index=True).drop(columns="maze")


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    key = jax.random.key(seed)
    k_decide, k_probe, k_loop = jax.random.split(jax.random.fold_in(key, 99), 3)
    squares = decisions(k_decide, config.decision_mazes)
    states, table = maze_states(k_probe, config.probe_mazes)
    probe = influence_states(states, table)
    field_obs, field_table = field_states(states, table)
    # One batch of every probe observation, so each population's policy is one compiled call.
    parts = (squares.obs, probe.shown, probe.removed, field_obs)
    cuts = np.cumsum([len(p) for p in parts])[:-1]
    obs = jnp.concatenate(parts)

    chosen, fields, summary = [], [], []

    def measure(condition: str, agents: agent_.AgentState) -> dict[str, float]:
        """The choices, the vector field and the two influences of a population."""
        at_square, shown, removed, field = np.split(logits(agents, obs), cuts, axis=1)
        p_cheese = choice(at_square, squares).mean(0)[squares.fork]
        chosen.append(pd.DataFrame({"condition": condition, "choice": p_cheese,
                                    "path_distance": squares.path_distance[squares.fork]}))
        move = softmax(field, -1).mean(0) @ np.asarray(MOVES, float)
        fields.append(field_table.assign(condition=condition, d_row=move[:, 0],
                                         d_col=move[:, 1]))
        return {"condition": condition,
                "cheese_push": float(push(shown - removed, probe.toward_cheese, probe.open,
                                          probe.cheese_context).mean()),
                "corner_push": float(push(removed, probe.toward_corner, probe.open,
                                          probe.corner_context).mean())}  # fmt: skip

    for condition, phase in CONDITIONS.items():
        k_train = condition_key(key, condition)
        agents = train_agents(k_train, config.population, config.train_steps, config.chunk, phase)
        born = newborns(k_train, config.population)
        rates = [float(cheese_rate(a, k_loop, phase, config.test_steps).mean())
                 for a in (agents, born)]  # the same episode keys: paired  # fmt: skip
        summary.append({**measure(condition, agents), "cheese_rate": rates[0],
                        "untrained_cheese_rate": rates[1]})  # fmt: skip
        if condition == "corner-trained":
            summary.append(measure("untrained", born))
    return {"summary": pd.DataFrame(summary), "decisions": pd.concat(chosen, ignore_index=True),
            "field": pd.concat(fields, ignore_index=True)}  # fmt: skip


def _by_condition(tables: dict[str, pd.DataFrame], column: str) -> pd.DataFrame:
    """seed × condition table of one summary column."""
    return tables["summary"].pivot(index="seed", columns="condition", values=column)


def _choices(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """seed × (condition, near/far) mean P(cheese's branch) at the decision square."""
    d = tables["decisions"]
    band = np.where(d.path_distance <= NEAR, "near", np.where(d.path_distance >= FAR, "far", ""))
    d = d.assign(band=band)[band != ""]
    return d.groupby(["seed", "condition", "band"])["choice"].mean().unstack(["condition", "band"])


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    c = _choices(tables)
    cheese, corner = _by_condition(tables, "cheese_push"), _by_condition(tables, "corner_push")
    rate = _by_condition(tables, "cheese_rate")
    untrained_rate = _by_condition(tables, "untrained_cheese_rate")
    # Margins: 0.05 in probability (one choice in twenty) for the choices, 0.1 logits (odds
    # ×1.1) for the influences. The two conditions draw their own keys (unpaired); near/far,
    # and the mice against themselves at birth, are paired within a seed.
    tests = [
        superiority("P(corner's branch | cheese far): corner-trained − random-trained",
                    1 - c["corner-trained", "far"], 1 - c["random-trained", "far"], margin=0.05),
        superiority("corner-trained P(cheese's branch | near) − P(cheese's branch | far)",
                    c["corner-trained", "near"], c["corner-trained", "far"], margin=0.05,
                    paired=True),
        superiority("cheese's push toward the cheese (logits): corner-trained − untrained",
                    cheese["corner-trained"], cheese["untrained"], margin=0.1, paired=True),
        superiority("cheese-free push toward the corner (logits): corner-trained − random-trained",
                    corner["corner-trained"], corner["random-trained"], margin=0.1),
    ]  # fmt: skip
    learned = precondition("corner-trained cheese rate − untrained (the same mice at birth)",
                           rate["corner-trained"], untrained_rate["corner-trained"],
                           paired=True)  # fmt: skip
    detail = (
        f"cheese rate in their training mazes: corner-trained {rate['corner-trained'].mean():.3f}"
        f" (untrained {untrained_rate['corner-trained'].mean():.3f}), random-trained "
        f"{rate['random-trained'].mean():.3f} (untrained "
        f"{untrained_rate['random-trained'].mean():.3f}); P(cheese's branch) near/far: "
        + ", ".join(
            f"{k} {c[k, 'near'].mean():.2f}/{c[k, 'far'].mean():.2f}" for k in CONDITIONS
        )
    )
    return [judge(S2, tests, [learned], n=len(c), detail=detail)]


# ----------------------------------------------------------------------------- figures
def _fields(tables: dict[str, pd.DataFrame], out: Path) -> Path:
    """Corner-trained, random-trained and difference vector fields, first seed, with the
    decision square (×) and the corner (☆). Each panel's arrows are scaled so its longest is
    0.9 of a square (its length, in squares per step, is in the panel's corner)."""
    field = tables["field"][tables["field"].seed == tables["field"].seed.min()]
    fig, axes = plt.subplots(len(FIELD_CHEESE), 3, figsize=(11, 3.8 * len(FIELD_CHEESE)),
                             squeeze=False)  # fmt: skip
    for row, (label, df) in zip(axes, field.groupby("cheese", sort=False), strict=True):
        by = {k: g.sort_values(["row", "col"]) for k, g in df.groupby("condition")}
        corner, rand = by["corner-trained"], by["random-trained"]
        diff = corner.assign(d_row=corner.d_row.to_numpy() - rand.d_row.to_numpy(),
                             d_col=corner.d_col.to_numpy() - rand.d_col.to_numpy())  # fmt: skip
        walls = np.ones(MAZE.size, bool)
        walls[corner.row, corner.col] = False
        cheese = np.array([[corner.cheese_row.iloc[0], corner.cheese_col.iloc[0]]])
        square, _ = decision_square(walls[None], cheese)
        panels = (("corner-trained", corner, "#c44e52"), ("random-trained", rand, "#4c72b0"),
                  ("corner − random", diff, "k"))  # fmt: skip
        for ax, (title, g, colour) in zip(row, panels, strict=True):
            longest = max(float(np.hypot(g.d_row, g.d_col).max()), 1e-9)
            ax.imshow(walls, cmap="Greys", vmin=0, vmax=1.5)
            ax.quiver(g.col, g.row, g.d_col, -g.d_row, angles="xy", scale_units="xy",
                      scale=longest / 0.9, color=colour)  # fmt: skip
            ax.scatter(cheese[0, 1], cheese[0, 0], s=150, c="gold", edgecolors="k", zorder=3)
            ax.scatter(CORNER[1], CORNER[0], s=150, c="none", edgecolors="k", marker="*")
            ax.scatter(square[0, 1], square[0, 0], s=80, c="k", marker="x", zorder=3)
            ax.text(0, MAZE.size[0] - 1, f"longest {longest:.2f}", fontsize=8, color="w",
                    va="center")  # fmt: skip
            ax.set(title=title, xticks=[], yticks=[])
        row[0].set_ylabel(label)
    fig.suptitle(f"Mean expected move of the seed-{int(field.seed.min())} mice on every square")
    return plots.save(fig, out / "vector_fields.png")


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    d = tables["decisions"]
    top = 7  # path distances of 7 and more share a bin
    d = d.assign(distance=np.minimum(d.path_distance, top))
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for condition, colour in (("corner-trained", "#c44e52"), ("random-trained", "#4c72b0"),
                              ("untrained", "#999999")):  # fmt: skip
        per_seed = d[d.condition == condition].groupby(["seed", "distance"])["choice"].mean()
        plots.band(ax, per_seed.unstack(), colour, condition)
    for x in (NEAR + 0.5, FAR - 0.5):
        ax.axvline(x, color="k", lw=0.6, ls=":")
    ax.set_xticks(range(1, top + 1), [*map(str, range(1, top)), f"{top}+"])
    ax.set(xlabel="path distance from the decision square to the cheese",
           ylabel="P(cheese's branch | a branch)",
           title="Choice at the decision square (95% CI over seeds)")  # fmt: skip
    ax.legend()
    choice_path = plots.save(fig, out / "decision_square.png")

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    order = ["corner-trained", "random-trained", "untrained"]
    for ax, (column, label) in zip(axes, (("cheese_push", "cheese's push toward the cheese"),
                                          ("corner_push", "cheese-free push toward the corner")),
                                   strict=True):  # fmt: skip
        plots.bars(ax, _by_condition(tables, column), order, "logits")
        ax.set_title(label)
    fig.suptitle("The two influences, read from the policy (95% bootstrap CI over seeds)")
    return [_fields(tables, out), choice_path, plots.save(fig, out / "influences.png")]


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
            "decision_mazes": 64,
            "probe_mazes": 4,
            "test_steps": 100,
        },
        claims=(S2,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
