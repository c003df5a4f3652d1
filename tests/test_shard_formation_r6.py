"""S1 (shard-formation) and R6 (mean-difference-steering) end-to-end in quick mode."""

from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from conftest import check_summary, run_quick

from shardlab.analysis import shards
from shardlab.experiments import refusal_direction, shard_formation
from shardlab.experiments.base import Experiment
from shardlab.experiments.registry import PLUGINS_ENV, get
from shardlab.runner.store import RunStore
from shardlab.worlds import make
from shardlab.worlds.scenario import PHASES


def _run(experiment: Experiment, out: Path) -> tuple[Path, dict[str, pd.DataFrame]]:
    run_dir, config = run_quick(experiment, out)
    check_summary(experiment, run_dir, config)
    return run_dir, RunStore(run_dir).load_tables()


@pytest.fixture(autouse=True)
def _plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes find the experiments through $SHARDLAB_PLUGINS until they are built in."""
    monkeypatch.setenv(PLUGINS_ENV, f"{shard_formation.__name__},{refusal_direction.__name__}")


def test_tinted_rooms_are_told_apart_by_tint_alone() -> None:
    """Every probe state with a berry in view is assigned to exactly one room; berries grow only
    in the red room in training."""
    world = shard_formation.WORLD
    spawns = [s for s in world.scenario.spawns if s.kind == "berry"]
    assert [("train" in s.phases) for s in spawns] == [True] + [False] * (len(spawns) - 1)
    assert all(set(s.phases) <= set(PHASES) for s in spawns)
    obs = shards.sample_observations(world, world.default_params("test"), jax.random.key(0), 300)
    contexts = shard_formation.approach_contexts(obs)
    rooms = np.stack(
        [np.any([contexts[f"{d}|{m}"] for m in shard_formation.MOVES], 0)
         for d in range(shard_formation.ROOMS)]
    )  # fmt: skip
    assert rooms.sum(0).max() <= 1
    assert (rooms.sum(1) > 0).all()


def test_shard_formation_quick(tmp_path: Path) -> None:
    run_dir, tables = _run(get("shard-formation"), tmp_path)
    assert (tables["strength"].query("step == 0")["strength"] == 0).all()  # no shard unreinforced
    assert {p.name for p in (run_dir / "figures").iterdir()} >= {
        "strength_by_context.png", "strength_over_training.png"}


def test_steering_contexts_put_the_agent_in_the_middle_and_one_food_in_view() -> None:
    world = make("foraging")
    base = world.default_params("train")
    food = world.scenario.kind_index("food")
    for name, (r0, r1, c0, c1) in refusal_direction.CONTEXTS.items():
        params = refusal_direction.context(base, (r0, r1, c0, c1))
        obs, states = world.reset_batch(jax.random.key(0), 64, params)
        assert (np.asarray(states.pos) == refusal_direction.CENTRE).all()
        cells = np.asarray(states.slot_pos[:, 0])
        assert ((cells[:, 0] >= r0) & (cells[:, 0] < r1) & (cells[:, 1] >= c0)
                & (cells[:, 1] < c1)).all(), name  # fmt: skip
        feats = shards.world_features(world, obs)
        assert (feats["food visible"] == 1).all() and bool(params.terminal[food])
        up, down = feats["food up"].to_numpy(bool), feats["food down"].to_numpy(bool)
        assert {"above": up & ~down, "below": down & ~up, "beside": ~up & ~down}[name].all()


def test_mean_difference_steering_quick(tmp_path: Path) -> None:
    run_dir, tables = _run(get("mean-difference-steering"), tmp_path)
    doses = tables["doses"]
    reach = [c for c in doses.columns if c.startswith("reach_")]
    assert doses[reach + ["other_actions"]].stack().between(0, 1).all()
    assert (doses["switch"] == doses["reach_above"] - doses["reach_below"]).all()
    assert (run_dir / "figures" / "dose_response.png").exists()
