"""Fixtures for the runner and CLI tests: the toy plugin experiments and a CLI invoker."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# Tests run small programs briefly, so compiling them is most of their cost: LLVM's optimisation
# passes would halve compile time while their faster code saves seconds at most. Set before JAX
# starts its backend (subprocesses inherit it); the cache keys on it, so the programs differ.
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0"
# Compiled programs are shared between the test workers (and kept between runs), not in ~/.cache.
os.environ.setdefault("SHARDLAB_JAX_CACHE", str(TESTS.parent / ".pytest_cache" / "jax"))
# So are text embeddings: each word list is encoded once per checkout.
os.environ.setdefault("SHARDLAB_EMBEDDING_CACHE",
                      str(TESTS.parent / ".pytest_cache" / "embeddings"))

import jax  # noqa: E402
import pytest  # noqa: E402

# Two CPU devices, as `shardlab` makes of CI's two cores (`runner.cores`), so a population large
# enough to be split across them is tested split.
jax.config.update("jax_num_cpu_devices", 2)

from shardlab.analysis.verdicts import VERDICTS  # noqa: E402
from shardlab.brain import agent, cortex, hippocampus, pfc  # noqa: E402
from shardlab.cli import main  # noqa: E402
from shardlab.experiments.base import Experiment, ExperimentConfig  # noqa: E402
from shardlab.runner.cache import enable_compilation_cache  # noqa: E402
from shardlab.runner.run import run_experiment  # noqa: E402
from shardlab.runner.store import RunStore  # noqa: E402

enable_compilation_cache()
PLUGINS = "plugin_experiments"

# One small brain for every test of the brain itself, so each of its programs compiles once. Its z
# is its 8 learned units alone (no sensory code), so a test can reason about every unit of it.
SMALL_BRAIN = agent.AgentConfig(
    cortex=cortex.CortexConfig(latent=8, sensory=False),
    hippocampus=hippocampus.HippocampusConfig(capacity=8, replay=2),
    pfc=pfc.PFCConfig(horizon=2),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Experiments end to end (the tests named "quick") first: they are the longest, and one
    started last keeps a worker busy while the other idles."""
    items.sort(key=lambda item: "quick" not in item.name)


def run_quick(experiment: Experiment, out: Path) -> tuple[Path, ExperimentConfig]:
    """An experiment end to end in quick mode, in this process; its run directory and config."""
    config = experiment.configure(quick=True)
    return run_experiment(experiment, config, out, quick=True, workers=1, progress=False), config


def check_summary(experiment: Experiment, run_dir: Path, config: ExperimentConfig) -> dict:
    """A quick run's summary judges every claim whole, is labelled a smoke test, and says what a
    fresh evaluation of the stored per-seed tables says. Returns the summary."""
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["quick"] is True
    assert [c["id"] for c in summary["claims"]] == [c.id for c in experiment.claims]
    again = {r.id: r.model_dump(mode="json") for r in
             experiment.evaluate(RunStore(run_dir).load_tables(), config)}  # fmt: skip
    for claim in summary["claims"]:
        assert claim["verdict"] in VERDICTS and claim["reason"].startswith(claim["verdict"])
        assert claim["tests"] and all(t["margin"] > 0 for t in claim["tests"])
        # Agent experiments judge over seeds, every seed run; item-unit claims over items.
        assert claim["n"] == config.seeds if claim["unit"] == "seed" else claim["n"] >= 1
        assert {key: claim[key] for key in again[claim["id"]]} == again[claim["id"]]
    assert (run_dir / "report.html").stat().st_size > 1000
    return summary


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def plugin_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Register the toy experiments here and return an environment that does so in subprocesses."""
    monkeypatch.setenv("SHARDLAB_PLUGINS", PLUGINS)
    path = os.pathsep.join([str(TESTS.parent), str(TESTS), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


@pytest.fixture
def cli(plugin_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `shardlab ARGS…` in-process through `main`, returning exit code and output."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        captured = capsys.readouterr()
        return Result(exit_info.value.code, captured.out, captured.err)

    return invoke


@pytest.fixture
def cli_process(plugin_env: dict[str, str]) -> Callable[..., Result]:
    """Run `python -m shardlab ARGS…` in a fresh process, as a user would."""

    def invoke(*args: str, timeout: float = 120) -> Result:
        done = subprocess.run([sys.executable, "-m", "shardlab", *args], env=plugin_env,
                              capture_output=True, text=True, timeout=timeout)
        return Result(done.returncode, done.stdout, done.stderr)

    return invoke
