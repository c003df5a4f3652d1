"""`shardlab bench learning`: how well the brain learns, against plain actor-critic,
Stable-Baselines3 PPO and a random policy given the same experience.

Every learner lives `steps` environment steps per seed in each scenario's training phase: each
brain or actor-critic agent (a vmapped population of `agents` per seed), and PPO in total across
its 8 envs (rounded up to whole vector steps). Whatever a learner does before its last step
counts against that budget. The brain is `AgentConfig()`; actor-critic and PPO are paid the
brain's innate reward (`steering.innate_reward_fn`, passed as the Gymnasium adapter's
`reward_fn`), so every learner is paid alike. PPO is `harness.train_ppo` (MlpPolicy, SB3's
defaults but a 2,048-step rollout split over the envs).

A seed's score is the hidden performance per tick over its last 10% of steps (the mean over a
population's agents); a learner's is the mean over seeds with the studentized-bootstrap 95% CI
(`statistics.mean_ci`), the seed being the unit. Per scenario:

- `brain_vs_ppo` = (brain − random) / (PPO − random), the share of PPO's gain over chance that
  the brain reaches. Defined only when PPO beats random, i.e. the lower end of PPO's CI lies
  above random's mean; otherwise null, with a note.
- `brain_vs_ppo_ci` = Fieller's 95% CI of that ratio over the seeds of the three learners
  (`statistics.gain_ratio_ci`), so "the brain reaches PPO" can be read as confidently above,
  below or undecided; null when PPO's gain over random is too uncertain to bound it.
- `brain_minus_random` = {"effect": mean over seeds of brain − random at the same seed index,
  "ci": [lo, hi]}, the CI of those per-seed differences.

`--json` prints {"results": [{"scenario", "learner", "steps", "performance", "ci", "per_seed",
"seconds"}], "ratios": {"brain_vs_ppo": {scenario: ratio or null}, "brain_vs_ppo_ci":
{scenario: [lo, hi] or null}, "brain_minus_random": {scenario: {"effect", "ci"} or null}},
"notes": {scenario: why a ratio is null}, "seeds", "agents", "ppo_envs", "seconds"}.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import jax
import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shardlab.analysis.statistics import gain_ratio_ci, mean_ci
from shardlab.baselines import actor_critic as ac
from shardlab.bench.harness import chunk_size, late_performance, train_ppo
from shardlab.brain import population
from shardlab.brain.agent import AgentConfig
from shardlab.brain.steering import innate_reward_fn
from shardlab.errors import ShardlabError, require
from shardlab.worlds import SCENARIOS, EnvParams, EnvState, World, make

DEFAULT_SCENARIOS = ("foraging", "trash", "money", "cheese-maze", "absent-supervisor")
LEARNERS = ("brain", "actor-critic", "ppo", "random")
PPO_ENVS = 8
ALL_STEPS = 4_096
"""Steps per learner in `shardlab bench all` (and so `make bench`, which must fit in 30 minutes
on 2 cores): two of PPO's 2,048-step rollouts. Compiling the brain for five worlds costs minutes
whatever the step count, and 10,000 steps took over an hour on a loaded 2-core machine."""

Advance = Callable[[int], None]
"""Called with the environment steps (per agent) just done, for the progress bar."""


def _brain(scenario: str, seed: int, steps: int, agents: int, advance: Advance) -> float:
    """A seed's late performance: `agents` brains at their defaults, learning for `steps`."""
    world = make(scenario)
    life = population.train(world, world.default_params("train"), AgentConfig(),
                            jax.random.key(seed), agents, steps, chunk=chunk_size(steps),
                            progress=advance)  # fmt: skip
    return late_performance(np.asarray(life.log.performance))


def _actor_critic(scenario: str, seed: int, steps: int, agents: int, advance: Advance) -> float:
    """A seed's late performance: `agents` plain actor-critic agents paid the innate reward."""
    world = make(scenario)
    _, log = ac.live(ac.ActorCriticConfig(), world, world.default_params("train"),
                     jax.random.key(seed), agents, steps, reward_fn=innate_reward_fn())  # fmt: skip
    advance(steps)
    return late_performance(np.asarray(log.performance))


def _ppo(scenario: str, seed: int, steps: int, agents: int, advance: Advance) -> float:
    """A seed's late performance: SB3 PPO on `PPO_ENVS` envs, `steps` in total, paid the innate
    reward (`agents` does not apply: PPO is one learner)."""
    run = train_ppo(scenario, PPO_ENVS, steps, seed, innate_reward_fn(), advance)
    return late_performance(run.performance)


