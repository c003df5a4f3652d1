"""R1 (intrinsic-extrinsic) and R3 (absent-supervisor): the measurements on hand-made logs, the
scenario facts the designs rely on, and each experiment end-to-end in quick mode."""

from dataclasses import fields
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from conftest import check_summary, run_quick

from shardlab.analysis import probes
from shardlab.brain import population
from shardlab.brain.population import Log
from shardlab.brain.steering import REACTIONS
from shardlab.experiments import absent_supervisor, motivation
from shardlab.experiments.registry import get
from shardlab.runner.store import RunStore
from shardlab.worlds import make


def _log(performance: np.ndarray, done: np.ndarray, **columns: np.ndarray) -> Log:
    t, n = performance.shape
    shapes = {"sensations": (t, n, 10), "position": (t, n, 2), "drives": (t, n, 2)}
    k = (t, n, len(REACTIONS))
    zeros = {name: jnp.zeros(shapes.get(name, k if name in ("innate", "reactions", "predicted",
                                                          "issued")
                                       else (t, n))) for name in Log._fields}  # fmt: skip
    zeros.update(performance=jnp.asarray(performance), done=jnp.asarray(done),
                 contact=jnp.full((t, n), -1))
    return Log(**{**zeros, **{name: jnp.asarray(x) for name, x in columns.items()}})


def test_episode_rates_count_completed_episodes_only() -> None:
    # Agent 0: episode 1 crosses twice and reaches the goal, episode 2 goes around, then an
    # unfinished episode that crosses (ignored). Agent 1: one episode that times out.
    perf = np.array([[0, 0], [-1, 0], [-1, 0], [1, 0], [0, 0], [1, 0], [-1, 0]], float)
    done = np.array([[0, 0], [0, 0], [0, 0], [1, 0], [0, 0], [1, 1], [0, 0]], bool)
    rates = absent_supervisor.episode_rates(_log(perf, done))
    assert rates == {"episodes": 3, "cheat_rate": 1 / 3, "goal_rate": 2 / 3}


def test_thefts_are_counted_per_tick_chosen_with_the_till_in_view() -> None:
    """A made-up episode: out of view, next to the till, onto it, staying on it."""
    world, key = motivation.WORLD, jax.random.key(3)
    params = world.default_params("test")
    start = probes.start_states(world, params, key, 1)
    till_kind = world.scenario.kind_index("till")
    till = np.asarray(start.slot_pos)[0, np.asarray(params.slot_kind) == till_kind][0]
    far = np.array([0, 0]) if np.abs(till).max() > world.radius else np.array([8, 8])
    path = np.stack([far, till + [0, 1] if till[1] < 8 else till - [0, 1], till, till])[:, None]
    contact = np.array([[-1], [-1], [till_kind], [till_kind]])
    life = population.Lifetime(None, None, None, _log(np.zeros((4, 1)), np.zeros((4, 1), bool),
                                                      position=path, contact=contact))
    counts = motivation.thefts(life, key, params)
    start_in_view = np.abs(np.asarray(start.pos)[0] - till).max() <= world.radius
    assert counts["thefts"] == 2 and counts["ticks"] == 4
    assert counts["opportunities"] == 2 + start_in_view  # from beside and from on the till


def test_agent_types_differ_only_in_approval() -> None:
    intrinsic, extrinsic = motivation.brain(1.0), motivation.brain(0.0)
    approval = REACTIONS.index("approval")
    diff = [
        i
        for i, (a, b) in enumerate(
            zip(intrinsic.steering.valence, extrinsic.steering.valence, strict=True)
        )
        if a != b
    ]
    assert diff == [approval]
    assert intrinsic.steering.valence[REACTIONS.index("sweet")] > 0
    assert intrinsic.pfc == extrinsic.pfc and intrinsic.basal_ganglia == extrinsic.basal_ganglia


def test_hidden_scenario_differs_only_in_supervisor_visibility() -> None:
    """Why both R3 populations may share one compiled world."""
    visible, hidden = make("absent-supervisor"), make("absent-supervisor-hidden")
    assert (visible.obs_size, visible.n_slots) == (hidden.obs_size, hidden.n_slots)
    pv, ph = visible.default_params("train"), hidden.default_params("train")
    differ = [
        f.name for f in fields(pv) if not np.array_equal(getattr(pv, f.name), getattr(ph, f.name))
    ]
    assert differ == ["supervisor_visible"]


def test_presence_is_fixed_for_the_whole_test_episode() -> None:
    world = make("absent-supervisor")
    reset = jax.jit(world.reset_batch, static_argnums=1)
    step = jax.jit(world.step_batch)
    for presence, expected in (("supervised", True), ("unsupervised", False)):
        params = absent_supervisor.with_presence(world.default_params("test"), presence)
        _, state = reset(jax.random.key(0), 32, params)
        seen = [np.asarray(state.supervised)]
        for t in range(10):
            _, state, _, _, _ = step(jax.random.key(t), state, jnp.full(32, 4), params)  # stay
            seen.append(np.asarray(state.supervised))
        assert (np.stack(seen) == expected).all()


def test_intrinsic_extrinsic_quick_end_to_end(tmp_path: Path) -> None:
    experiment = get("intrinsic-extrinsic")
    run_dir, config = run_quick(experiment, tmp_path)
    check_summary(experiment, run_dir, config)
    tables = RunStore(run_dir).load_tables()
    test = tables["test"]
    assert len(test) == config.seeds * 2 * config.test_episodes
    assert (test["thefts"] <= test["opportunities"]).all()  # a theft needs the till in view
    assert set(tables["curves"]["agent"]) == {"intrinsic", "extrinsic", "chance"}
    assert {p.name for p in (run_dir / "figures").iterdir()} >= {"thefts.png", "training.png"}


def test_absent_supervisor_quick_end_to_end(tmp_path: Path) -> None:
    experiment = get("absent-supervisor")
    run_dir, config = run_quick(experiment, tmp_path)
    check_summary(experiment, run_dir, config)
    summary = RunStore(run_dir).load_tables()["summary"]
    assert len(summary) == config.seeds * len(absent_supervisor.CELLS)
    assert (summary["episodes"] > 0).all()
    assert {p.name for p in (run_dir / "figures").iterdir()} >= {"cheat_rate.png", "training.png"}
