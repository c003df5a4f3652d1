"""Running experiments: plan run directories, farm out unfinished seeds, store them as they
finish, then evaluate, draw, report and write summary.json, in that order.

`run_experiment`, `sweep` and `reproduce` differ only in which (experiment, config) pairs they
plan; all of them push every pending seed through one executor, so a sweep or a full
reproduction keeps a whole cluster busy.
"""

import itertools
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from shardlab.errors import ShardlabError
from shardlab.experiments import registry
from shardlab.experiments.base import Experiment, ExperimentConfig, Tables
from shardlab.runner.cache import enable_compilation_cache
from shardlab.runner.executor import Executor, make_executor
from shardlab.runner.report import write_report
from shardlab.runner.store import (
    REPORT,
    SUMMARY,
    RunStore,
    ensure_writable,
    package_versions,
    write_json,
)

console = Console(stderr=True)

_TABLE_NAME = re.compile(r"[A-Za-z0-9_-]+")


def default_workers() -> int:
    return os.cpu_count() or 1


class SeedTask(NamedTuple):
    """Everything a worker needs, as plain data: (experiment name, config JSON, seed)."""

    experiment: str
    config_json: str
    seed: int


class SeedOutput(NamedTuple):
    task: SeedTask
    tables: Tables
    seconds: float


def run_seed(task: SeedTask) -> SeedOutput:
    """Run one seed. Top-level so spawned and Ray workers can unpickle it; it looks the
    experiment up in the worker's own registry."""
    enable_compilation_cache()
    experiment = registry.get(task.experiment)
    config = experiment.config_type.model_validate_json(task.config_json)
    start = time.perf_counter()
    tables = experiment.run(config, task.seed)
    seconds = time.perf_counter() - start
    for name, table in tables.items():
        if not (_TABLE_NAME.fullmatch(name) and isinstance(table, pd.DataFrame)):
            raise TypeError(f"{task.experiment}: run() must return {{name: DataFrame}} with "
                            f"file-safe names, got {name!r}: {type(table).__name__}")
        if "seed" in table.columns:
            raise ValueError(f"{task.experiment}: table {name!r} has a 'seed' column; "
                             "the runner adds it")
    return SeedOutput(task, tables, seconds)


@dataclass(frozen=True)
class Plan:
    experiment: Experiment
    config: ExperimentConfig
    store: RunStore
    quick: bool


def _finish(plan: Plan, wall_time_s: float) -> None:
    """Evaluate all seeds, draw figures, write the report, and last of all summary.json."""
    experiment, config, store = plan.experiment, plan.config, plan.store
    tables = store.load_tables()
    results = {result.id: result for result in experiment.evaluate(tables, config)}
    expected = [claim.id for claim in experiment.claims]
    if sorted(results) != sorted(expected):
        raise ValueError(f"{experiment.name}: evaluate() returned claims {sorted(results)}, "
                         f"expected {expected}")
    figures_dir = store.reset_figures()
    figures = experiment.figures(tables, config, figures_dir)
    summary = {
        "experiment": experiment.name,
        "title": experiment.title,
        "description": experiment.description,
        "run_id": store.path.name,
        "quick": plan.quick,
        "claims": [
            {"id": claim.id, "claim": claim.claim, "contrast": claim.contrast}
            | results[claim.id].model_dump(exclude={"id"}, mode="json")
            for claim in experiment.claims
        ],
        "seeds": list(range(config.seeds)),
        "figures": [Path(path).resolve().relative_to(store.path.resolve()).as_posix()
                    for path in figures],
        "wall_time_s": wall_time_s,
        "compute_time_s": store.seed_seconds(),
        "config": config.model_dump(mode="json"),
        "versions": package_versions(),
    }
    write_report(store.path / REPORT, experiment.title, [(store.path, summary)])
    store.write_summary(summary)


