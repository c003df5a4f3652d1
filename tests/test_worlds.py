"""Engine rules on tiny hand-built scenarios, the catalog, determinism and batching."""

import dataclasses
from collections import deque

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from shardlab.errors import ShardlabError
from shardlab.worlds import ACTIONS, SCENARIOS, ObjectKind, Scenario, Spawn, Supervisor, World, make
from shardlab.worlds.engine import _rewrite_some, _uniforms, _world_seeds
from shardlab.worlds.layouts import random_maze

UP, RIGHT, DOWN, LEFT, STAY, USE = range(len(ACTIONS))
ROOM = ("#######", "#.....#", "#.....#", "#.....#", "#######")


def world_with(*kinds: ObjectKind, spawns: tuple[Spawn, ...], **kw) -> World:
    return World(
        Scenario(name="t", description="test", kinds=kinds, spawns=spawns, layout=ROOM,
                 agent_at=(2, 1), max_steps=kw.pop("max_steps", 30), **kw)
    )  # fmt: skip


def play(world: World, actions: list[int], phase: str = "train", seed: int = 0):
    params = world.default_params(phase)
    obs, state = world.reset(jax.random.key(seed), params)
    step = jax.jit(world.step_env)
    out = []
    for i, a in enumerate(actions):
        obs, state, sens, perf, done = step(jax.random.key(i), state, jnp.int32(a), params)
        out.append((obs, state, {k: float(v) for k, v in sens.items()}, float(perf), bool(done)))
    return out


def test_movement_and_walls_block() -> None:
    rock = ObjectKind("rock", "r", (0, 0, 0), solid=True)
    w = world_with(rock, spawns=(Spawn("rock", at=(2, 3)),))
    steps = play(w, [UP, UP, DOWN, DOWN, DOWN, LEFT, RIGHT, RIGHT, RIGHT])
    positions = [tuple(int(x) for x in s[1].pos) for s in steps]
    assert positions == [(1, 1), (1, 1), (2, 1), (3, 1), (3, 1), (3, 1), (3, 2), (3, 3), (3, 4)]
    blocked = play(w, [RIGHT, RIGHT])  # the solid rock at (2, 3) stops the agent at (2, 2)
    assert tuple(int(x) for x in blocked[-1][1].pos) == (2, 2)


def test_contact_emits_consumes_and_scores() -> None:
    food = ObjectKind("food", "f", (0, 255, 0), emits={"sweet": 1.0}, performance=2.0,
                      satiates={"hunger": -0.5}, consumed=True)  # fmt: skip
    w = world_with(food, spawns=(Spawn("food", at=(2, 2)),), drive_rate={"hunger": 0.1},
                   drive_init={"train": {"hunger": 0.5}})  # fmt: skip
    (_, s1, sens1, perf1, _), (_, s2, sens2, perf2, _) = play(w, [RIGHT, LEFT])
    assert sens1["sweet"] == 1.0 and perf1 == 2.0 and bool(s1.gone[0])
    assert sens1["hunger"] == pytest.approx(0.1)  # 0.5 + 0.1 − 0.5
    assert sens2["sweet"] == 0.0 and perf2 == 0.0 and sens2["hunger"] == pytest.approx(0.2)


def test_requires_and_inventory_gate_the_bin() -> None:
    trash = ObjectKind("trash", "t", (1, 1, 1), inventory={"trash": 1.0}, consumed=True)
    bin_ = ObjectKind("bin", "b", (2, 2, 2), requires={"trash": 1.0}, inventory={"trash": -1.0},
                      emits={"feedback": 1.0}, performance=1.0)  # fmt: skip
    w = world_with(trash, bin_, spawns=(Spawn("trash", at=(2, 3)), Spawn("bin", at=(2, 2))))
    steps = play(w, [RIGHT, RIGHT, LEFT])  # bin without trash, trash, bin with trash
    assert [s[2]["feedback"] for s in steps] == [0.0, 0.0, 1.0]
    assert [float(s[1].items[0]) for s in steps] == [0.0, 1.0, 0.0]


