"""Activation steering in the cheese maze (S8): add ε·(cheese vector) to the mouse's latent.

The cheese vector is the shard-theory team's construction: the mean latent of observations with
the cheese in view minus the mean latent of *the same* observations with the cheese removed
(same maze, same square), per agent. Adding it with coefficients ε from −16 to +16 should move
behaviour monotonically — here, the policy's probability of stepping toward the cheese along the
maze (breadth-first distance) on held-out mazes where the cheese is in view; a random direction
of the same norm should leave it flat.

Coefficients: the raw cheese vector is tiny (norm ≈ 0.06 against latents of norm ≈ 2.5: the
cheese is one of 104 observation inputs, and the encoder is trained by prediction, not reward);
with ε in −2…+2 it moved P(toward) by ~1e-4 (measured), so the default range is ±16, which moves
z by at most ~1, still within the tanh latent's range.

The mice and their maze are the cheese-maze experiment's (same world, brain and training
function, so its documented parameter choices apply here too).
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from shardlab.analysis.steering import mean_difference, random_like, steer
from shardlab.analysis.verdicts import Claim, ClaimResult, judge, superiority
from shardlab.brain import population
from shardlab.experiments import cheese_maze, plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds.engine import MOVES

S8 = Claim(
    id="S8",
    claim="Activation steering",
    prediction=(
        "adding ε·(mean latent with cheese − without) changes P(step toward the cheese) with a "
        "monotone dose–response, increasing in ε, and steeper than for a random direction of "
        "equal norm"
    ),
    contrast="random direction of equal norm",
)


class Config(ExperimentConfig):
    population: int = 8
    train_steps: int = 8000
    chunk: int = 2000  # the cheese-maze experiment's chunk, so the compiled chunk is shared
    build_mazes: int = 16  # mazes the vectors are computed from
    eval_mazes: int = 16  # held-out mazes the behaviour is measured on
    coefficients: tuple[float, ...] = (-16.0, -8.0, -4.0, 0.0, 4.0, 8.0, 16.0)


def toward_cheese(walls: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """(M, A) which actions shorten the maze distance to the cheese, from each state's square."""
    dist = {}
    for maze, cell in table.groupby("maze")[["cheese_row", "cheese_col"]].first().iterrows():
        dist[maze] = _distances(walls[maze], tuple(cell))
    moves = np.asarray(MOVES)
    mask = np.zeros((len(table), len(moves)), bool)
    for i, (maze, row, col) in enumerate(table[["maze", "row", "col"]].to_numpy()):
        here = dist[maze][row, col]
        for a, (dr, dc) in enumerate(moves):
            mask[i, a] = dist[maze][row + dr, col + dc] < here
    return mask


def _distances(walls: np.ndarray, source: tuple[int, int]) -> np.ndarray:
    """Breadth-first path lengths from `source` over open cells (walls: inf)."""
    dist = np.full(walls.shape, np.inf)
    dist[source] = 0
    queue = deque([source])
    while queue:
        r, c = queue.popleft()
        for dr, dc in ((-1, 0), (0, 1), (1, 0), (0, -1)):
            n = (r + dr, c + dc)
            inside = 0 <= n[0] < walls.shape[0] and 0 <= n[1] < walls.shape[1]
            if inside and not walls[n] and dist[n] == np.inf:
                dist[n] = dist[r, c] + 1
                queue.append(n)
    return dist


