"""The cheese-maze experiment (S2) end-to-end in quick mode, and its maze helpers."""


import jax
import numpy as np
import pytest
from conftest import check_summary, run_quick

from shardlab.experiments import cheese_maze
from shardlab.runner.store import RunStore
from shardlab.worlds import layouts

# A perfect maze drawn by hand: from the start (7, 1) one corridor runs up the left side and on,
# the long way round, to the corner (1, 7); a dead end runs right along the bottom row.
TREE = (
    "#########",
    "#.....#.#",
    "#.###.#.#",
    "#.#...#.#",
    "#.#.###.#",
    "#.#.....#",
    "#.#######",
    "#.......#",
    "#########",
)
UP, RIGHT = 0, 1


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


def test_path_distances_follow_the_corridors_and_the_decision_square_is_where_paths_part() -> None:
    walls = np.asarray(layouts.ascii_map(TREE))[None]
    dist = cheese_maze.path_distances(walls, np.array([cheese_maze.START]))[0]
    assert dist[7, 7] == 6 and dist[1, 1] == 6 and dist[1, 7] == 24  # the corner, the long way
    assert np.isinf(dist[walls[0]]).all()
    # Cheese on the dead end: the paths part at the start, right to the cheese, up to the corner.
    cheese = np.array([[7, 5]])
    square, fork = cheese_maze.decision_square(walls, cheese)
    assert fork.tolist() == [True] and square.tolist() == [[7, 1]]
    to_cheese = cheese_maze.path_distances(walls, cheese)
    to_corner = cheese_maze.path_distances(walls, np.array([cheese_maze.CORNER]))
    assert cheese_maze.steps_toward(to_cheese, square)[0].tolist() == [False, True, False, False]
    assert cheese_maze.steps_toward(to_corner, square)[0].argmax() == UP
    assert cheese_maze.open_steps(walls, square)[0].tolist() == [True, True, False, False]
    # Cheese on the corner's own path: no fork, nothing to choose.
    _, fork = cheese_maze.decision_square(walls, np.array([[1, 3]]))
    assert fork.tolist() == [False]


def test_push_is_the_goal_step_against_the_other_open_steps() -> None:
    logits = np.array([[[2.0, 1.0, 5.0, -1.0, 0.0, 0.0]]])  # one mouse, one state
    toward = np.array([[True, False, False, False]])
    open_ = np.array([[True, True, False, True]])  # down is a wall: its logit does not count
    push = cheese_maze.push(logits, toward, open_, np.array([True]))
    np.testing.assert_allclose(push, [2.0 - (1.0 - 1.0) / 2])


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory):
    return run_quick(cheese_maze.EXPERIMENT, tmp_path_factory.mktemp("runs"))


@pytest.mark.xdist_group("maze")  # shares the maze brain's compiled lifetime with S8's test
def test_cheese_maze_quick_end_to_end(quick_run) -> None:
    run_dir, config = quick_run
    check_summary(cheese_maze.EXPERIMENT, run_dir, config)
    assert {p.name for p in (run_dir / "figures").iterdir()} >= {
        "vector_fields.png",
        "decision_square.png",
        "influences.png",
    }
    tables = RunStore(run_dir).load_tables()
    assert tables["decisions"]["choice"].between(0, 1).all()
    untrained = tables["summary"].query("condition == 'untrained'")
    # A newborn's policy is flat (actor and habit prior start at zero): no push, but for the
    # rounding of the habit prior's log-softmax.
    np.testing.assert_allclose(untrained[["cheese_push", "corner_push"]], 0, atol=1e-6)