def test_delay_signal_light_and_supervisor_gate() -> None:
    bell = ObjectKind("bell", "b", (0, 0, 0), emits={"feedback": 1.0}, delay=2)
    w = world_with(bell, spawns=(Spawn("bell", at=(2, 2)),), signal_delayed=True)
    steps = play(w, [RIGHT, LEFT, STAY, STAY])
    assert [s[2]["feedback"] for s in steps] == [0.0, 0.0, 1.0, 0.0]
    assert [float(s[0][-2]) for s in steps] == [1.0, 1.0, 0.0, 0.0]  # the light while pending
    tile = ObjectKind("tile", "x", (0, 0, 0), emits={"pain": 1.0}, supervised_only=True,
                      performance=-1.0)  # fmt: skip
    for present in (True, False):
        sup = Supervisor(p_arrive=float(present), p_leave=float(not present), visible=True)
        (_, _, sens, perf, _), = play(world_with(tile, spawns=(Spawn("tile", at=(2, 2)),),
                                                 supervisor=sup), [RIGHT])  # fmt: skip
        assert sens["pain"] == float(present) and perf == -1.0
        assert sens["supervisor"] == float(present)


def test_a_sign_lights_beside_the_sender_and_a_kind_can_wear_another_look() -> None:
    bell = ObjectKind("bell", "b", (0, 0, 0), emits={"feedback": 1.0}, delay=2)
    lamp = ObjectKind("lamp", "L", (0, 0, 0), signal=True)
    knob = ObjectKind("knob", "k", (0, 0, 0), emits={"stimulation": 1.0}, looks_like="lamp")
    w = world_with(bell, lamp, knob, spawns=(Spawn("bell", at=(2, 2)), Spawn("lamp"),
                                             Spawn("knob", at=(3, 1))))  # fmt: skip
    v, c = w.view, w.n_channels
    steps = play(w, [RIGHT, LEFT, STAY, STAY])  # onto the bell, then back
    assert [s[2]["feedback"] for s in steps] == [0.0, 0.0, 1.0, 0.0]
    for i, lit in enumerate((True, True, False, False)):  # shown while approval is on its way
        assert bool(w._present(steps[i][1], w.default_params(), steps[i][1].t)[1]) == lit
    assert tuple(int(x) for x in steps[0][1].slot_pos[1]) == (2, 3)  # right of the bell
    view = np.asarray(steps[1][0][: v * v * c]).reshape(v, v, c)  # the agent is back at (2, 1)
    lamp_channel = 1 + w.scenario.kind_index("lamp")
    assert view[2 + 0, 2 + 2, lamp_channel] == 1.0  # the lamp, two cells right of the agent
    assert view[2 + 1, 2 + 0, lamp_channel] == 1.0  # the knob, below it, wears the lamp's look
    assert view[..., 1 + w.scenario.kind_index("knob")].sum() == 0.0
    with pytest.raises(ShardlabError, match="unknown kind"):
        world_with(ObjectKind("x", "x", (0, 0, 0), looks_like="y"), spawns=())


def test_terminal_phases_windows_and_visibility() -> None:
    goal = ObjectKind("goal", "g", (0, 0, 0), terminal=True)
    ghost = ObjectKind("ghost", "h", (0, 0, 0), emits={"pain": 1.0}, visible=False)
    w = world_with(goal, ghost, spawns=(Spawn("goal", at=(2, 3), phases=("test",)),
                                        Spawn("ghost", at=(2, 2), appear=1, vanish=3)))  # fmt: skip
    train = play(w, [RIGHT, RIGHT, LEFT, RIGHT])
    assert [s[4] for s in train] == [False, False, False, False]  # no goal in training
    assert [s[2]["pain"] for s in train] == [0.0, 0.0, 1.0, 0.0]  # ghost exists at ticks 1–2
    test = play(w, [STAY, RIGHT, RIGHT], phase="test")
    assert test[1][2]["pain"] == 1.0 and test[2][4]  # invisible, yet it hurts; goal ends it
    v, c = w.view, w.n_channels
    view = np.asarray(test[0][0][: v * v * c]).reshape(v, v, c)
    assert view[..., 1].sum() == 1.0  # the goal (kind 0, channel 1) is seen ...
    assert view[..., 2].sum() == 0.0  # ... the ghost never


