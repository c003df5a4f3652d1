"""The `shardlab` command: listing, a full quick run, sweeps, reports, and every error path."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import Result

RUN = ("run", "toy-coin", "--quick", "--workers", "1")


def only_run_dir(out: Path, experiment: str = "toy-coin") -> Path:
    [run_dir] = (out / experiment).iterdir()
    return run_dir


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert "Traceback" not in result.err + result.out
    for fragment in fragments:
        assert fragment in lines[0]


def test_list_shows_experiments_and_claims(cli: Callable[..., Result]) -> None:
    result = cli("list")
    assert result.code == 0
    assert "toy-coin" in result.out and "T1" in result.out


def test_quick_run_writes_the_documented_layout(cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli(*RUN, "--out", str(tmp_path))
    assert result.code == 0, result.err
    run_dir = only_run_dir(tmp_path)
    assert "supported" in result.out and str(run_dir / "report.html") in result.out

    config = json.loads((run_dir / "config.json").read_text())
    assert config["experiment"] == "toy-coin"
    assert config["config"] == {"seeds": 3, "samples": 2000, "mu": 0.5, "control_mu": 1.0,
                                "test": "superiority", "sleep_s": 0.0}
    for seed in range(3):
        assert (run_dir / "seeds" / str(seed) / "DONE").is_file()
        assert len(pd.read_parquet(run_dir / "seeds" / str(seed) / "draws.parquet")) == 2000

    summary = json.loads((run_dir / "summary.json").read_text())
    assert {"experiment", "title", "claims", "seeds", "wall_time_s", "config", "versions"} <= set(
        summary
    )
    assert summary["experiment"] == "toy-coin" and summary["seeds"] == [0, 1, 2]
    assert summary["quick"] is True
    [claim] = summary["claims"]
    assert {"id", "claim", "prediction", "contrast", "effect", "ci", "n", "unit", "verdict",
            "reason", "tests", "preconditions", "detail"} <= set(claim)
    assert claim["id"] == "T1" and claim["n"] == 3 and claim["verdict"] == "supported"
    assert claim["reason"].startswith("supported: ") and claim["unit"] == "seed"
    [test] = claim["tests"]
    assert {"name", "kind", "effect", "ci", "margin", "verdict"} <= set(test)
    assert (test["kind"], test["margin"], test["verdict"]) == ("superiority", 0.2, "supported")
    [pre] = claim["preconditions"]
    assert {"name", "value", "ci", "threshold", "passed"} <= set(pre) and pre["passed"]
    assert claim["ci"][0] < claim["effect"] < claim["ci"][1]
    assert {"python", "shardlab", "numpy", "jax"} <= set(summary["versions"])

    assert summary["figures"] == ["figures/draws.png"]
    assert (run_dir / "figures" / "draws.png").read_bytes().startswith(b"\x89PNG")
    html = (run_dir / "report.html").read_text()
    assert "data:image/png;base64," in html and "T1" in html and "supported" in html
    assert "<link" not in html and "src='http" not in html


def test_rerun_of_a_complete_run_recomputes_nothing(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    cli(*RUN, "--out", str(tmp_path))
    summary = only_run_dir(tmp_path) / "summary.json"
    before = summary.stat().st_mtime_ns
    result = cli(*RUN, "--out", str(tmp_path))
    assert result.code == 0 and "already complete" in result.err
    assert summary.stat().st_mtime_ns == before
    assert cli(*RUN, "--out", str(tmp_path), "--force").code == 0
    assert summary.stat().st_mtime_ns != before


def test_config_precedence(cli: Callable[..., Result], tmp_path: Path) -> None:
    """defaults < quick overrides < config file < --seeds"""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"samples": 20, "seeds": 5}))
    out = tmp_path / "runs"
    assert cli(*RUN, "--config", str(config_file), "--seeds", "2", "--out", str(out)).code == 0
    config = json.loads((only_run_dir(out) / "config.json").read_text())["config"]
    assert config == {"seeds": 2, "samples": 20, "mu": 0.5, "control_mu": 1.0,
                      "test": "superiority", "sleep_s": 0.0}


def test_sweep_runs_every_grid_point(cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("sweep", "toy-coin", "--param", "mu=-0.5,0.5", "--param", "samples=300",
                 "--quick", "--workers", "1", "--out", str(tmp_path))
    assert result.code == 0, result.err
    verdicts = {}
    for run_dir in (tmp_path / "toy-coin").iterdir():
        summary = json.loads((run_dir / "summary.json").read_text())
        verdicts[summary["config"]["mu"]] = summary["claims"][0]["verdict"]
        assert summary["config"]["samples"] == 300
    assert verdicts == {-0.5: "not supported", 0.5: "supported"}


def test_report_regenerates_the_same_html(cli: Callable[..., Result], tmp_path: Path) -> None:
    cli(*RUN, "--out", str(tmp_path))
    report = only_run_dir(tmp_path) / "report.html"
    original = report.read_text()
    report.unlink()
    assert cli("report", str(report.parent)).code == 0
    assert report.read_text() == original


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


ERRORS: dict[str, tuple[Callable[[Path], list[str]], tuple[str, ...]]] = {
    "unknown experiment": (lambda d: ["run", "nope"], ("unknown experiment 'nope'", "toy-coin")),
    "zero seeds": (lambda d: [*RUN, "--seeds", "0"], ("seeds", "greater than 0")),
    "negative seeds": (lambda d: [*RUN, "--seeds", "-3"], ("seeds", "greater than 0")),
    "seeds not a number": (lambda d: [*RUN, "--seeds", "many"], ("--seeds",)),
    "malformed config file": (
        lambda d: [*RUN, "--config", write(d / "c.json", "{seeds: 2")], ("not valid JSON",)
    ),
    "config file not an object": (
        lambda d: [*RUN, "--config", write(d / "c.json", "[1, 2]")], ("JSON object",)
    ),
    "missing config file": (lambda d: [*RUN, "--config", str(d / "none.json")], ("cannot read",)),
    "unknown config key": (
        lambda d: [*RUN, "--config", write(d / "c.json", '{"sampels": 3}')],
        ("unknown config key 'sampels'", "samples"),
    ),
    "config value of the wrong type": (
        lambda d: [*RUN, "--config", write(d / "c.json", '{"samples": "many"}')],
        ("'samples'", "integer"),
    ),
    "zero workers": (lambda d: [*RUN, "--workers", "0"], ("workers must be at least 1",)),
    "unknown backend": (lambda d: [*RUN, "--backend", "spark"], ("unknown backend 'spark'",)),
    "unwritable out": (
        lambda d: [*RUN, "--out", str(Path(write(d / "file", "")) / "runs")], ("not writable",)
    ),
    "report on an empty dir": (lambda d: ["report", str(d)], ("not a complete run",)),
    "sweep without params": (lambda d: ["sweep", "toy-coin"], ("--param",)),
    "malformed sweep param": (lambda d: ["sweep", "toy-coin", "--param", "mu"], ("key=v1,v2",)),
    "sweep of an unknown key": (
        lambda d: ["sweep", "toy-coin", "--param", "nu=1,2"], ("unknown config key 'nu'",)
    ),
    "unknown command": (lambda d: ["frobnicate"], ("No such command",)),
}


@pytest.mark.parametrize("case", ERRORS)
def test_bad_input_ends_in_one_line_and_exit_code_2(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.chdir(tmp_path)  # the default --out, runs/, must stay unwritten
    arguments, fragments = ERRORS[case]
    assert_one_line_error(cli(*arguments(tmp_path)), *fragments)
    assert not (tmp_path / "runs").exists()


def test_missing_ray_extra(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes find_spec("ray") report it missing
    result = cli(*RUN, "--backend", "ray", "--out", str(tmp_path / "runs"))
    assert_one_line_error(result, "'ray' is not installed", "shardlab[cluster]")
    assert not (tmp_path / "runs").exists()


def test_report_on_an_unfinished_run(cli: Callable[..., Result], tmp_path: Path) -> None:
    cli(*RUN, "--out", str(tmp_path))
    run_dir = only_run_dir(tmp_path)
    (run_dir / "summary.json").unlink()
    assert_one_line_error(cli("report", str(run_dir)), "not a complete run")


def test_unimportable_plugin(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARDLAB_PLUGINS", "plugin_experiments, no_such_plugin")
    assert_one_line_error(cli("list"), "cannot import plugin module 'no_such_plugin'")


def test_errors_from_a_real_process(cli_process: Callable[..., Result], tmp_path: Path) -> None:
    assert_one_line_error(cli_process("run", "nope"), "unknown experiment")
    bad = write(tmp_path / "c.json", '{"samples": -1}')
    assert_one_line_error(cli_process(*RUN, "--config", bad, "--out", str(tmp_path)),
                          "'samples'")


def test_the_command_makes_every_core_a_device() -> None:
    """`shardlab` gives JAX a device per core (`runner.cores`), which works only if importing
    the command starts no JAX backend: a module-level JAX array would silently undo it."""
    script = ("import jax, shardlab.cli; from shardlab.runner.cores import use_all_cores; "
              "use_all_cores(); print(len(jax.devices()))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert int(done.stdout.split()[-1]) == os.cpu_count()
