"""`shardlab bench worlds` at tiny sizes, without its peers (MiniGrid, and gymnax, navix and
XLand-MiniGrid in `.venv-jaxgrids`, come with `make bench`): the JSON shape with shardlab's real
engine beside planted peers, and one clear error when the peers' virtualenv is missing."""

import json

import pytest

from shardlab.bench import worlds

PLANTED = {"minigrid": 10.0, "gymnax": 20.0, "navix": 40.0, "xminigrid": 80.0}


def test_bench_worlds_json_shape(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every engine at every batch, and shardlab's ratio over each peer at the largest batch."""
    monkeypatch.setattr(worlds, "BATCHES", (2,))
    monkeypatch.setattr(worlds, "minigrid_rate", lambda batch, steps: PLANTED["minigrid"])
    monkeypatch.setattr(worlds, "jax_peer_rate", lambda engine, batch, steps: PLANTED[engine])
    result = cli("bench", "worlds", "--json", "--steps", "2")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert [(r["engine"], r["batch"]) for r in out["results"]] == [
        ("shardlab", 2), ("minigrid", 2), ("gymnax", 2), ("navix", 2), ("xminigrid", 2)]
    shardlab = out["results"][0]["steps_per_s"]
    assert shardlab > 0
    assert out["ratios"] == pytest.approx(
        {f"vs_{peer}": shardlab / rate for peer, rate in PLANTED.items()})


@pytest.mark.parametrize("peer", ["gymnax", "navix", "xminigrid"])
def test_bench_worlds_names_a_missing_peer(cli, monkeypatch: pytest.MonkeyPatch, tmp_path,
                                           peer: str) -> None:
    """A JAX peer without `.venv-jaxgrids`: one line that says how to make it, not a traceback."""
    monkeypatch.setenv("SHARDLAB_JAXGRIDS_PYTHON", str(tmp_path / "nowhere" / "python"))
    result = cli("bench", "worlds", "--engines", peer)
    assert result.code == 2
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert "make bench" in result.err and ".venv-jaxgrids" in result.err