def test_a_decoy_looks_like_its_model_but_emits_nothing() -> None:
    berry = ObjectKind("berry", "o", (0, 0, 0), emits={"sweet": 1.0})
    decoy = ObjectKind("decoy", "d", (0, 0, 0), looks_like="berry")
    views, sweet = [], []
    for kind in ("berry", "decoy"):
        w = world_with(berry, decoy, spawns=(Spawn(kind, at=(2, 3)),))
        views.append(np.asarray(w.reset(jax.random.key(0), w.default_params())[0]))
        sweet.append(play(w, [RIGHT, RIGHT])[-1][2]["sweet"])  # touched on the second step
    np.testing.assert_array_equal(views[0], views[1])  # the same view, berry or decoy ...
    view = views[1][: w.view**2 * w.n_channels].reshape(w.view, w.view, w.n_channels)
    assert view[..., 1].sum() == 1.0 and view[..., 2].sum() == 0.0  # ... in the berry's channel
    assert sweet == [1.0, 0.0]
    with pytest.raises(ShardlabError, match="unknown kind"):
        world_with(ObjectKind("decoy", "d", (0, 0, 0), looks_like="nothing"), spawns=())


def test_motion_periphery_and_use() -> None:
    bug = ObjectKind("bug", "s", (0, 0, 0), moves=1.0)
    treat = ObjectKind("treat", "o", (0, 0, 0), emits={"sweet": 1.0}, becomes_on_use="cover")
    cover = ObjectKind("cover", "=", (0, 0, 0))
    w = world_with(bug, treat, cover, spawns=(Spawn("bug", at=(1, 5)), Spawn("treat", at=(2, 2))))
    steps = play(w, [USE] + [STAY] * 6)
    bug_cells = {tuple(int(x) for x in s[1].slot_pos[0]) for s in steps}
    assert len(bug_cells) > 1
    for _, state, sens, _, _ in steps:  # motion is sensed exactly when within 3 cells
        near = np.abs(np.asarray(state.slot_pos[0]) - np.asarray(state.pos)).max() <= 3
        assert sens["periphery_motion"] == float(near)
    assert int(steps[0][1].kind[1]) == 2  # the treat is covered for good
    assert play(w, [USE, RIGHT])[-1][2]["sweet"] == 0.0


def test_mazes_are_perfect() -> None:
    for seed in range(5):
        walls = np.asarray(random_maze(jax.random.key(seed), 13, 13))
        open_cells = list(zip(*np.nonzero(~walls), strict=True))
        seen, todo = {open_cells[0]}, deque([open_cells[0]])
        while todo:
            r, c = todo.popleft()
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                nxt = (r + dr, c + dc)
                if not walls[nxt] and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert len(seen) == len(open_cells) == 2 * 36 - 1  # connected, and a tree: no loops


def test_catalog_determinism_and_batching() -> None:
    with pytest.raises(ShardlabError, match="unknown scenario"):
        make("nope")
    world = make("spider")
    params = world.default_params()
    keys = jax.random.split(jax.random.key(3), 4)
    actions = jnp.arange(4) % 6
    step = jax.jit(world.step_env)
    single = [step(keys[i], world.reset(keys[i], params)[1], actions[i], params) for i in range(4)]
    states = jax.vmap(world.reset, in_axes=(0, None))(keys, params)[1]
    batched = jax.jit(jax.vmap(world.step_env, in_axes=(0, 0, 0, None)))(keys, states, actions,
                                                                          params)  # fmt: skip
    for i in range(4):
        np.testing.assert_array_equal(np.asarray(single[i][0]), np.asarray(batched[0][i]))
        np.testing.assert_array_equal(np.asarray(single[i][1].pos), np.asarray(batched[1].pos[i]))
    again = step(keys[0], world.reset(keys[0], params)[1], actions[0], params)
    np.testing.assert_array_equal(np.asarray(again[0]), np.asarray(single[0][0]))


