"""S1 (shard-formation) and R6 (mean-difference-steering) end-to-end in quick mode."""

from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from conftest import check_summary, run_quick

from shardlab.experiments import refusal_direction, shard_formation
from shardlab.experiments.base import Experiment
from shardlab.experiments.registry import PLUGINS_ENV, get
from shardlab.runner.store import RunStore
from shardlab.worlds import ACTIONS


def _run(experiment: Experiment, out: Path) -> tuple[Path, dict[str, pd.DataFrame]]:
    run_dir, config = run_quick(experiment, out)
    check_summary(experiment, run_dir, config)
    return run_dir, RunStore(run_dir).load_tables()


@pytest.fixture(autouse=True)
def _plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes find the experiments through $SHARDLAB_PLUGINS until they are built in."""
    monkeypatch.setenv(PLUGINS_ENV, f"{shard_formation.__name__},{refusal_direction.__name__}")


def test_only_the_red_room_rewards_and_every_room_shows_berries() -> None:
    """Berries grow only in the red room in training, decoys (drawn as berries) in the others;
    in the test phase berries grow everywhere."""
    world = shard_formation.WORLD
    spawns = {(s.kind, shard_formation.room_of(world._cells(s.region)[2])): s.phases
              for s in world.scenario.spawns if s.kind in ("berry", "decoy")}  # fmt: skip
    rooms = range(shard_formation.ROOMS)
    assert [("train" in spawns.get(("berry", d), ())) for d in rooms] == [True] + [False] * 4
    assert [("train" in spawns.get(("decoy", d), ())) for d in rooms] == [False] + [True] * 4
    assert all("test" in spawns[("berry", d)] for d in rooms)
    params = world.default_params("train")
    decoy = world.scenario.kind_index("decoy")
    assert not np.asarray(params.emits)[decoy].any()
    assert int(params.channel[decoy]) == world.scenario.kind_index("berry")


def test_probe_layouts_differ_only_in_the_probed_berry() -> None:
    layouts = shard_formation.probe_layouts(np.random.default_rng(0), 6)
    shown, removed = shard_formation.probe_observations(layouts, jax.random.key(0))
    world = shard_formation.WORLD
    v, c, berry = world.view, world.n_channels, 1 + world.scenario.kind_index("berry")
    views = [x[:, : v * v * c].reshape(len(layouts), v, v, c) for x in (shown, removed)]
    diff = views[0] - views[1]
    assert (diff[..., berry].sum((1, 2)) == 1).all()  # one more berry in view ...
    assert (np.delete(diff, berry, -1) == 0).all()  # ... and nothing else differs
    assert (views[1][..., berry].sum((1, 2)) == 1).all()  # the room's other berry stays
    # The marked moves bring the agent closer to the probed berry.
    for (_, row), view in zip(layouts.iterrows(), diff[..., berry], strict=True):
        (r, col), = np.argwhere(view == 1) - world.radius
        toward = {m for m, t in zip(ACTIONS, row["toward"], strict=False) if t}
        assert toward == {m for m, on in (("up", r < 0), ("down", r > 0), ("left", col < 0),
                                         ("right", col > 0)) if on}  # fmt: skip
    markers = views[0][..., 1 + world.scenario.kind_index("blue")].sum((1, 2))
    np.testing.assert_array_equal(markers, layouts["room"])  # the tint tells the room


def test_shard_formation_quick(tmp_path: Path) -> None:
    run_dir, tables = _run(get("shard-formation"), tmp_path)
    strength = tables["strength"]
    newborn = strength.query("learner == 'brain' and step == 0")["push"]
    np.testing.assert_allclose(newborn, 0, atol=1e-6)  # a uniform newborn policy: no shard
    assert set(strength["learner"]) == {"brain", "actor-critic"}
    assert tables["approach"]["rate"].between(0, 1).all()
    assert {p.name for p in (run_dir / "figures").iterdir()} >= {
        "strength_by_room.png", "strength_over_training.png"}


def test_mean_difference_steering_quick(tmp_path: Path) -> None:
    run_dir, tables = _run(get("mean-difference-steering"), tmp_path)
    behaviour = tables["behaviour"]
    assert behaviour["p_up"].between(0, 1).all()
    # c = 0 is the unsteered agent, whatever the vector.
    unsteered = behaviour[behaviour["coefficient"] == 0].groupby(["seed", "agent", "states"])
    assert (unsteered["p_up"].nunique() == 1).all()
    assert (run_dir / "figures" / "behaviour_vs_coefficient.png").exists()
