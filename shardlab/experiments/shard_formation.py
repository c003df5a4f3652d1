"""Shards form by credit assignment (S1): reinforcement in one context creates a contextually
activated decision influence there.

The world is five closed rooms told apart only by their tint: four inert marker objects per room,
red and blue in the proportions 4:0, 3:1, 2:2, 1:3, 0:4, so a room's *tint distance* from the red
room is its number of blue markers (0–4). Each episode the agent wakes in a random room. During
training berries grow only in the red room: sweetness, and through the steering subsystem reward,
has only ever happened there. The other four rooms are never rewarded (the contrast).

The shard measured is berry approach: with the analysis tool (`shards.track`, raw latent units as
features, signed) we sum every latent unit's push on the logit of the move toward a visible berry,
per room. Probe states come from the test phase, in which berries grow in every room, so each room
is probed with the same berry views; they are encoded by the cortex of the moment and the agents do
not live in the test phase. Prediction: the push is large in the rewarded room, falls with tint
distance and is ≈ 0 in never-rewarded rooms.

Chosen to make the effect visible (documented, not tuned on the verdict): rooms of 3×3 cells with
double walls, so from any cell the 5×5 view shows the whole room and nothing of the next one; the
planner is off (`PFCConfig(weight=0)`), so action preferences are the basal ganglia's actor, whose
logits the shard tool decomposes exactly (the habit prior adds its own term and is left out).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import PositiveInt

from shardlab.analysis import shards
from shardlab.analysis.statistics import mean_ci
from shardlab.analysis.verdicts import Claim, ClaimResult, equivalence, judge, superiority
from shardlab.brain import agent, population
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds.catalog import FOOD
from shardlab.worlds.engine import World
from shardlab.worlds.scenario import ACTIONS, SENSATIONS, ObjectKind, Scenario, Spawn

S1 = Claim(
    id="S1",
    claim="Shards form by credit assignment: reinforcement in a context creates a contextually "
    "activated decision influence",
    prediction="the berry-approach shard is stronger in the rewarded room than in never-rewarded "
    "rooms, and falls with tint distance from the rewarded room",
    contrast="rooms never rewarded (tint distance 1–4)",
)

ROOMS = 5
MARKERS = 4  # per room; room d has MARKERS − d red and d blue markers
ROOM, GAP = 3, 2  # room width and wall thickness, in cells
WIDTH = ROOMS * ROOM + (ROOMS - 1) * GAP
LAYOUT = tuple(
    "##".join("." * ROOM for _ in range(ROOMS)) for _ in range(ROOM)
)  # e.g. "...##...##..."
BERRY = replace(FOOD, name="berry", glyph="o")
RED = ObjectKind("red", "r", (220, 60, 60))
BLUE = ObjectKind("blue", "u", (60, 60, 220))


def _room(d: int) -> tuple[float, float, float, float]:
    """Region of room d as grid fractions (half a cell inside, so rounding cannot leak)."""
    c0 = d * (ROOM + GAP)
    return (0.0, 1.0, (c0 + 0.5) / WIDTH, (c0 + ROOM - 0.5) / WIDTH)


def _spawns() -> tuple[Spawn, ...]:
    tints = tuple(
        Spawn(colour, count=n, region=_room(d))
        for d in range(ROOMS)
        for colour, n in (("red", MARKERS - d), ("blue", d))
        if n
    )
    berries = tuple(
        Spawn("berry", count=2, region=_room(d), phases=("train", "test") if d == 0 else ("test",))
        for d in range(ROOMS)
    )
    return tints + berries


WORLD = World(
    Scenario(
        name="tinted-rooms",
        description="Five rooms tinted red to blue; berries grow only in the red room in "
        "training, and in every room in the test phase.",
        kinds=(BERRY, RED, BLUE),
        spawns=_spawns(),
        layout=LAYOUT,
        max_steps=32,
        drive_init={"train": {"hunger": 0.5}, "test": {"hunger": 0.5}},
        drive_rate={"hunger": 0.02},
    )
)
BRAIN = agent.AgentConfig(pfc=replace(agent.AgentConfig().pfc, weight=0.0))
MOVES = ACTIONS[:4]  # up, right, down, left
SWEET = SENSATIONS.index("sweet")


class Config(ExperimentConfig):
    population: PositiveInt = 8
    train_steps: PositiveInt = 6000
    segments: PositiveInt = 6  # shard strength is tracked after each of this many segments
    probe_states: PositiveInt = 2000


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    key = jax.random.key(seed)
    k_probe, k_train = jax.random.split(key)
    obs = shards.sample_observations(WORLD, WORLD.default_params("test"), k_probe,
                                     config.probe_states)  # fmt: skip
    contexts = approach_contexts(obs)
    params = WORLD.default_params("train")
    seg = config.train_steps // config.segments
    agents, rows, sweet = None, [], np.zeros(config.population)
    for s in range(config.segments + 1):
        if s:
            life = population.train(WORLD, params, BRAIN, jax.random.fold_in(k_train, s),
                                    config.population, seg, agents=agents, chunk=seg)  # fmt: skip
            agents = life.agents
            sweet += np.asarray(life.log.sensations)[..., SWEET].sum(0)
        else:
            agents, _, _ = population.start(WORLD, params, BRAIN, k_train, config.population)
        latents = population.latents(agents, obs)
        for i, one in enumerate(population.members(agents)):
            snap = shards.Snapshot(s * seg, one.basal_ganglia, latents[i])
            rows.append(_approach(shards.track([snap], contexts, mode="signed"), i, sweet[i]))
    return {"strength": pd.concat(rows, ignore_index=True)}


def approach_contexts(obs: np.ndarray) -> dict[str, np.ndarray]:
    """Masks "d|move": the agent is in room d (read from the tint it sees) and the nearest berry
    lies in direction `move` (a diagonal one counts for both of its moves)."""
    feats = shards.world_features(WORLD, obs)
    v, c = WORLD.view, WORLD.n_channels
    view = obs[:, : v * v * c].reshape(len(obs), v * v, c)
    blue = view[..., 1 + WORLD.scenario.kind_index("blue")].sum(1).round().astype(int)
    red = view[..., 1 + WORLD.scenario.kind_index("red")].sum(1).round().astype(int)
    room_ok = (red + blue) == MARKERS
    return {
        f"{d}|{move}": (blue == d) & room_ok & feats[f"berry {move}"].to_numpy(bool)
        for d in range(ROOMS)
        for move in MOVES
    }


def _approach(df: pd.DataFrame, agent_i: int, sweet: float) -> pd.DataFrame:
    """Per room: the summed push of all latent units on the move toward the berry, averaged over
    the four directions (contexts with no states are skipped); with the room's reward history,
    the sweetness tasted there so far (berries grow only in room 0 in training)."""
    df = df[df["n"] > 0]
    split = {c: c.split("|") for c in df["context"].unique()}  # "room|move"
    df = df[df["action"] == df["context"].map({c: move for c, (_, move) in split.items()})]
    push = df.groupby(["step", "context"], as_index=False)["strength"].sum()
    push["distance"] = push["context"].map({c: int(room) for c, (room, _) in split.items()})
    out = push.groupby(["step", "distance"], as_index=False)["strength"].mean()
    out["agent"] = agent_i
    out["sweet"] = np.where(out["distance"] == 0, sweet, 0.0)
    return out


def _final(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """seed × distance: the population-mean approach shard at the end of training."""
    df = tables["strength"]
    last = df[df["step"] == df["step"].max()]
    return last.groupby(["seed", "distance"])["strength"].mean().unstack()


def _slopes(final: pd.DataFrame) -> np.ndarray:
    """Per seed, least-squares slope of shard strength on tint distance over the unrewarded
    rooms (1–4): the generalisation gradient away from the rewarded context."""
    d = np.array(final.columns[1:], float)
    return np.array([np.polyfit(d, row[1:], 1)[0] for row in final.to_numpy()])


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    final = _final(tables)
    rewarded = final[0].to_numpy()
    never = final.loc[:, 1:].mean(axis=1).to_numpy()
    end = tables["strength"].query("distance == 0 and step == step.max()")
    history_r = end.groupby("seed")[["sweet", "strength"]].corr().xs("sweet", level=1)["strength"]
    # Margins in logits of the approach move: 0.05 moves its probability by about one
    # percentage point near a uniform policy, the least push worth calling a decision influence;
    # the gradient's margin spreads that over the four unrewarded rooms' 1–4 blue markers.
    # Every room is probed on the same states by the same agents, so rooms pair by seed.
    tests = [
        superiority("rewarded − mean never-rewarded room push", rewarded, never, margin=0.05,
                    paired=True),
        superiority("slope of push over tint distance (unrewarded rooms)", _slopes(final),
                    margin=0.0125, direction=-1),
        equivalence("push in the farthest never-rewarded room", final[ROOMS - 1], margin=0.05),
    ]  # fmt: skip
    detail = (
        f"across agents, r(sweetness tasted, rewarded-room push) = {history_r.mean():.2f} "
        f"(mean over seeds); rewarded-room push at step 0 = "
        f"{tables['strength'].query('step == 0 and distance == 0')['strength'].mean():.3f}"
    )
    return [judge(S1, tests, n=len(final), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    final = _final(tables)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    means = final.mean().to_numpy()
    cis = np.array([mean_ci(final[d]) for d in final.columns])
    err = np.clip(np.stack([means - cis[:, 0], cis[:, 1] - means]), 0, None)
    labels = [f"{MARKERS - d}r:{d}b" + (" (rewarded)" if d == 0 else "") for d in final.columns]
    colours = ["#c44e52"] + ["#8172b2"] * (ROOMS - 1)
    axes[0].bar(labels, means, yerr=err, capsize=4, color=colours)
    axes[0].axhline(0, color="k", lw=0.8)
    axes[0].set(ylabel="berry-approach push (logits)",
                title="Shard strength per room (95% CI over seeds)")  # fmt: skip
    axes[0].tick_params(axis="x", labelsize=8)
    for seed, row in final.iterrows():
        axes[1].plot(final.columns, row, marker="o", alpha=0.6, label=f"seed {seed}")
    axes[1].plot(final.columns, means, color="k", lw=2.5, label="mean")
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set(xlabel="tint distance from the rewarded room (blue markers)",
                ylabel="berry-approach push (logits)", title="Strength vs context distance")
    axes[1].legend(fontsize="x-small")
    paths = [plots.save(fig, out / "strength_by_context.png")]

    curves = tables["strength"].groupby(["distance", "step"])["strength"].mean().unstack(0)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for d in curves.columns:
        ax.plot(curves.index, curves[d], marker="o", label=labels[d])
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="training tick", ylabel="berry-approach push (logits)",
           title="Shard strength over training, per room")  # fmt: skip
    ax.legend(fontsize="x-small")
    paths.append(plots.save(fig, out / "strength_over_training.png"))
    return paths


register(
    Experiment(
        name="shard-formation",
        title="Shards form by credit assignment: a contextually activated approach shard",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "population": 4, "train_steps": 200, "segments": 2,
               "probe_states": 500},
        claims=(S1,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