def _execute(plans: Sequence[Plan], executor: Executor, progress: bool) -> None:
    """Compute every unfinished seed of every incomplete plan, then finish those plans.

    Seeds go out in rounds, every plan's first seed before any plan's second: the first seed of
    an experiment compiles its programs, and the later ones load them from the compilation
    cache. Plan by plan, two workers would both compile the same programs at once."""
    start = time.perf_counter()
    todo = {plan.store.path: plan for plan in plans if not plan.store.complete}
    if progress:
        for plan in plans:
            if plan.store.path not in todo:
                console.print(f"{plan.experiment.name}: already complete at {plan.store.path}",
                              markup=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("seeds"), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not progress) as bar:
        tasks: dict[SeedTask, tuple[Plan, TaskID]] = {}
        for plan in todo.values():
            config_json = plan.config.model_dump_json()
            finished = plan.store.finished_seeds()
            bar_task = bar.add_task(f"{plan.experiment.name} {plan.store.path.name}",
                                    total=plan.config.seeds, completed=len(finished))
            for seed in range(plan.config.seeds):
                if seed not in finished:
                    tasks[SeedTask(plan.experiment.name, config_json, seed)] = (plan, bar_task)
        for output in executor.map(run_seed, sorted(tasks, key=lambda task: task.seed)):
            plan, bar_task = tasks[output.task]
            plan.store.write_seed(output.task.seed, output.tables, output.seconds)
            bar.advance(bar_task)
    for plan in todo.values():
        _finish(plan, time.perf_counter() - start)


def _run_all(
    out: Path | str,
    runs: Sequence[tuple[Experiment, ExperimentConfig]],
    quick: bool,
    backend: str,
    workers: int | None,
    ray_address: str | None,
    progress: bool,
    force: bool,
) -> list[Path]:
    """Plan one run directory per distinct (experiment, config) and execute them together."""
    workers = default_workers() if workers is None else workers
    executor = make_executor(backend, workers, ray_address)
    out = Path(out)
    ensure_writable(out)
    plans = {}
    for experiment, config in runs:
        store = RunStore.at(out, experiment.name, config)
        if store.path not in plans:
            store.initialise(experiment.name, config, fresh=force)
            plans[store.path] = Plan(experiment, config, store, quick)
    _execute(list(plans.values()), executor, progress)
    return list(plans)


def run_experiment(
    experiment: Experiment,
    config: ExperimentConfig,
    out: Path | str = "runs",
    *,
    quick: bool = False,
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
    force: bool = False,
) -> Path:
    """Run (or resume, or just report) one experiment; return its run directory. `quick` marks
    the summary as a smoke test."""
    [path] = _run_all(out, [(experiment, config)], quick, backend, workers, ray_address, progress,
                      force)
    return path


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, as config overrides."""
    empty = [key for key, values in grid.items() if not values]
    if empty:
        raise ShardlabError(f"sweep parameter(s) {', '.join(empty)} have no values")
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def sweep(
    experiment: Experiment,
    base_config: ExperimentConfig,
    grid: Mapping[str, Sequence[Any]],
    out: Path | str = "runs",
    *,
    quick: bool = False,
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
    force: bool = False,
) -> list[Path]:
    """Run `experiment` at every grid point (each its own run directory) through one executor."""
    base = base_config.model_dump()
    configs = [experiment.configure(overrides=base | point) for point in grid_points(grid)]
    return _run_all(out, [(experiment, config) for config in configs], quick, backend,
                    workers, ray_address, progress, force)


def reproduce(
    out: Path | str = "runs",
    *,
    quick: bool = False,
    names: Sequence[str] = (),
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
    force: bool = False,
) -> Path:
    """Run every registered experiment (or those `names`) at its defaults, or its quick mode;
    write one combined report and a summary.json of every claim at the top of `out`."""
    start = time.perf_counter()
    experiments = [registry.get(name) for name in names] or registry.all_experiments()
    if not experiments:
        raise ShardlabError("no experiments are registered")
    runs = [(exp, exp.configure(quick=quick)) for exp in experiments]
    paths = _run_all(out, runs, quick, backend, workers, ray_address, progress, force)
    out = Path(out)
    summaries = [(path, RunStore(path).read_summary()) for path in paths]
    title = "shardlab reproduce" + (" (quick)" if quick else "")
    write_report(out / REPORT, title, summaries)
    write_json(out / SUMMARY, {
        "title": title,
        "quick": quick,
        "runs": [path.relative_to(out).as_posix() for path in paths],
        "claims": [{"experiment": summary["experiment"]} | claim
                   for _, summary in summaries for claim in summary["claims"]],
        "wall_time_s": time.perf_counter() - start,
        "versions": package_versions(),
    })
    return out