@pytest.mark.parametrize("radius", [-1, 16])
def test_a_view_wider_than_a_row_word_is_refused(radius: int) -> None:
    with pytest.raises(ShardlabError, match="view_radius must be 0 to 15"):
        Scenario(name="t", description="test", kinds=(), spawns=(), view_radius=radius)


@pytest.mark.parametrize("share", [0.0, 0.05, 0.3, 1.0])
def test_rewrite_some_replaces_exactly_the_waiting_rows(share: float) -> None:
    """None, one chunk of 8 or several."""
    n = 96
    waiting = jnp.arange(n) < round(share * n)
    waiting = jax.random.permutation(jax.random.key(0), waiting)
    old = {"a": -jnp.ones((n, 3)), "b": jnp.zeros(n, bool)}
    new = lambda idx: {"a": jnp.stack([idx, idx, idx], -1) * 1.0, "b": idx >= 0}  # noqa: E731
    got = jax.jit(lambda w: _rewrite_some(w, old, new))(waiting)
    rows = jnp.where(waiting, jnp.arange(n), -1.0)
    np.testing.assert_array_equal(np.asarray(got["a"]), np.repeat(np.asarray(rows)[:, None], 3, 1))
    np.testing.assert_array_equal(np.asarray(got["b"]), np.asarray(waiting))


@pytest.mark.parametrize("name", ["foraging", "tinted-rooms"])
def test_a_batch_of_worlds_lives_the_lives_each_lives_alone(name: str) -> None:
    """Under `vmap`, respawns and observations take batched shortcuts (`_respawn_cells` samples
    only for worlds that ate); each world's life must equal the one it lives stepped alone."""
    world, n, ticks = make(name), 24, 120
    params = world.default_params()
    keys = jax.random.split(jax.random.key(5), (ticks, n))
    actions = jax.random.randint(jax.random.key(6), (ticks, n), 0, world.n_actions)
    start = world.reset_batch(jax.random.key(7), n, params)[1]

    def life(step):
        def tick(state, x):
            obs, state, sens, perf, _ = step(x[0], state, x[1])
            return state, (obs, state, sens, perf)

        return jax.lax.scan(tick, start, (keys, actions))[1]

    one = lambda k, s, a: world.step_env(k, s, a, params)  # noqa: E731
    each = lambda k, s, a: jax.lax.map(lambda x: one(*x), (k, s, a))  # noqa: E731
    batched, alone = (jax.jit(life, static_argnums=0)(f) for f in (jax.vmap(one), each))
    for got, want in zip(jax.tree.leaves(batched), jax.tree.leaves(alone), strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    eaten = np.asarray(batched[3] > 0)
    assert 0 < eaten.sum(1).max() < n  # respawns happened, on ticks where only some worlds ate


def test_a_batch_stepped_in_parts_lives_as_the_whole() -> None:
    """A population split across devices steps its worlds in parts, each told the index of its
    first world (`first`): every world, its resets included, must live as in the whole batch."""
    world, n, ticks = make("trash"), 12, 40
    params = dataclasses.replace(world.default_params(), max_steps=jnp.int32(9))  # resets
    keys = jax.random.split(jax.random.key(8), ticks)
    actions = jax.random.randint(jax.random.key(9), (ticks, n), 0, world.n_actions)
    start = world.reset_batch(jax.random.key(10), n, params)[1]

    @jax.jit
    def life(state, actions, first):
        def tick(state, x):
            obs, state, _, perf, done, _ = world.step_batch_outcome(x[0], state, x[1], params,
                                                                    first)  # fmt: skip
            return state, (obs, state.pos, perf, done)

        return jax.lax.scan(tick, state, (keys, actions))[1]

    whole = life(start, actions, 0)
    for part in (slice(0, 5), slice(5, n)):  # an uneven split
        got = life(jax.tree.map(lambda x, part=part: x[part], start), actions[:, part], part.start)
        for a, b in zip(got, whole, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b)[:, part])
    assert np.asarray(whole[3]).sum() >= 3 * n  # every world was reset, most of them several times


