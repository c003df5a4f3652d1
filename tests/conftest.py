"""Fixtures for the runner and CLI tests: the toy plugin experiments and a CLI invoker."""

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# Compiled programs are shared between the test workers (and kept between runs), not in ~/.cache.
os.environ.setdefault("SHARDLAB_JAX_CACHE", str(TESTS.parent / ".pytest_cache" / "jax"))
# So are text embeddings: each word list is encoded once per checkout.
os.environ.setdefault("SHARDLAB_EMBEDDING_CACHE",
                      str(TESTS.parent / ".pytest_cache" / "embeddings"))

from shardlab.cli import main  # noqa: E402
from shardlab.experiments.base import Experiment, ExperimentConfig  # noqa: E402
from shardlab.runner.cache import enable_compilation_cache  # noqa: E402
from shardlab.runner.run import run_experiment  # noqa: E402

enable_compilation_cache()
PLUGINS = "plugin_experiments"


def run_quick(experiment: Experiment, out: Path) -> tuple[Path, ExperimentConfig]:
    """An experiment end to end in quick mode, in this process; its run directory and config."""
    config = experiment.configure(quick=True)
    return run_experiment(experiment, config, out, quick=True, workers=1, progress=False), config


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