def _cheese_in_view(key: jax.Array, n_mazes: int):
    """Probe states of `n_mazes` mazes, and a mask of those with the cheese in view and not under
    the mouse (a mask, not a subset, so every seed's arrays have one shape and compile once)."""
    states, table = cheese_maze.maze_states(key, n_mazes)
    on_cheese = (table.row == table.cheese_row) & (table.col == table.cheese_col)
    return states, table, cheese_maze.cheese_visible(table) & ~on_cheese.to_numpy()


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    key = jax.random.key(seed)
    k_train, k_build, k_eval, k_random = jax.random.split(key, 4)
    agents, (early, late) = cheese_maze.train_agents(k_train, config.population,
                                                     config.train_steps, config.chunk)  # fmt: skip

    # The cheese vector, per agent: same squares of the same mazes, cheese shown vs removed.
    states, _, keep = _cheese_in_view(k_build, config.build_mazes)
    shown = jnp.ones(states.pos.shape[0], bool)
    with_cheese = population.latents(agents, cheese_maze.observe(states, shown))[:, keep]
    without = population.latents(agents, cheese_maze.observe(states, ~shown))[:, keep]
    cheese = mean_difference(with_cheese, without, name="cheese")
    vectors = {"cheese": cheese, "random": random_like(cheese, k_random)}

    # Dose–response on held-out mazes.
    states, table, keep = _cheese_in_view(k_eval, config.eval_mazes)
    obs = cheese_maze.observe(states, jnp.ones(len(table), bool))
    table = table[keep].reset_index(drop=True)
    toward = toward_cheese(np.asarray(states.walls)[keep], table.assign(maze=np.arange(len(table))))
    dose = []
    for name, vector in vectors.items():
        for coefficient in config.coefficients:
            with steer(vector, coefficient):
                probs = cheese_maze.action_probabilities(agents, obs)[:, keep]
            p_toward = (probs * toward).sum(-1).mean(-1)  # per agent
            dose.append({"vector": name, "coefficient": coefficient,
                         "p_toward": float(p_toward.mean())})  # fmt: skip
    summary = pd.DataFrame(
        [
            {
                "early_cheese_rate": early,
                "late_cheese_rate": late,
                "vector_norm": float(cheese.norm.mean()),
                "states": len(table),
            }
        ]
    )
    return {"dose": pd.DataFrame(dose), "summary": summary}  # fmt: skip


def _slopes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per seed and vector: least-squares slope of P(toward) on the coefficient, and Spearman ρ."""
    rows = []
    for (seed, vector), df in tables["dose"].groupby(["seed", "vector"]):
        slope = np.polyfit(df.coefficient, df.p_toward, 1)[0]
        rho = spearmanr(df.coefficient, df.p_toward).statistic
        rows.append({"seed": seed, "vector": vector, "slope": slope, "rho": rho})
    return pd.DataFrame(rows).pivot(index="seed", columns="vector")


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    s = _slopes(tables)
    slope, rho = s["slope"], s["rho"]
    summary = tables["summary"]
    # Margin: 0.001 in P(step toward the cheese) per unit ε, i.e. 3 percentage points over the
    # ±16 range of coefficients. Both vectors steer the same agents on the same states, so they
    # pair by seed.
    tests = [
        superiority("|slope| cheese vector − |slope| random direction", slope["cheese"].abs(),
                    slope["random"].abs(), margin=0.001, paired=True),
        superiority("signed slope of the cheese vector", slope["cheese"], margin=0.001),
    ]  # fmt: skip
    detail = (
        f"Spearman ρ cheese = {rho['cheese'].mean():.2f}, random = {rho['random'].mean():.2f}; "
        f"mean vector norm {summary.vector_norm.mean():.2f}; training cheese rate first → last "
        f"quarter {summary.early_cheese_rate.mean():.3f} → {summary.late_cheese_rate.mean():.3f}"
    )
    return [judge(S8, tests, n=len(slope), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for (name, df), color in zip(tables["dose"].groupby("vector"), ("#4c72b0", "#999999"),
                                 strict=True):  # fmt: skip
        per_seed = df.pivot(index="seed", columns="coefficient", values="p_toward")
        plots.band(ax, per_seed, color, name)
    ax.set(
        xlabel="coefficient ε (latent += ε·vector)",
        ylabel="P(step toward the cheese)",
        title="Dose–response of activation steering (95% bootstrap CI over seeds)",
    )
    ax.legend()
    return [plots.save(fig, out / "dose_response.png")]


EXPERIMENT = register(
    Experiment(
        name="steering-vectors",
        title="Activation steering: the cheese vector",
        description=__doc__ or "",
        config_type=Config,
        quick={
            "seeds": 3,
            "population": 4,
            "train_steps": 200,
            "chunk": 100,
            "build_mazes": 4,
            "eval_mazes": 4,
            "coefficients": (-8.0, 0.0, 8.0),
        },
        claims=(S8,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
