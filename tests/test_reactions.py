"""B1–B3 and S4 (anticipation, signal strength, exposure, salt revaluation): the scenario facts
the designs rely on, the measurements on hand-made data, and each experiment end to end in quick
mode."""

from dataclasses import fields, replace
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_BRAIN, check_summary, run_quick

from shardlab.analysis import probes
from shardlab.brain import population, steering
from shardlab.experiments import _reactions
from shardlab.experiments.registry import get
from shardlab.experiments.salt import first_approach
from shardlab.runner.store import RunStore
from shardlab.worlds import make


def test_safe_exposure_differs_from_the_biting_room_only_in_the_spider() -> None:
    """Why exposure may run on the biting room's compiled world."""
    biting, safe = make("spider"), make("spider-safe")
    assert (biting.obs_size, biting.n_slots) == (safe.obs_size, safe.n_slots)
    pb, ps = biting.default_params("train"), safe.default_params("train")
    differ = [f.name for f in fields(pb)
              if not np.array_equal(getattr(pb, f.name), getattr(ps, f.name))]  # fmt: skip
    assert differ == ["emits", "performance"]
    spider = biting.scenario.kind_index("spider")
    assert float(np.asarray(ps.emits).sum()) == float(np.asarray(pb.emits).sum()) - 1.0
    assert float(np.asarray(ps.emits)[spider].sum()) == 0.0


def test_the_rustle_is_heard_from_every_cell() -> None:
    world = make("spider-cue")
    params = world.default_params("train")
    cells = [(r, c) for r in range(9) for c in range(9)]
    obs, _ = probes.place(world, params, jax.random.key(0), len(cells), pos=np.array(cells),
                          time=_reactions.CUE)  # fmt: skip
    view = world.view
    grid = np.asarray(obs)[:, : view * view * world.n_channels].reshape(len(cells), view, view, -1)
    rustle = 1 + world.scenario.kind_index("rustle")
    assert grid[..., rustle].reshape(len(cells), -1).any(-1).all()
    early, _ = probes.place(world, params, jax.random.key(0), 1, pos=(4, 4),
                            time=_reactions.CUE - 1)  # fmt: skip
    seen = np.asarray(early)[0, : view * view * world.n_channels].reshape(view, view, -1)
    assert not seen[..., rustle].any()


def test_start_states_are_where_a_rollout_begins() -> None:
    world = make("salt")
    params = world.default_params("test")
    key = jax.random.key(3)
    agents, env, _ = population.start(world, params, SMALL_BRAIN, jax.random.split(key)[0], 4)
    start = probes.start_states(world, params, key, 4)
    for got, want in zip(jax.tree.leaves(start), jax.tree.leaves(env), strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_episode_clock_and_per_episode_means() -> None:
    tick = _reactions.episode_tick(85)
    assert tick[0] == 1 and tick[39] == 40 and tick[40] == 1
    values = np.arange(80, dtype=float)[:, None] * np.ones((1, 2))
    mask = np.zeros((80, 2), bool)
    mask[[0, 1, 45], 0] = True
    got = _reactions.per_episode(values, mask)
    np.testing.assert_allclose(got[:, 0], [0.5, 45.0])
    assert np.isnan(got[:, 1]).all()


def test_swapping_the_steering_subsystem_keeps_the_body() -> None:
    world = make("spider")
    agents, _, _ = population.start(world, world.default_params(), SMALL_BRAIN,
                                    jax.random.key(0), 3)  # fmt: skip
    agents = agents._replace(steering=agents.steering._replace(
        fear_gain=agents.steering.fear_gain * 0.5))  # fmt: skip
    swapped = _reactions.with_steering(agents, steering.SteeringConfig(rewiring=False))
    np.testing.assert_array_equal(np.asarray(swapped.steering.fear_gain), 0.5)
    assert not np.asarray(swapped.steering.params.rewiring).any()
    assert np.asarray(agents.steering.params.rewiring).all()


class _Life:
    """Just enough of a lifetime for `first_approach`."""

    def __init__(self, positions: np.ndarray, contact: np.ndarray) -> None:
        self.log = population.Log(*([None] * len(population.Log._fields)))._replace(
            position=positions, contact=contact)  # fmt: skip


def test_first_approach_counts_steps_until_the_first_salt_contact() -> None:
    world = make("salt")
    start = probes.start_states(world, world.default_params("test"), jax.random.key(0), 1)
    salt = [i for i, k in enumerate(np.asarray(start.kind)[0])
            if k == world.scenario.kind_index("salt")]  # fmt: skip
    slot_pos = np.asarray(start.slot_pos).copy()
    slot_pos[0, salt[0]], slot_pos[0, salt[1]] = (0, 3), (8, 8)
    start = replace(start, pos=np.array([[0, 0]]), slot_pos=slot_pos)
    # Right, stay, right, right onto the lick at (0, 3): three of four steps approach.
    moves = np.array([[0, 1], [0, 1], [0, 2], [0, 3]] + [[0, 3]] * 44)[:, None]
    contact = np.full((48, 1), -1)
    contact[3, 0] = world.scenario.kind_index("salt")
    rows, offsets = first_approach(world, start, _Life(moves, contact))
    assert rows.loc[0, "steps"] == 4 and rows.loc[0, "approach"] == pytest.approx(0.75)
    np.testing.assert_array_equal(offsets, [[0, -3], [0, -2], [0, -2], [0, -1]])


@pytest.mark.parametrize("name,figures", [
    ("anticipation", {"cue_aligned.png", "gate.png"}),
    ("salt-revaluation", {"approach.png", "occupancy.png"}),
])  # fmt: skip
def test_quick_end_to_end(tmp_path: Path, name: str, figures: set[str]) -> None:
    experiment = get(name)
    run_dir, config = run_quick(experiment, tmp_path)
    check_summary(experiment, run_dir, config)
    assert {p.name for p in (run_dir / "figures").iterdir()} >= figures


@pytest.mark.xdist_group("spider")  # B2 and B3 share the spider room's compiled lifetime
@pytest.mark.parametrize("name,figures", [
    ("signal-strength", {"sources.png", "rewiring.png"}),
    ("exposure", {"exposure.png"}),
])  # fmt: skip
def test_spider_quick_end_to_end(tmp_path: Path, name: str, figures: set[str]) -> None:
    experiment = get(name)
    run_dir, config = run_quick(experiment, tmp_path)
    check_summary(experiment, run_dir, config)
    assert {p.name for p in (run_dir / "figures").iterdir()} >= figures
    tables = RunStore(run_dir).load_tables()
    assert all(isinstance(t, pd.DataFrame) and len(t) for t in tables.values())
