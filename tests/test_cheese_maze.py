"""The cheese-maze experiment (S2) end-to-end in quick mode, and its maze helpers."""


import jax
import numpy as np
import pytest
from conftest import check_summary, run_quick

from shardlab.experiments import cheese_maze


def test_maze_states_cover_every_open_cell_and_hide_the_cheese_on_request() -> None:
    states, table = cheese_maze.maze_states(jax.random.key(0), 2)
    walls = np.asarray(states.walls)
    assert not walls[np.arange(len(table)), table.row, table.col].any()
    w = cheese_maze.world()
    cheese_channel = slice(1, None, w.n_channels)  # channel 1 of each view cell: the cheese
    view = w.view * w.view * w.n_channels
    shown = np.asarray(cheese_maze.observe(states, np.ones(len(table), bool)))[:, :view]
    hidden = np.asarray(cheese_maze.observe(states, np.zeros(len(table), bool)))[:, :view]
    visible = cheese_maze.cheese_visible(table)
    assert (shown[:, cheese_channel].sum(1) > 0).tolist() == visible.tolist()
    assert hidden[:, cheese_channel].sum() == 0


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory):
    return run_quick(cheese_maze.EXPERIMENT, tmp_path_factory.mktemp("runs"))


@pytest.mark.xdist_group("maze")  # shares the maze brain's compiled lifetime with S8's test
def test_cheese_maze_quick_end_to_end(quick_run) -> None:
    run_dir, config = quick_run
    check_summary(cheese_maze.EXPERIMENT, run_dir, config)
    assert {p.name for p in (run_dir / "figures").iterdir()} >= {
        "vector_field.png",
        "distance_curves.png",
    }
