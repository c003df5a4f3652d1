"""The `shardlab` command. Every user mistake ends in one `error: …` line and exit code 2."""

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shardlab.bench import app as bench_app
from shardlab.errors import ShardlabError
from shardlab.experiments import registry
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.runner import report as report_module
from shardlab.runner.cache import enable_compilation_cache
from shardlab.runner.cores import use_all_cores
from shardlab.runner.run import reproduce as reproduce_runs
from shardlab.runner.run import run_experiment
from shardlab.runner.run import sweep as sweep_runs
from shardlab.runner.store import SUMMARY, read_json

app = typer.Typer(
    help="A laboratory for how values form in brain-like agents.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(bench_app, name="bench")
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
VERDICT_STYLE = {"supported": "green", "not supported": "red", "inconclusive": "yellow",
                 "not testable": "magenta"}

Seeds = Annotated[int | None, typer.Option(help="Number of seeds (overrides the config).")]
Quick = Annotated[bool, typer.Option("--quick", help="Small, fast settings (used by the tests).")]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="JSON file with config overrides.")
]
Out = Annotated[Path, typer.Option(help="Directory that holds the runs.")]
Backend = Annotated[str, typer.Option(help="Executor: local or ray.")]
RayAddress = Annotated[
    str | None, typer.Option(help="Ray cluster to join; default: start a local Ray.")
]
Workers = Annotated[
    int | None, typer.Option(help="Parallel seeds (local processes or local Ray CPUs).")
]
Force = Annotated[bool, typer.Option("--force", help="Recompute even a complete run.")]


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ShardlabError(f"cannot read config file '{path}': {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ShardlabError(f"config file '{path}' is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ShardlabError(f"config file '{path}' must hold a JSON object")
    return data


def _config(
    experiment: Experiment, quick: bool, config_file: Path | None, seeds: int | None
) -> ExperimentConfig:
    """Precedence: defaults < quick overrides < config file < --seeds."""
    overrides = _read_config_file(config_file) if config_file else {}
    if seeds is not None:
        overrides["seeds"] = seeds
    return experiment.configure(quick=quick, overrides=overrides)


def _show(paths: Sequence[Path]) -> None:
    """Print each run's verdicts (primary effect, margin, preconditions), then why."""
    table = Table("experiment", "claim", "effect [95% CI]", "margin", "pre", "n", "verdict")
    reasons, quick = [], False
    for path in paths:
        summary = read_json(path / SUMMARY)
        quick |= bool(summary.get("quick"))
        for claim in summary["claims"]:
            lo, hi = claim["ci"]
            label = claim["verdict"] + (" (smoke test)" if summary.get("quick") else "")
            table.add_row(
                summary["experiment"], claim["id"], f"{claim['effect']:.3g} [{lo:.3g}, {hi:.3g}]",
                f"{claim['tests'][0]['margin']:.3g}", report_module.precondition_marks(claim),
                f"{claim['n']} {claim['unit']}s",
                Text(label, style=VERDICT_STYLE[claim["verdict"]]),
            )
            reasons.append(f"{claim['id']}: {claim['reason']}")
    stdout.print(table)
    for reason in reasons:
        stdout.print(reason, markup=False)
    if quick:
        stdout.print("quick mode: tiny settings, a smoke test of the pipeline, not a result",
                     markup=False)


@app.command("list")
def list_experiments() -> None:
    """List the experiments and the claims they test."""
    table = Table("experiment", "title", "claims")
    for experiment in registry.all_experiments():
        table.add_row(experiment.name, experiment.title,
                      ", ".join(claim.id for claim in experiment.claims))
    stdout.print(table)


@app.command()
def run(
    experiment: Annotated[str, typer.Argument(help="Experiment name (see `shardlab list`).")],
    seeds: Seeds = None,
    quick: Quick = False,
    config: ConfigFile = None,
    out: Out = Path("runs"),
    backend: Backend = "local",
    ray_address: RayAddress = None,
    workers: Workers = None,
    force: Force = False,
) -> None:
    """Run one experiment; a rerun of the same command resumes it."""
    exp = registry.get(experiment)
    path = run_experiment(exp, _config(exp, quick, config, seeds), out, quick=quick,
                          backend=backend, workers=workers, ray_address=ray_address, force=force)
    _show([path])
    stdout.print(f"report: {path / 'report.html'}", markup=False)


def _parse_grid(params: Sequence[str]) -> dict[str, list[str]]:
    """`key=v1,v2` pairs; values stay strings and are converted by the config's types."""
    if not params:
        raise ShardlabError("a sweep needs at least one --param key=v1,v2")
    grid = {}
    for param in params:
        key, sep, values = param.partition("=")
        if not (sep and key.strip() and values):
            raise ShardlabError(f"--param '{param}' is not of the form key=v1,v2")
        grid[key.strip()] = [value.strip() for value in values.split(",")]
    return grid


@app.command()
def sweep(
    experiment: Annotated[str, typer.Argument(help="Experiment name (see `shardlab list`).")],
    param: Annotated[
        list[str] | None, typer.Option(help="key=v1,v2 — sweep a config key (repeatable).")
    ] = None,
    seeds: Seeds = None,
    quick: Quick = False,
    config: ConfigFile = None,
    out: Out = Path("runs"),
    backend: Backend = "local",
    ray_address: RayAddress = None,
    workers: Workers = None,
    force: Force = False,
) -> None:
    """Run an experiment at every combination of parameter values, one run directory each."""
    exp = registry.get(experiment)
    grid = _parse_grid(param or [])
    paths = sweep_runs(exp, _config(exp, quick, config, seeds), grid, out, quick=quick,
                       backend=backend, workers=workers, ray_address=ray_address, force=force)
    _show(paths)


@app.command()
def reproduce(
    experiments: Annotated[
        list[str] | None, typer.Argument(help="Only these experiments (default: all).")
    ] = None,
    quick: Quick = False,
    out: Out = Path("runs"),
    backend: Backend = "local",
    ray_address: RayAddress = None,
    workers: Workers = None,
    force: Force = False,
) -> None:
    """Test every claim at default settings and write one combined report."""
    top = reproduce_runs(out, quick=quick, names=experiments or (), backend=backend,
                         workers=workers, ray_address=ray_address, force=force)
    _show([top / run for run in read_json(top / SUMMARY)["runs"]])
    stdout.print(f"report: {top / 'report.html'}", markup=False)


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="A run or reproduce directory.")]) -> None:
    """Rebuild the HTML report of a complete run (or of a `reproduce` directory)."""
    stdout.print(f"report: {report_module.regenerate(run_dir)}", markup=False)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2, never a traceback."""
    enable_compilation_cache()
    use_all_cores()
    try:
        code = app(args=argv, prog_name="shardlab", standalone_mode=False)
    except (ShardlabError, typer.TyperException) as error:
        message = error.format_message() if isinstance(error, typer.TyperException) else error
        stderr.print(Text("error: " + " ".join(str(message).split())))
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