def test_a_batchs_worlds_draw_independent_uniform_numbers_from_its_one_seed() -> None:
    """A batched tick seeds its worlds from one threefry draw through the hash: each world's
    numbers must still be uniform, and unrelated to its neighbour's and to each other."""
    seeds = _world_seeds(jax.random.bits(jax.random.key(3), (2,), jnp.uint32), 4096)
    u = np.asarray(jax.vmap(_uniforms, in_axes=(0, None))(seeds, 4))  # (worlds, draws)
    assert len(np.unique(np.asarray(seeds), axis=0)) == 4096
    for draws in (u[:, 0], u[:, 3], u.ravel()):
        assert stats.kstest(draws, "uniform").pvalue > 1e-3
    for a, b in ((u[:-1, 0], u[1:, 0]), (u[:, 0], u[:, 1]), (u[:-1, 3], u[1:, 0])):
        assert abs(stats.pearsonr(a, b).statistic) < 4 / np.sqrt(4096)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_resets_and_steps(name: str) -> None:
    world = make(name)
    for phase in ("train", "test"):
        params = world.default_params(phase)
        obs, state = world.reset(jax.random.key(0), params)
        assert obs.shape == (world.obs_size,) and bool(jnp.all((obs >= 0) & (obs <= 1)))
        assert not bool(state.walls[state.pos[0], state.pos[1]])


def test_trash_variants_differ_only_in_data() -> None:
    """Hidden and cued feedback arrive after the same delay; the trash-button family shares one
    compiled world, so its conditions cost no extra compile."""
    from shardlab.worlds.catalog import FEEDBACK_DELAY

    base = make("trash-button")
    for name in ("trash-button-early", "trash-button-cue"):
        other = make(name)
        assert other._queue == base._queue == FEEDBACK_DELAY + 1
        shapes = jax.tree.map(lambda x: x.shape, other.default_params("test"))
        assert shapes == jax.tree.map(lambda x: x.shape, base.default_params("test"))
    assert bool(make("trash-button-cue").default_params().signal_delayed)
    assert not bool(base.default_params().signal_delayed)


def test_trash_press_variants_differ_only_in_data() -> None:
    """The press-button family shares one compiled world; the lamp exists only in the cue
    variant's training, the button looks like the lamp, and a press pays once (it moves on)."""
    base = make("trash-press")
    shapes = jax.tree.map(lambda x: x.shape, base.default_params("test"))
    lamp, button = (base.scenario.kind_index(k) for k in ("lamp", "button"))
    slots = {"trash-press": (False, False, True), "trash-press-early": (False, True, True),
             "trash-press-cue": (True, False, True)}  # lamp in training, button in training, test
    for name, (lamp_train, button_train, button_test) in slots.items():
        world = make(name)
        assert world._queue == base._queue
        train, test = world.default_params("train"), world.default_params("test")
        assert jax.tree.map(lambda x: x.shape, test) == shapes
        assert [bool(x) for x in train.slot_phases[:, 0]][-2:] == [lamp_train, button_train]
        assert [bool(x) for x in test.slot_phases[:, 1]][-2:] == [False, button_test]
        assert int(train.channel[button]) == lamp and bool(train.consumed[button])
