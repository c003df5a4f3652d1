"""The runner: resuming after a crash, determinism across executors, and `reproduce`."""

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import Result

from shardlab.experiments import registry
from shardlab.runner import run as runner
from shardlab.runner import store
from shardlab.runner.executor import LocalExecutor
from shardlab.runner.run import run_experiment
from shardlab.runner.store import RunStore


def tables(run_dir: Path) -> dict[str, pd.DataFrame]:
    return {
        str(file.relative_to(run_dir)): pd.read_parquet(file)
        for file in sorted(run_dir.glob("seeds/*/*.parquet"))
    }


def assert_same_tables(a: Path, b: Path) -> None:
    left, right = tables(a), tables(b)
    assert left.keys() == right.keys() and left
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_exact=True)


def test_killed_run_resumes_without_redoing_finished_seeds(
    plugin_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "slow.json"
    config.write_text(json.dumps({"sleep_s": 1.0}))
    out = tmp_path / "runs"
    command = [sys.executable, "-m", "shardlab", "run", "toy-coin", "--quick", "--workers", "1",
               "--config", str(config), "--out", str(out)]
    process = subprocess.Popen(command, env=plugin_env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(out.glob("toy-coin/*/seeds/0/DONE")):
        assert process.poll() is None and time.monotonic() < deadline, "seed 0 never finished"
        time.sleep(0.02)
    process.kill()
    process.wait()

    [run_dir] = (out / "toy-coin").iterdir()
    assert not (run_dir / "summary.json").exists()
    finished = RunStore(run_dir).finished_seeds()
    assert 0 in finished and len(finished) < 3
    snapshot = {
        file: (file.stat().st_mtime_ns, file.read_bytes())
        for seed in finished for file in (run_dir / "seeds" / str(seed)).iterdir()
    }

    rerun = subprocess.run(command, env=plugin_env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert {file: (file.stat().st_mtime_ns, file.read_bytes()) for file in snapshot} == snapshot
    assert (run_dir / "summary.json").is_file()
    assert RunStore(run_dir).finished_seeds() == {0, 1, 2}


def test_leftovers_of_an_unfinished_seed_are_discarded(
    plugin_env: dict[str, str], tmp_path: Path
) -> None:
    experiment = registry.get("toy-coin")
    config = experiment.configure(quick=True)
    store = RunStore.at(tmp_path, experiment.name, config)
    store.initialise(experiment.name, config)
    stale = store.seeds_dir / "1" / "stale.parquet"
    stale.parent.mkdir()
    pd.DataFrame({"x": [1]}).to_parquet(stale)
    run_experiment(experiment, config, tmp_path, workers=1, progress=False)
    assert not stale.exists()
    assert set(RunStore(store.path).load_tables()) == {"summary", "draws"}


def test_changed_code_gets_a_new_run_directory(
    plugin_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeds computed by different code are never mixed in one run, nor resumed across it."""
    experiment = registry.get("toy-coin")
    config = experiment.configure(quick=True)
    first = run_experiment(experiment, config, tmp_path, workers=1, progress=False)
    assert json.loads((first / "config.json").read_text())["code"] == store.code_fingerprint()
    monkeypatch.setattr(store, "code_fingerprint", lambda: "edited-code")
    second = RunStore.at(tmp_path, experiment.name, config).path
    assert second != first and not second.exists()


def test_same_config_and_seed_give_identical_tables(
    plugin_env: dict[str, str], tmp_path: Path
) -> None:
    """In-process and in a pool of spawned workers, run after run."""
    experiment = registry.get("toy-coin")
    config = experiment.configure(quick=True)
    runs = [run_experiment(experiment, config, tmp_path / name, workers=workers, progress=False)
            for name, workers in [("a", 1), ("b", 1), ("pool", 2)]]
    assert len({run.name for run in runs}) == 1
    for run in runs[1:]:
        assert_same_tables(runs[0], run)


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the cluster extra is absent")
def test_ray_backend_matches_local_backend(
    cli_process: Callable[..., Result], tmp_path: Path
) -> None:
    """End to end against a local two-CPU Ray, the same way a cluster would be used."""
    experiment = registry.get("toy-coin")
    local = run_experiment(experiment, experiment.configure(quick=True), tmp_path / "local",
                           workers=1, progress=False)
    result = cli_process("run", "toy-coin", "--quick", "--backend", "ray", "--workers", "2",
                         "--out", str(tmp_path / "ray"), timeout=300)
    assert result.code == 0, result.err
    ray = tmp_path / "ray" / "toy-coin" / local.name
    assert_same_tables(local, ray)
    claims = [json.loads((run / "summary.json").read_text())["claims"] for run in (local, ray)]
    assert claims[0] == claims[1]


def test_seeds_go_out_in_rounds_so_each_program_compiles_once(
    plugin_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every experiment's first seed (which compiles) before any experiment's second (which
    loads from the cache)."""
    order: list[tuple[str, int]] = []

    class Recording(LocalExecutor):
        def map(self, fn, items):  # noqa: ANN001, ANN202
            tasks = list(items)
            order.extend((task.experiment, task.seed) for task in tasks)
            return super().map(fn, tasks)

    monkeypatch.setattr(runner, "make_executor", lambda *_: Recording(1))
    runner.reproduce(tmp_path, quick=True, names=["toy-coin", "toy-coin-null"], progress=False)
    seeds = registry.get("toy-coin").configure(quick=True).seeds
    assert order == [(name, seed) for seed in range(seeds)
                     for name in ("toy-coin", "toy-coin-null")]  # fmt: skip


def test_reproduce_writes_one_summary_of_every_claim(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli("reproduce", "toy-coin", "toy-coin-null", "--quick", "--workers", "1",
                 "--out", str(tmp_path))
    assert result.code == 0, result.err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["quick"] is True
    assert [(c["experiment"], c["id"], c["verdict"]) for c in summary["claims"]] == [
        ("toy-coin", "T1", "supported"),
        ("toy-coin-null", "T1", "not supported"),
    ]
    for run in summary["runs"]:
        assert (tmp_path / run / "summary.json").is_file()
    html = (tmp_path / "report.html").read_text()
    assert html.count("<section") == 2 and html.count("data:image/png;base64,") == 2
    (tmp_path / "report.html").unlink()
    assert cli("report", str(tmp_path)).code == 0
    assert (tmp_path / "report.html").read_text() == html
