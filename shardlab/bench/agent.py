"""`shardlab bench agent`: how fast the full brain trains, against Stable-Baselines3 PPO.

Training throughput is what decides whether a claim can be tested on a laptop in minutes, so the
benchmark reports environment steps per second of the whole brain (every module on) living in
`foraging` as a vmapped population, the same for SB3 PPO on the Gymnasium adapter, what each
module costs (the brain's speed with that one module off), and the hidden performance each
learner reaches after the same number of environment steps — a fast learner that learns nothing
is no bargain.

Timing: the brain is compiled by a warm-up run as long as a timed one, then `population.train`
calls are timed to `jax.block_until_ready` (each includes making the fresh worlds, as any run
does): three before PPO and three after, pooled into one steps/s (total steps over total
seconds; each run's rate is in `runs`). A timed run that compiles anything is an error: a chunk
program compiled a second time for a run's second chunk once cut the reported speed by nearly
half, unseen by a warm-up of one chunk. PPO is timed over `model.learn(total_timesteps)` with
the same total number of environment steps, one run of about two minutes that averages over the
machine's slow spells; pooling runs on both sides of it lets the brain's figure average over
them too, where a single few-second run had caught a spell or missed it (31.7× and 36.3× for the
same code). Each module-off figure pools three runs. `compile_s` is the warm-up's time less the
first timed run's: the full brain's compile, cold unless the persistent cache already holds it
(`SHARDLAB_JAX_CACHE=` turns the cache off, so the figure is cold).

The brain uses every core (`runner.cores`): its population is split across them. The default
population, 128 agents of 1,000 ticks (128,000 environment steps, as PPO gets), is 64 agents per
core on a 2-core machine. Its size matters little since the parts stopped meeting every tick
(idle 2 cores, steps/s of 1,000-tick runs, best of three): 64 agents 96,731; 128 agents 90,659;
256 agents 94,468. (While they met: 64 agents 52,674, 128 agents 48,544, 256 agents 38,576.)
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from shardlab.bench.harness import chunk_size, late_performance, train_ppo
from shardlab.brain.agent import AgentConfig
from shardlab.errors import ShardlabError, require
from shardlab.runner.cache import count_compiles

SCENARIO = "foraging"
POPULATION, STEPS = 128, 1000
"""The timed brain population and its ticks (see the module docstring for why)."""
REPEATS = 3
"""Timed brain runs before SB3 PPO, and as many after, pooled into one steps/s: PPO's one long
run averages over the machine's slow spells (it has spells at half speed), and so do these."""
MODULES = ("pfc", "hippocampus", "assessors", "habit", "cortex")
"""Each module the brain can run without, in `module_cost` order."""


def ablate(config: AgentConfig, module: str) -> AgentConfig:
    """`config` with one module switched off: the PFC's plans and the habit prior weighted 0,
    the hippocampus and the thought assessors disabled, the cortex (world model) frozen."""
    r = dataclasses.replace
    off = {
        "pfc": lambda: r(config, pfc=r(config.pfc, weight=0.0)),
        "hippocampus": lambda: r(config, hippocampus=r(config.hippocampus, enabled=False)),
        "assessors": lambda: r(config, assessors=r(config.assessors, enabled=False)),
        "habit": lambda: r(config, basal_ganglia=r(config.basal_ganglia, habit_weight=0.0)),
        "cortex": lambda: r(config, cortex=r(config.cortex, plastic=False)),
    }
    if module not in off:
        raise ShardlabError(f"unknown module {module!r}; choose from {', '.join(MODULES)}")
    return off[module]()


def time_brain(
    config: AgentConfig, population: int, steps: int, seeds: range, warm_up: bool = False
) -> tuple[list[float], Any]:
    """Seconds of each run of a brain population (one per seed), and the last run's lifetime.
    Runs other than a `warm_up` must compile nothing, or their seconds would include it."""
    import jax

    from shardlab.brain import population as population_
    from shardlab.worlds import make

    world = make(SCENARIO)
    params = world.default_params("train")
    seconds, life = [], None
    with count_compiles() as compiles:
        for seed in seeds:
            start = time.perf_counter()
            life = population_.train(world, params, config, jax.random.PRNGKey(seed),
                                     population, steps, chunk=chunk_size(steps, most=250))
            jax.block_until_ready((life.agents, life.log))
            seconds.append(time.perf_counter() - start)
    if compiles() and not warm_up:
        raise ShardlabError(
            f"a timed brain run compiled {compiles()} program(s) after its warm-up, so its time "
            "would include compiling: something in the run changes shape or layout between its "
            "chunks or runs")  # fmt: skip
    return seconds, life


def pool(result: dict[str, Any], seconds: list[float]) -> dict[str, Any]:
    """`result` with more timed runs of `env_steps` each pooled into its steps/s: total steps
    over total seconds (`seconds` sums its runs; `runs` lists each run's rate)."""
    steps = result["env_steps"]
    runs = result["runs"] + [steps / s for s in seconds]
    total = result["seconds"] + sum(seconds)
    return {**result, "runs": runs, "seconds": total, "steps_per_s": steps * len(runs) / total}


