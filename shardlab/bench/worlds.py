"""`shardlab bench worlds`: steps/s of shardlab's grid engine against its peers, same machine,
same run: MiniGrid through Gymnasium (one Python env per world) and gymnax's FourRooms (JAX, in
its own virtualenv). Every engine takes random actions and computes its observations; the JAX
engines are timed by `jax_rate`. Each figure is the best of a few timed repeats after a warm-up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from shardlab.bench import jax_rate, peers
from shardlab.errors import ShardlabError, require
from shardlab.worlds import make

BATCHES = (1, 64, 4096)
ENGINES = ("shardlab", "minigrid", "gymnax")


def shardlab_rate(batch: int, steps: int, scenario: str = "foraging") -> float:
    world = make(scenario)
    params = world.default_params()

    def step(key, state, action):
        obs, state, *_ = world.step_batch(key, state, action, params)
        return obs, state

    return jax_rate.jax_rate(
        lambda k: world.reset_batch(k, batch, params)[1], step, world.n_actions, batch, steps
    )


def gymnax_rate(batch: int, steps: int) -> float:
    """gymnax's FourRooms, timed the same way in gymnax's own virtualenv (its Gymnasium pin
    conflicts with ours)."""
    return float(peers.run("gymnax", Path(jax_rate.__file__), batch, steps))


def minigrid_rate(batch: int, steps: int) -> float:
    require("minigrid", "bench")
    import gymnasium
    import minigrid  # noqa: F401  (registers the MiniGrid environments)

    def make_env() -> gymnasium.Env:
        return gymnasium.make("MiniGrid-Empty-8x8-v0")

    envs = gymnasium.vector.SyncVectorEnv([make_env] * batch)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)

    def run() -> None:
        for _ in range(steps):
            envs.step(rng.integers(0, 3, batch))

    seconds = jax_rate.best(run, repeats=2)
    envs.close()
    return batch * steps / seconds


def run(engines: tuple[str, ...] = ENGINES, steps: int = 256) -> dict[str, Any]:
    """The benchmark as one JSON-able dict: results per engine and batch, ratios at 4096."""
    unknown = set(engines) - set(ENGINES)
    if unknown:
        raise ShardlabError(f"unknown engine(s) {sorted(unknown)}; choose from {list(ENGINES)}")
    if steps < 1:
        raise ShardlabError("--steps must be positive")
    rates = {"shardlab": shardlab_rate, "gymnax": gymnax_rate, "minigrid": minigrid_rate}
    results = []
    for engine in engines:
        for batch in BATCHES:
            # Python engines step one world at a time: fewer ticks keep the big batch bearable.
            ticks = max(2, steps // max(1, batch // 64)) if engine == "minigrid" else steps
            rate = rates[engine](batch, ticks)
            results.append({"engine": engine, "batch": batch, "steps_per_s": rate})
    at = {r["engine"]: r["steps_per_s"] for r in results if r["batch"] == max(BATCHES)}
    ratios = {
        f"vs_{peer}": at["shardlab"] / at[peer]
        for peer in ("minigrid", "gymnax")
        if peer in at and "shardlab" in at
    }
    return {"results": results, "ratios": ratios}


def worlds(
    json_out: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
    steps: Annotated[int, typer.Option(help="Ticks per timed run of the JAX engines.")] = 256,
    engines: Annotated[
        str, typer.Option(help="Comma-separated subset of shardlab,minigrid,gymnax.")
    ] = ",".join(ENGINES),
) -> None:
    """Steps/s of shardlab worlds at batch 1, 64 and 4096 against MiniGrid and gymnax."""
    out = run(tuple(e.strip() for e in engines.split(",") if e.strip()), steps)
    if json_out:
        print(json.dumps(out))
        return
    table = Table("engine", "batch", "steps/s", title="grid-world engines, random actions")
    for r in out["results"]:
        table.add_row(r["engine"], str(r["batch"]), f"{r['steps_per_s']:,.0f}")
    console = Console(highlight=False)
    console.print(table)
    for name, ratio in out["ratios"].items():
        console.print(f"shardlab at batch {max(BATCHES)} {name}: {ratio:,.1f}×")