def _random(scenario: str, seed: int, steps: int, agents: int, advance: Advance) -> float:
    """A seed's late performance: `agents` worlds stepped with uniformly random actions."""
    world = make(scenario)
    performance = _random_rollout(world, agents, steps)(jax.random.key(seed),
                                                        world.default_params("train"))
    advance(steps)
    return late_performance(np.asarray(performance))


@functools.cache
def _random_rollout(world: World, n: int, steps: int) -> Callable:
    """A compiled rollout of uniformly random actions in `n` fresh worlds: performance (T, n)."""

    @jax.jit
    def rollout(key: jax.Array, params: EnvParams) -> jax.Array:
        k_reset, k_run = jax.random.split(key)
        _, env = world.reset_batch(k_reset, n, params)

        def tick(env: EnvState, key: jax.Array) -> tuple[EnvState, jax.Array]:
            k_act, k_env = jax.random.split(key)
            action = jax.random.randint(k_act, (n,), 0, world.n_actions)
            _, env, _, performance, _ = world.step_batch(k_env, env, action, params)
            return env, performance

        return jax.lax.scan(tick, env, jax.random.split(k_run, steps))[1]

    return rollout


RUNNERS: dict[str, Callable[[str, int, int, int, Advance], float]] = {
    "brain": _brain, "actor-critic": _actor_critic, "ppo": _ppo, "random": _random,
}  # fmt: skip