def bench_brain(
    config: AgentConfig, population: int, steps: int, repeats: int = REPEATS
) -> dict[str, Any]:
    """Steps/s (agents × ticks per second, pooled over `repeats` timed runs) and late
    performance of a brain population, after a compiling warm-up run of as many ticks."""
    warm_seconds, _ = time_brain(config, population, steps, range(1), warm_up=True)
    seconds, life = time_brain(config, population, steps, range(repeats))
    empty = {"agent": "brain", "population": population, "env_steps": population * steps,
             "seconds": 0.0, "runs": []}  # fmt: skip
    return {
        **pool(empty, seconds),
        "performance": late_performance(np.asarray(life.log.performance)),
        "compile_s": max(0.0, warm_seconds[0] - seconds[0]),
    }


def bench_sb3(n_envs: int, total_steps: int, seed: int = 0) -> dict[str, Any]:
    """Steps/s of SB3 PPO (`harness.train_ppo`) learning `foraging` with the scenario's default
    reward, and its hidden performance per tick over the last 10% of learning."""
    ppo = train_ppo(SCENARIO, n_envs, total_steps, seed)
    return {
        "agent": "sb3_ppo",
        "population": n_envs,
        "env_steps": ppo.env_steps,
        "seconds": ppo.seconds,
        "steps_per_s": ppo.env_steps / ppo.seconds,
        "performance": late_performance(ppo.performance),
    }


def run(
    population: int = POPULATION,
    steps: int = STEPS,
    sb3: bool = True,
    sb3_envs: int = 16,
    modules: bool = True,
    progress: Any = None,
) -> dict[str, Any]:
    """The whole benchmark as one JSON-able dict (see the module docstring)."""
    if population < 1 or steps < 1 or sb3_envs < 1:
        raise ShardlabError("--population, --steps and --sb3-envs must be positive")
    if sb3:  # fail before the long brain runs, not after
        require("stable_baselines3", "bench")
        require("torch", "bench")
    say = progress or (lambda message: None)
    config = AgentConfig()
    say("brain (all modules)")
    results = [bench_brain(config, population, steps)]
    ratios = {}
    if sb3:
        say("sb3 ppo")
        results.append(bench_sb3(sb3_envs, population * steps))
        say("brain (all modules) again")
        seconds, _ = time_brain(config, population, steps, range(REPEATS, 2 * REPEATS))
        results[0] = pool(results[0], seconds)
        ratios["vs_sb3_ppo"] = results[0]["steps_per_s"] / results[1]["steps_per_s"]
    cost = {}
    if modules:
        for module in MODULES:
            say(f"brain without {module}")
            off = ablate(config, module)
            cost[module] = bench_brain(off, population, steps)["steps_per_s"]
    return {
        "scenario": SCENARIO,
        "steps_per_agent": steps,
        "compile_s": results[0]["compile_s"],
        "results": results,
        "ratios": ratios,
        "module_cost": cost,
    }


def agent(
    json_out: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
    steps: Annotated[int, typer.Option(help="Ticks each brain agent lives (timed run).")] = STEPS,
    population: Annotated[
        int, typer.Option(help="Brain agents trained in parallel.")
    ] = POPULATION,
    skip_sb3: Annotated[bool, typer.Option("--skip-sb3", help="Leave out SB3 PPO.")] = False,
    sb3_envs: Annotated[int, typer.Option(help="SB3 PPO's number of vector envs.")] = 16,
    module_cost: Annotated[
        bool, typer.Option(help="Also time the brain with each module off.")
    ] = True,
) -> None:
    """Training steps/s of the full brain vs Stable-Baselines3 PPO on foraging, per-module cost,
    and the hidden performance each reaches after the same number of environment steps."""
    err = Console(stderr=True, highlight=False)
    say = None if json_out else (lambda message: err.print(f"[dim]timing {message}…[/dim]"))
    out = run(population, steps, not skip_sb3, sb3_envs, module_cost, progress=say)
    if json_out:
        print(json.dumps(out))
        return
    console = Console(highlight=False)
    table = Table("agent", "population", "env steps", "steps/s", "performance/tick",
                  title=f"training on {out['scenario']}")  # fmt: skip
    for r in out["results"]:
        table.add_row(r["agent"], str(r["population"]), f"{r['env_steps']:,}",
                      f"{r['steps_per_s']:,.0f}", f"{r['performance']:.4f}")  # fmt: skip
    console.print(table)
    console.print(f"full brain compile: {out['compile_s']:.1f} s")
    for name, ratio in out["ratios"].items():
        console.print(f"brain {name}: {ratio:.2f}×")
    if out["module_cost"]:
        full = out["results"][0]["steps_per_s"]
        cost = Table("module off", "steps/s", "speed-up", title="module cost")
        for module, speed in out["module_cost"].items():
            cost.add_row(module, f"{speed:,.0f}", f"{speed / full:.2f}×")
        console.print(cost)
