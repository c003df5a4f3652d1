"""`shardlab bench worlds` at tiny sizes, without its peers (MiniGrid, and gymnax, navix and
XLand-MiniGrid in `.venv-jaxgrids`, come with `make bench`): the JSON shape with shardlab's real
engine beside planted peers, and one clear error when the peers' virtualenv is missing."""

import itertools
import json

import pytest

from shardlab.bench import worlds

PLANTED = {"minigrid": 10.0, "gymnax": 20.0, "navix": 40.0, "xminigrid": 80.0}


def test_bench_worlds_json_shape(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every engine at every batch, each run at the largest listed, and shardlab's ratio over
    each peer there, best run over best run."""
    monkeypatch.setattr(worlds, "BATCHES", (1, 2))
    monkeypatch.setattr(worlds, "minigrid_rate", lambda batch, steps: PLANTED["minigrid"])
    monkeypatch.setattr(worlds, "jax_peer_rate", lambda engine, batch, steps: PLANTED[engine])
    result = cli("bench", "worlds", "--json", "--steps", "2", "--rounds", "2")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert [(r["engine"], r["batch"]) for r in out["results"]] == [
        (engine, batch) for engine in ("shardlab", *PLANTED) for batch in (1, 2)]
    shardlab = out["results"][1]
    assert len(shardlab["runs"]) == 2 and min(shardlab["runs"]) > 0
    assert shardlab["steps_per_s"] == max(shardlab["runs"])
    assert out["ratios"] == pytest.approx(
        {f"vs_{peer}": shardlab["steps_per_s"] / rate for peer, rate in PLANTED.items()})


def test_engines_take_turns_so_a_slow_spell_must_last_every_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A spell at half speed over one whole round (planted): every engine's best run comes
    from another round, so the ratios are those of the quiet rounds."""
    clock = itertools.count()
    speed = {"shardlab": 100.0, **PLANTED}

    def timed(engine: str) -> float:
        spell = 5 <= next(clock) < 10  # the second round of five engines
        return speed[engine] / (2.0 if spell else 1.0)

    monkeypatch.setattr(worlds, "shardlab_rate", lambda batch, steps: timed("shardlab"))
    monkeypatch.setattr(worlds, "minigrid_rate", lambda batch, steps: timed("minigrid"))
    monkeypatch.setattr(worlds, "jax_peer_rate", lambda engine, batch, steps: timed(engine))
    monkeypatch.setattr(worlds, "BATCHES", (4096,))
    out = worlds.run(("shardlab", *PLANTED), steps=8, rounds=3)
    runs = {r["engine"]: r["runs"] for r in out["results"]}
    assert runs["shardlab"] == [100.0, 50.0, 100.0]
    assert runs["navix"] == [PLANTED["navix"], PLANTED["navix"] / 2, PLANTED["navix"]]
    assert out["ratios"] == pytest.approx(
        {f"vs_{peer}": 100.0 / rate for peer, rate in PLANTED.items()})


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


def test_the_harness_random_actions_are_uniform_and_fresh_each_tick() -> None:
    """The timing harness hashes its actions rather than paying threefry for them; they must
    still be uniform over the actions and unrelated across ticks and worlds."""
    import jax.numpy as jnp
    import numpy as np
    from scipy import stats

    from shardlab.bench.jax_rate import random_actions

    a = np.stack([np.asarray(random_actions(jnp.uint32(t), 4096, 7)) for t in range(20)])
    assert stats.chisquare(np.bincount(a.ravel(), minlength=7)).pvalue > 1e-3
    for x, y in ((a[:-1], a[1:]), (a[:, :-1], a[:, 1:])):
        assert abs(stats.pearsonr(x.ravel(), y.ravel()).statistic) < 4 / np.sqrt(x.size)