def ratios(results: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """`brain_vs_ppo` and `brain_minus_random` per scenario (the module docstring's rules),
    and a note for each scenario whose ratio is undefined."""
    by = {(r["scenario"], r["learner"]): r for r in results}
    out: dict[str, Any] = {"brain_vs_ppo": {}, "brain_vs_ppo_ci": {}, "brain_minus_random": {}}
    notes: dict[str, str] = {}
    for scenario in dict.fromkeys(r["scenario"] for r in results):
        b, p, rnd = (by.get((scenario, name)) for name in ("brain", "ppo", "random"))
        vs_ppo = vs_ppo_ci = minus = None
        if b and rnd:
            diff = np.subtract(b["per_seed"], rnd["per_seed"])
            minus = {"effect": float(diff.mean()), "ci": list(mean_ci(diff))}
        if not (b and p and rnd):
            notes[scenario] = "brain vs PPO needs the brain, PPO and random"
        elif p["ci"][0] <= rnd["performance"]:
            notes[scenario] = (f"brain vs PPO undefined: PPO does not beat random (its CI's "
                               f"lower end {p['ci'][0]:.4f} ≤ random {rnd['performance']:.4f})")
        else:
            vs_ppo = ((b["performance"] - rnd["performance"])
                      / (p["performance"] - rnd["performance"]))  # fmt: skip
            bounds = gain_ratio_ci(b["per_seed"], p["per_seed"], rnd["per_seed"])
            vs_ppo_ci = None if bounds is None else list(bounds)
        out["brain_vs_ppo"][scenario] = vs_ppo
        out["brain_vs_ppo_ci"][scenario] = vs_ppo_ci
        out["brain_minus_random"][scenario] = minus
    return out, notes


def _names(value: str, known: Sequence[str], what: str) -> list[str]:
    """A comma-separated list of names, each checked against `known`."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise ShardlabError(f"no {what} given; choose from: {', '.join(known)}")
    for name in names:
        if name not in known:
            raise ShardlabError(f"unknown {what[:-1]} {name!r}; choose from: {', '.join(known)}")
    return list(dict.fromkeys(names))


def run(
    scenarios: Sequence[str] = DEFAULT_SCENARIOS,
    learners: Sequence[str] = LEARNERS,
    steps: int = 50_000,
    seeds: int = 3,
    agents: int = 8,
    console: Console | None = None,
) -> dict[str, Any]:
    """The whole benchmark as one JSON-able dict, with a progress bar on `console`."""
    if steps < 1:
        raise ShardlabError(f"--steps must be positive, not {steps}")
    if seeds < 2:
        raise ShardlabError(f"--seeds must be at least 2 for a confidence interval, not {seeds}")
    if agents < 1:
        raise ShardlabError(f"--agents must be positive, not {agents}")
    for name in scenarios:
        if name not in SCENARIOS:
            raise ShardlabError(f"unknown scenario {name!r}; choose from: {', '.join(SCENARIOS)}")
    if "ppo" in learners:  # fail before the long brain runs, not after
        require("stable_baselines3", "bench")
        require("torch", "bench")
    start = time.perf_counter()
    results = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("steps"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console or Console(stderr=True), transient=True) as bar:
        task = bar.add_task("learning", total=len(scenarios) * len(learners) * seeds * steps)
        for scenario in scenarios:
            for learner in learners:
                began = time.perf_counter()
                per_seed = []
                for seed in range(seeds):
                    bar.update(task, description=f"{scenario} · {learner} · seed {seed}")
                    per_seed.append(RUNNERS[learner](scenario, seed, steps, agents,
                                                     lambda n: bar.advance(task, n)))  # fmt: skip
                results.append({
                    "scenario": scenario, "learner": learner,
                    "steps": -(-steps // PPO_ENVS) * PPO_ENVS if learner == "ppo" else steps,
                    "performance": float(np.mean(per_seed)), "ci": list(mean_ci(per_seed)),
                    "per_seed": per_seed, "seconds": time.perf_counter() - began,
                })  # fmt: skip
    ratio, notes = ratios(results)
    return {
        "seeds": seeds, "agents": agents, "ppo_envs": PPO_ENVS, "results": results,
        "ratios": ratio, "notes": notes, "seconds": time.perf_counter() - start,
    }  # fmt: skip


def learning(
    json_out: Annotated[bool, typer.Option("--json", help=(
        "Print only JSON: results (scenario, learner, steps, performance, ci, per_seed, "
        "seconds), ratios (brain_vs_ppo: scenario → ratio or null; brain_vs_ppo_ci: "
        "scenario → [lo, hi] or null; brain_minus_random: scenario → {effect, ci}), "
        "notes."))] = False,
    steps: Annotated[int, typer.Option(help=(
        "Environment steps per brain, actor-critic or random agent, and in total for PPO "
        "(`shardlab bench all`: 4,096)."))] = 50_000,
    seeds: Annotated[int, typer.Option(help="Seeds per learner (the unit of the CI).")] = 3,
    scenarios: Annotated[str, typer.Option(help="Comma-separated scenarios.")] = ",".join(
        DEFAULT_SCENARIOS),
    learners: Annotated[str, typer.Option(help="Comma-separated learners.")] = ",".join(LEARNERS),
    agents: Annotated[int, typer.Option(
        help="Brain, actor-critic and random agents per seed (the seed's score is their mean).")
    ] = 8,
) -> None:
    """Hidden performance of the brain, plain actor-critic, SB3 PPO and a random policy after the
    same environment steps, all paid the brain's innate reward; the brain's gain over random,
    and as a share of PPO's (see `shardlab/bench/learning.py` for the rules)."""
    out = run(_names(scenarios, tuple(SCENARIOS), "scenarios"),
              _names(learners, LEARNERS, "learners"), steps, seeds, agents)  # fmt: skip
    if json_out:
        print(json.dumps(out))
        return
    console = Console(highlight=False)
    table = Table("scenario", "learner", "steps", "perf/tick", "95% CI", "time (s)",
                  title=f"hidden performance per tick, last 10% of steps ({seeds} seeds)")
    for r in out["results"]:
        table.add_row(r["scenario"], r["learner"], f"{r['steps']:,}", f"{r['performance']:.4f}",
                      f"[{r['ci'][0]:.4f}, {r['ci'][1]:.4f}]", f"{r['seconds']:.0f}")  # fmt: skip
    console.print(table)
    ratio = Table("scenario", "brain vs PPO", "95% CI", "brain − random", "95% CI", "note",
                  title="the brain against PPO and random")
    for scenario, minus in out["ratios"]["brain_minus_random"].items():
        vs_ppo = out["ratios"]["brain_vs_ppo"][scenario]
        vs_ppo_ci = out["ratios"]["brain_vs_ppo_ci"][scenario]
        ratio.add_row(scenario, "—" if vs_ppo is None else f"{vs_ppo:.2f}",
                      "—" if vs_ppo_ci is None else f"[{vs_ppo_ci[0]:.2f}, {vs_ppo_ci[1]:.2f}]",
                      "—" if minus is None else f"{minus['effect']:+.4f}",
                      "—" if minus is None else f"[{minus['ci'][0]:+.4f}, {minus['ci'][1]:+.4f}]",
                      out["notes"].get(scenario, ""))  # fmt: skip
    console.print(ratio)
    console.print(f"wall time {out['seconds']:.0f} s")
