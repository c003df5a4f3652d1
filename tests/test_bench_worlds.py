"""`shardlab bench worlds` at tiny sizes, without its peers (MiniGrid, and gymnax, navix and
XLand-MiniGrid in `.venv-jaxgrids`, come with `make bench`): the JSON shape with shardlab's real
engine beside planted peers, and one clear error when the peers' virtualenv is missing."""

import itertools
import json

import numpy as np
import pytest

from shardlab.bench import worlds

PLANTED = {"minigrid": 10.0, "gymnax": 20.0, "navix": 40.0, "xminigrid": 80.0}


def test_bench_worlds_json_shape(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every engine at every batch, and shardlab's ratio over each peer at the largest batch:
    the median of its paired rounds, each round's ratio within shardlab's runs over the peer."""
    monkeypatch.setattr(worlds, "BATCHES", (2,))
    monkeypatch.setattr(worlds, "minigrid_rate", lambda batch, steps: PLANTED["minigrid"])
    monkeypatch.setattr(worlds, "jax_peer_rate", lambda engine, batch, steps: PLANTED[engine])
    result = cli("bench", "worlds", "--json", "--steps", "2", "--rounds", "2")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert [(r["engine"], r["batch"]) for r in out["results"]] == [
        ("shardlab", 2), ("minigrid", 2), ("gymnax", 2), ("navix", 2), ("xminigrid", 2)]
    shardlab = out["results"][0]
    assert len(shardlab["runs"]) == 2 * (1 + len(PLANTED)) and min(shardlab["runs"]) > 0
    assert shardlab["steps_per_s"] == pytest.approx(np.median(shardlab["runs"]))
    for peer, rate in PLANTED.items():
        rounds = out["ratio_rounds"][f"vs_{peer}"]
        assert len(rounds) == 2
        assert all(min(shardlab["runs"]) / rate <= r <= max(shardlab["runs"]) / rate
                   for r in rounds)  # fmt: skip
        assert out["ratios"][f"vs_{peer}"] == pytest.approx(np.median(rounds))


def test_paired_rounds_cancel_a_slow_spell(monkeypatch: pytest.MonkeyPatch) -> None:
    """shardlab's engine alternating between half and full speed (planted 100, 400, 100, …):
    each peer's ratio is over the geometric mean of the shardlab runs beside it, 200/rate in
    every round, where a single shardlab run would have given 100/rate or 400/rate."""
    speeds = itertools.cycle([100.0, 400.0])
    monkeypatch.setattr(worlds, "shardlab_rate", lambda batch, steps: next(speeds))
    monkeypatch.setattr(worlds, "minigrid_rate", lambda batch, steps: PLANTED["minigrid"])
    monkeypatch.setattr(worlds, "jax_peer_rate", lambda engine, batch, steps: PLANTED[engine])
    runs, ratios = worlds.paired(tuple(PLANTED), 4096, 8, rounds=3)
    assert runs["shardlab"][:3] == [100.0, 400.0, 100.0] and len(runs["shardlab"]) == 3 * 5
    assert runs["navix"] == [PLANTED["navix"]] * 3
    for peer, rate in PLANTED.items():
        assert ratios[peer] == pytest.approx([200.0 / rate] * 3)


@pytest.mark.parametrize("option", ["--rounds", "--steps"])
def test_bench_worlds_refuses_no_rounds_or_steps(cli, option: str) -> None:
    result = cli("bench", "worlds", "--engines", "shardlab", option, "0")
    assert result.code == 2
    assert "--steps and --rounds must be positive" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("peer", ["gymnax", "navix", "xminigrid"])
def test_bench_worlds_names_a_missing_peer(cli, monkeypatch: pytest.MonkeyPatch, tmp_path,
                                           peer: str) -> None:
    """A JAX peer without `.venv-jaxgrids`: one line that says how to make it, not a traceback."""
    monkeypatch.setenv("SHARDLAB_JAXGRIDS_PYTHON", str(tmp_path / "nowhere" / "python"))
    result = cli("bench", "worlds", "--engines", peer)
    assert result.code == 2
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert "make bench" in result.err and ".venv-jaxgrids" in result.err
