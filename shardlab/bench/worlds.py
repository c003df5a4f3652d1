"""`shardlab bench worlds`: steps/s of shardlab's grid engine against its peers, same machine,
same run: MiniGrid through Gymnasium (one Python env per world) and three JAX engines, gymnax's
FourRooms, navix's and XLand-MiniGrid's Empty-8x8, in one virtualenv of their own
(`.venv-jaxgrids`, made by `make bench`). Every engine takes random actions, computes its
observations and resets finished episodes; the JAX engines are timed by `jax_rate`. Each figure
is the best of a few timed repeats after a warm-up.

At the largest batch the engines take turns: three rounds (`--rounds`) of every engine in
turn, and each engine's figure there is its best run. This machine has spells at half speed,
lasting from a second to half a minute; one that fell on an engine's consecutive repeats had
halved a ratio. Taking turns, a spell must last through every round to slow an engine's best
run, and every engine gets the same number of chances.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
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
PEERS = ("minigrid", *jax_rate.PEERS)
ENGINES = ("shardlab", *PEERS)
ROUNDS = 3
"""Rounds of every engine in turn at the largest batch (see the module docstring)."""


def shardlab_rate(batch: int, steps: int, scenario: str = "foraging") -> float:
    return _shardlab_timer(batch, steps, scenario)()


@functools.cache
def _shardlab_timer(batch: int, steps: int, scenario: str) -> Callable[[], float]:
    """Compiled once per size, so each round times shardlab again without recompiling."""
    world = make(scenario)
    params = world.default_params()

    def step(key, state, action):
        obs, state, *_ = world.step_batch(key, state, action, params)
        return obs, state

    return jax_rate.jax_timer(
        lambda k: world.reset_batch(k, batch, params)[1], step, world.n_actions, batch, steps
    )


def jax_peer_rate(engine: str, batch: int, steps: int) -> float:
    """A JAX peer timed by `jax_rate` in the peers' virtualenv, `.venv-jaxgrids`."""
    return float(peers.run("jaxgrids", Path(jax_rate.__file__), engine, batch, steps))


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


def rate(engine: str, batch: int, steps: int) -> float:
    """Steps/s of one engine at one batch size. Python engines step one world at a time, so
    MiniGrid gets fewer ticks at big batches to keep them bearable."""
    if engine == "shardlab":
        return shardlab_rate(batch, steps)
    if engine == "minigrid":
        return minigrid_rate(batch, max(2, steps // max(1, batch // 64)))
    return jax_peer_rate(engine, batch, steps)


def in_turns(
    engines: tuple[str, ...], batch: int, steps: int, rounds: int
) -> dict[str, list[float]]:
    """Each engine's runs at `batch` from `rounds` rounds of every engine in turn."""
    runs: dict[str, list[float]] = {engine: [] for engine in engines}
    for _ in range(rounds):
        for engine in engines:
            runs[engine].append(rate(engine, batch, steps))
    return runs


def run(
    engines: tuple[str, ...] = ENGINES, steps: int = 256, rounds: int = ROUNDS
) -> dict[str, Any]:
    """The benchmark as one JSON-able dict: results per engine and batch (at the largest, the
    best of the engines' runs in turns, each run listed in `runs`), and shardlab's speed-up
    over each peer there (`vs_<peer>`)."""
    unknown = set(engines) - set(ENGINES)
    if unknown:
        raise ShardlabError(f"unknown engine(s) {sorted(unknown)}; choose from {list(ENGINES)}")
    if steps < 1 or rounds < 1:
        raise ShardlabError("--steps and --rounds must be positive")
    top = max(BATCHES)
    results = [{"engine": engine, "batch": batch, "steps_per_s": rate(engine, batch, steps)}
               for engine in engines for batch in BATCHES if batch != top]  # fmt: skip
    for engine, runs in in_turns(engines, top, steps, rounds).items():
        results.append({"engine": engine, "batch": top, "steps_per_s": max(runs), "runs": runs})
    results.sort(key=lambda r: (engines.index(r["engine"]), r["batch"]))
    at = {r["engine"]: r["steps_per_s"] for r in results if r["batch"] == top}
    ratios = {f"vs_{peer}": at["shardlab"] / at[peer] for peer in PEERS
              if peer in at and "shardlab" in at}  # fmt: skip
    return {"results": results, "ratios": ratios}


def worlds(
    json_out: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
    steps: Annotated[int, typer.Option(help="Ticks per timed run of the JAX engines.")] = 256,
    engines: Annotated[
        str, typer.Option(help=f"Comma-separated subset of {','.join(ENGINES)}.")
    ] = ",".join(ENGINES),
    rounds: Annotated[
        int, typer.Option(help="Rounds of every engine in turn at the largest batch.")
    ] = ROUNDS,
) -> None:
    """Steps/s of shardlab worlds at batch 1, 64 and 4096 against MiniGrid, gymnax, navix and
    XLand-MiniGrid."""
    out = run(tuple(e.strip() for e in engines.split(",") if e.strip()), steps, rounds)
    if json_out:
        print(json.dumps(out))
        return
    table = Table("engine", "batch", "steps/s", title="grid-world engines, random actions")
    for r in out["results"]:
        table.add_row(r["engine"], str(r["batch"]), f"{r['steps_per_s']:,.0f}")
    console = Console(highlight=False)
    console.print(table)
    for name, ratio in out["ratios"].items():
        console.print(f"shardlab at batch {max(BATCHES)} {name}: {ratio:,.1f}× (best runs)")
