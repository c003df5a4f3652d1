"""The grid-world engine: gymnax-style pure functions over explicit state and parameters.

`reset(key, params)` and `step(key, state, action, params)` are jit-able, `vmap`-able over
thousands of worlds and `lax.scan`-able over time. A step returns an observation, named
sensations, a hidden performance score and a done flag — and no reward: reward is computed inside
the agent, by its steering subsystem.

Speed notes, for a reader wondering why the code avoids the obvious: under `vmap` on a CPU, tiny
matrix products, reductions and scatters are slow and elementwise work is nearly free, and
threefry costs ~20 rounds per random word. So lookups compare against index ranges instead of
multiplying one-hot matrices, a batched tick takes one threefry draw for all its worlds and
stretches it with a cheap hash into each world's seed and random numbers (`_world_seeds`,
`_uniforms`), the view marks objects as bits of row words rather than by a scatter, and work that
only some worlds need on a tick (a respawn, a reset) is done for those worlds alone
(`_rewrite_some`). Each is a faster way to compute the same thing: a world stepped in a batch
lives the life it lives stepped alone from the same seed, bit for bit.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from shardlab.worlds import layouts
from shardlab.worlds.scenario import (
    ACTIONS,
    DRIVES,
    ITEMS,
    PHASES,
    SENSATIONS,
    Region,
    Scenario,
)

Array = jax.Array
Sensations = dict[str, Array]
T = TypeVar("T")
# A NumPy constant: a JAX array here would start JAX at import, before `runner.cores` can act.
MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1], [0, 0], [0, 0]], np.int32)
USE = ACTIONS.index("use")

pytree = partial(jax.tree_util.register_dataclass)


@pytree
@dataclasses.dataclass(frozen=True)
class EnvParams:
    """Everything numeric about a scenario; change it without recompiling (e.g. the phase)."""

    emits: Array  # (K, S) sensations a kind emits on contact
    performance: Array  # (K,)
    satiates: Array  # (K, D)
    requires: Array  # (K, I)
    inventory: Array  # (K, I)
    consumed: Array  # (K,) bool
    respawns: Array
    terminal: Array
    solid: Array
    visible: Array
    supervised_only: Array
    delay: Array  # (K,) int
    moves: Array  # (K,) float
    becomes: Array  # (K,) int, -1 for none
    signal: Array  # (K,) bool: shown only while delayed sensations are on their way
    channel: Array  # (K,) int: the observation channel a kind is drawn in
    slot_kind: Array  # (N,) initial kind of each spawn slot
    slot_region: Array  # (N, 4) int rows [r0, r1) cols [c0, c1)
    slot_at: Array  # (N, 2) int, fixed cell or -1
    appear: Array  # (N,)
    vanish: Array  # (N,) -1: never
    slot_phases: Array  # (N, P) bool
    agent_region: Array  # (4,)
    agent_at: Array  # (2,) or -1
    drive_init: Array  # (P, D)
    drive_rate: Array  # (D,)
    p_arrive: Array
    p_leave: Array
    supervisor_enabled: Array
    supervisor_visible: Array
    signal_delayed: Array
    max_steps: Array
    phase: Array  # index into PHASES


@pytree
@dataclasses.dataclass(frozen=True)
class EnvState:
    walls: Array  # (H, W) bool
    pos: Array  # (2,) agent cell
    kind: Array  # (N,) current kind of each slot
    slot_pos: Array  # (N, 2)
    gone: Array  # (N,) consumed for good
    drives: Array  # (D,)
    items: Array  # (I,)
    pending: Array  # (L, S) delayed sensations; row 0 arrives next
    supervised: Array  # bool: a supervisor is present (whether or not the agent can tell)
    t: Array
    performance: Array  # cumulative hidden score this episode
    contact: Array  # kind of the object the agent touched on the last tick, -1 for none


class World:
    """A compiled scenario. Holds only static structure; all numbers live in `EnvParams`."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.height, self.width = scenario.size
        self.radius = scenario.view_radius
        self.view = 2 * self.radius + 1
        self.n_kinds = len(scenario.kinds)
        self.n_slots = sum(s.count for s in scenario.spawns)
        self.n_channels = 1 + self.n_kinds  # walls, then one channel per kind
        self.n_intero = len(DRIVES) + len(ITEMS) + 2  # drives, items, signal light, supervisor
        self.obs_size = self.view * self.view * self.n_channels + self.n_intero
        # Where the observation shows the items this world's objects give or take: what the
        # agent may be holding, which the brain's cortex uses as a context (`cortex.encode`).
        items = self.view * self.view * self.n_channels + len(DRIVES)
        self.held = tuple(items + i for i, item in enumerate(ITEMS)
                          if any(item in k.inventory or item in k.requires for k in scenario.kinds))
        self.n_actions = len(ACTIONS)
        self._queue = 1 + max((k.delay for k in scenario.kinds), default=0)
        self._signs = any(k.signal for k in scenario.kinds)  # else no step places a sign
        if isinstance(scenario.layout, tuple):
            fixed = layouts.ascii_map(scenario.layout)
            self._layout = lambda key: fixed
        elif scenario.layout == "maze":
            self._layout = partial(layouts.random_maze, height=self.height, width=self.width)
        else:
            room = layouts.open_room(self.height, self.width)
            self._layout = lambda key: room

    # ----------------------------------------------------------------------------- parameters
    def default_params(self, phase: str = "train") -> EnvParams:
        sc = self.scenario
        kinds = sc.kinds
        names = [k.name for k in kinds]

        def table(attr: str, keys: tuple[str, ...]) -> Array:
            return jnp.array([[getattr(k, attr).get(n, 0.0) for n in keys] for k in kinds])

        def flag(attr: str) -> Array:
            return jnp.array([bool(getattr(k, attr)) for k in kinds])

        slots = [s for s in sc.spawns for _ in range(s.count)]
        sup = sc.supervisor
        return EnvParams(
            emits=table("emits", SENSATIONS),
            performance=jnp.array([k.performance for k in kinds], jnp.float32),
            satiates=table("satiates", DRIVES),
            requires=table("requires", ITEMS),
            inventory=table("inventory", ITEMS),
            consumed=flag("consumed"),
            respawns=flag("respawns"),
            terminal=flag("terminal"),
            solid=flag("solid"),
            visible=flag("visible"),
            supervised_only=flag("supervised_only"),
            delay=jnp.array([k.delay for k in kinds], jnp.int32),
            moves=jnp.array([k.moves for k in kinds], jnp.float32),
            becomes=jnp.array(
                [-1 if k.becomes_on_use is None else names.index(k.becomes_on_use) for k in kinds],
                jnp.int32,
            ),
            signal=flag("signal"),
            channel=jnp.array([names.index(k.looks_like or k.name) for k in kinds], jnp.int32),
            slot_kind=jnp.array([names.index(s.kind) for s in slots], jnp.int32).reshape(-1),
            slot_region=jnp.array([self._cells(s.region) for s in slots], jnp.int32).reshape(-1, 4),
            slot_at=jnp.array([s.at or (-1, -1) for s in slots], jnp.int32).reshape(-1, 2),
            appear=jnp.array([s.appear for s in slots], jnp.int32).reshape(-1),
            vanish=jnp.array([s.vanish for s in slots], jnp.int32).reshape(-1),
            slot_phases=jnp.array([[p in s.phases for p in PHASES] for s in slots], bool).reshape(
                -1, len(PHASES)
            ),
            agent_region=jnp.array(self._cells(sc.agent_region), jnp.int32),
            agent_at=jnp.array(sc.agent_at or (-1, -1), jnp.int32),
            drive_init=jnp.array(
                [[sc.drive_init.get(p, {}).get(d, 0.0) for d in DRIVES] for p in PHASES]
            ),
            drive_rate=jnp.array([sc.drive_rate.get(d, 0.0) for d in DRIVES]),
            p_arrive=jnp.float32(sup.p_arrive if sup else 0.0),
            p_leave=jnp.float32(sup.p_leave if sup else 1.0),
            supervisor_enabled=jnp.bool_(sup is not None),
            supervisor_visible=jnp.bool_(sup is not None and sup.visible),
            signal_delayed=jnp.bool_(sc.signal_delayed),
            max_steps=jnp.int32(sc.max_steps),
            phase=jnp.int32(PHASES.index(phase)),
        )

    def _cells(self, region: Region | None) -> tuple[int, int, int, int]:
        r0, r1, c0, c1 = region or (0.0, 1.0, 0.0, 1.0)
        h, w = self.height, self.width
        return (
            int(np.floor(r0 * h)),
            max(int(np.ceil(r1 * h)), int(np.floor(r0 * h)) + 1),
            int(np.floor(c0 * w)),
            max(int(np.ceil(c1 * w)), int(np.floor(c0 * w)) + 1),
        )

    # ----------------------------------------------------------------------------- reset
    @partial(jax.jit, static_argnums=0)
    def reset(self, key: Array, params: EnvParams) -> tuple[Array, EnvState]:
        """A fresh episode, compiled once per world (like `reset_batch`)."""
        state = self._fresh(key, params)
        return self.observe(state, params), state

    def _fresh(self, key: Array, params: EnvParams) -> EnvState:
        """A new episode's state: layout, agent, objects, drives, supervisor."""
        n = self.n_slots
        k_layout, k_rest = jax.random.split(key)
        walls = self._layout(k_layout)
        u = _uniforms(_seed(k_rest), n + 2)
        u_agent, u_slots, u_sup = u[0], u[1:-1], u[-1]
        agent = jnp.where(
            params.agent_at[0] >= 0,
            params.agent_at,
            _sample_cells(u_agent[None], params.agent_region[None], walls)[0],
        )

        def place(occupied: Array, x: tuple[Array, Array, Array]) -> tuple[Array, Array]:
            u, region, at = x
            cell = jnp.where(at[0] >= 0, at, _sample_cells(u[None], region[None], occupied)[0])
            return _mark(occupied, cell), cell

        _, slot_pos = jax.lax.scan(
            place, _mark(walls, agent), (u_slots, params.slot_region, params.slot_at)
        )
        state = EnvState(
            walls=walls,
            pos=agent,
            kind=params.slot_kind,
            slot_pos=slot_pos.reshape(n, 2),
            gone=jnp.zeros(n, bool),
            drives=params.drive_init[params.phase],
            items=jnp.zeros(len(ITEMS)),
            pending=jnp.zeros((self._queue, len(SENSATIONS))),
            supervised=params.supervisor_enabled
            & (u_sup < params.p_arrive / (params.p_arrive + params.p_leave)),
            t=jnp.int32(0),
            performance=jnp.float32(0.0),
            contact=jnp.int32(-1),
        )
        return state

    # ----------------------------------------------------------------------------- step
    def step(
        self, key: Array, state: EnvState, action: Array, params: EnvParams
    ) -> tuple[Array, EnvState, Sensations, Array, Array]:
        """One tick with automatic reset when the episode ends (for a single world).

        For a population use `step_batch`, which resets only the worlds that are done.
        """
        k_step, k_reset = jax.random.split(key)
        obs, state, sens, perf, done = self.step_env(k_step, state, action, params)
        obs, state = jax.lax.cond(
            done, lambda: self.reset(k_reset, params), lambda: (obs, state)
        )
        return obs, state, sens, perf, done

    def step_env(
        self, key: Array, state: EnvState, action: Array, params: EnvParams
    ) -> tuple[Array, EnvState, Sensations, Array, Array]:
        """One tick without reset: move, wander, touch, consume, use, drives, supervisor."""
        obs, state, sens, perf, terminated, truncated = self.transition(key, state, action, params)
        return obs, state, sens, perf, terminated | truncated

    def transition(
        self, key: Array, state: EnvState, action: Array, params: EnvParams
    ) -> tuple[Array, EnvState, Sensations, Array, Array, Array]:
        """`step_env` with the end of the episode split in two, as Gymnasium wants it:
        `terminated` by a terminal contact, `truncated` by the time limit alone."""
        seed = _seed(key)
        state, sens, perf, terminated, truncated = self._advance(seed, state, action, params)
        return self.observe(state, params), state, sens, perf, terminated, truncated

    def _advance(
        self, seed: Array, state: EnvState, action: Array, params: EnvParams
    ) -> tuple[EnvState, Sensations, Array, Array, Array]:
        """The tick itself, without the observation; `seed` (two words) makes its randomness."""
        n = self.n_slots
        u = _uniforms(seed, 3 * n + 1)
        u_wander, u_spawn, u_sup = u[: 2 * n], u[2 * n : -1], u[-1]
        t = state.t + 1
        present = self._present(state, params, state.t)
        kind = state.kind

        # The agent moves unless a wall or a solid object is in the way.
        target = jnp.clip(
            state.pos + jnp.asarray(MOVES)[action], 0, jnp.array([self.height - 1, self.width - 1])
        )
        at_target = present & jnp.all(state.slot_pos == target, -1) & params.solid[kind]
        blocked = state.walls[target[0], target[1]] | jnp.any(at_target)
        pos = jnp.where(blocked, state.pos, target)

        slot_pos = self._wander(u_wander, state, present, params)

        # Contact: what the agent now stands on, if it can afford it.
        here = present & jnp.all(slot_pos == pos, -1) & ~params.solid[kind]
        affordable = jnp.all(state.items >= params.requires[kind], -1)
        touch = (here & affordable).astype(jnp.float32)
        gate = jnp.where(params.supervised_only[kind], state.supervised, True)
        emission = params.emits[kind] * (touch * gate)[:, None]  # (N, S)
        when = params.delay[kind][:, None] == jnp.arange(self._queue)  # (N, L)
        pending = state.pending + _total(when[:, :, None] * emission[:, None, :])
        arriving, pending = pending[0], jnp.concatenate([pending[1:], pending[:1] * 0])
        items = state.items + _total(touch[:, None] * params.inventory[kind])
        drives = jnp.clip(
            state.drives + params.drive_rate + _total(touch[:, None] * params.satiates[kind]),
            0.0,
            1.0,
        )
        perf = _total(touch * params.performance[kind])
        contact = jnp.max(jnp.where(touch > 0, kind, -1))
        terminated = jnp.any((touch > 0) & params.terminal[kind])

        # A sign moves beside the object that has just sent delayed sensations (the agent stands
        # on it); `_present` shows it while they are on their way.
        if self._signs:
            sent = jnp.any(emission != 0, -1) & (params.delay[kind] > 0)
            slot_pos = jnp.where((jnp.any(sent) & params.signal[kind])[:, None],
                                 _beside(state.walls, pos), slot_pos)  # fmt: skip

        # Consumption: gone for good, or respawned elsewhere in its region.
        eaten = (touch > 0) & params.consumed[kind]
        respawn = eaten & params.respawns[kind]
        fresh = _respawn_cells(respawn, u_spawn, params.slot_region, state.walls, pos)
        slot_pos = jnp.where(respawn[:, None], fresh, slot_pos)
        gone = state.gone | (eaten & ~params.respawns[kind])

        # "use" transforms usable objects on or next to the agent (e.g. covering a temptation).
        near = jnp.abs(slot_pos - pos).sum(-1) <= 1
        used = (action == USE) & present & near & (params.becomes[kind] >= 0)
        kind = jnp.where(used, params.becomes[kind], kind)

        supervised = params.supervisor_enabled & jnp.where(
            state.supervised, u_sup >= params.p_leave, u_sup < params.p_arrive
        )

        state = EnvState(
            walls=state.walls,
            pos=pos,
            kind=kind,
            slot_pos=slot_pos,
            gone=gone,
            drives=drives,
            items=items,
            pending=pending,
            supervised=supervised,
            t=t,
            performance=state.performance + perf,
            contact=contact,
        )
        sens = self._sensations(state, params, arriving)
        truncated = ~terminated & (t >= params.max_steps)
        return state, sens, perf, terminated, truncated

    def _present(self, state: EnvState, params: EnvParams, t: Array) -> Array:
        """Which slots exist now: in their time window, their phase, not consumed, and (signs)
        while delayed sensations are on their way."""
        window = (t >= params.appear) & ((params.vanish < 0) | (t < params.vanish))
        signalling = ~params.signal[state.kind] | jnp.any(state.pending != 0)
        return window & params.slot_phases[:, params.phase] & ~state.gone & signalling

    def _wander(self, u: Array, state: EnvState, present: Array, params: EnvParams) -> Array:
        """Movers take a random step with their kind's probability, unless walled or blocked by
        the agent; `u` holds two uniforms per slot (whether, which way)."""
        go = present & (u[: self.n_slots] < params.moves[state.kind])
        step = jnp.asarray(MOVES)[jnp.minimum(u[self.n_slots :] * 4, 3).astype(jnp.int32)]
        target = state.slot_pos + step * go[:, None]
        free = ~state.walls[target[:, 0], target[:, 1]] & ~jnp.all(target == state.pos, -1)
        return jnp.where(free[:, None], target, state.slot_pos)

    def _sensations(self, state: EnvState, params: EnvParams, arriving: Array) -> Sensations:
        present = self._present(state, params, state.t)
        dist = jnp.abs(state.slot_pos - state.pos).max(-1)
        moving = present & (params.moves[state.kind] > 0) & (dist <= self.scenario.periphery_radius)
        sens = dict(zip(SENSATIONS, arriving, strict=True))
        sens["hunger"] = sens["hunger"] + state.drives[DRIVES.index("hunger")]
        sens["salt_need"] = sens["salt_need"] + state.drives[DRIVES.index("salt_need")]
        sens["supervisor"] = sens["supervisor"] + (
            state.supervised & params.supervisor_visible
        ).astype(jnp.float32)
        sens["periphery_motion"] = sens["periphery_motion"] + jnp.any(moving).astype(jnp.float32)
        return sens

    # ----------------------------------------------------------------------------- observation
    def observe(self, state: EnvState, params: EnvParams) -> Array:
        """Egocentric view (walls + one channel per visible kind), then interoception.

        Beyond the grid's edge counts as wall. Items are shown as min(count, 3) / 3, so every
        value lies in [0, 1]."""
        r, v = self.radius, self.view
        # The view's walls are one window of the grid padded with wall: a window copies whole
        # rows, where indexing every view cell gathered them one at a time.
        padded = jnp.pad(state.walls, r, constant_values=True)
        wall_view = jax.lax.dynamic_slice(padded, (state.pos[0], state.pos[1]), (v, v))
        rel = state.slot_pos - state.pos + r  # (N, 2) position in the view
        shown = (
            self._present(state, params, state.t)
            & params.visible[state.kind]
            & jnp.all((rel >= 0) & (rel < v), -1)
        )
        # Each shown object marks its cell in the channel of the kind it looks like (its own,
        # unless it is a decoy): as a bit in its channel's mask of its view row, OR-ed over the
        # slots by a reduction, which XLA computes once per world (an OR of the slots' words was
        # fused into every view cell and computed again there; a scatter costs more still).
        looks = params.channel[state.kind][:, None] == jnp.arange(self.n_kinds)  # (N, K)
        in_row = (rel[:, 0, None] == jnp.arange(v))[:, None, :]  # (N, 1, v)
        bit = jnp.left_shift(jnp.uint32(1), rel[:, 1].astype(jnp.uint32))[:, None, None]
        masks = jax.lax.reduce(
            jnp.where((shown[:, None] & looks)[..., None] & in_row, bit, jnp.uint32(0)),
            jnp.uint32(0), jax.lax.bitwise_or, (0,),
        )  # (K, v): bit j of [k, i] marks view cell (i, j) in channel k
        objects = (masks.T[:, None, :] >> jnp.arange(v, dtype=jnp.uint32)[:, None]) & 1  # (v, v, K)
        view = jnp.concatenate([wall_view[..., None], objects.astype(bool)], -1)
        signal = params.signal_delayed & jnp.any(state.pending != 0)
        intero = jnp.concatenate(
            [
                state.drives,
                jnp.clip(state.items, 0.0, 3.0) / 3.0,
                jnp.stack([signal, state.supervised & params.supervisor_visible]),
            ]
        )
        return jnp.concatenate([view.reshape(-1), intero]).astype(jnp.float32)

    # ----------------------------------------------------------------------------- populations
    @partial(jax.jit, static_argnums=(0, 2))
    def reset_batch(self, key: Array, n: int, params: EnvParams) -> tuple[Array, EnvState]:
        """n fresh worlds, compiled once per world and n (called eagerly, a reset would dispatch
        and compile its few hundred operations one by one)."""
        return jax.vmap(self.reset, in_axes=(0, None))(jax.random.split(key, n), params)

    def step_batch(
        self, key: Array, state: EnvState, action: Array, params: EnvParams
    ) -> tuple[Array, EnvState, Sensations, Array, Array]:
        """Step every world; reset the finished ones (see `reset_done`)."""
        obs, state, sens, perf, done, _ = self.step_batch_outcome(key, state, action, params)
        return obs, state, sens, perf, done

    def step_batch_outcome(
        self, key: Array, state: EnvState, action: Array, params: EnvParams,
        first: Array | int = 0,
    ) -> tuple[Array, EnvState, Sensations, Array, Array, EnvState]:  # fmt: skip
        """`step_batch`, also returning each world's state after the tick and before any reset:
        where the agent ended up, what it touched and its drives, even on an episode's last
        tick. `first` is the index of the batch's first world in a larger batch stepped in
        parts (one per device): each world then lives as it would in the whole."""
        n = action.shape[0]
        k_step, k_reset = jax.random.split(key)
        seeds = _world_seeds(_seed(k_step), n, first)
        advance = jax.vmap(self._advance, in_axes=(0, 0, 0, None))
        state, sens, perf, terminated, truncated = advance(seeds, state, action, params)
        done = terminated | truncated
        outcome = state
        state = self.reset_done(k_reset, state, done, params, first)
        # Observing after the reset loop also keeps XLA from re-computing the whole tick inside
        # the observation (for every cell of the view), as it does when the two are fused.
        obs = jax.vmap(self.observe, in_axes=(0, None))(state, params)
        return obs, state, sens, perf, done, outcome

    def reset_done(
        self, key: Array, state: EnvState, done: Array, params: EnvParams, first: Array | int = 0
    ) -> EnvState:
        """A batch of states with world i replaced by a fresh one (made with
        `fold_in(key, first + i)`) wherever `done[i]`.

        Resetting costs more than stepping (a maze is grown cell by cell), so fresh worlds are
        made only for the finished ones (see `_rewrite_some`)."""

        def fresh(idx: Array) -> EnvState:
            keys = jax.vmap(jax.random.fold_in, in_axes=(None, 0))(key, first + idx)
            return jax.vmap(self._fresh, in_axes=(0, None))(keys, params)

        return _rewrite_some(done, state, fresh)


def _rewrite_some(waiting: Array, batch: T, new: Callable[[Array], T]) -> T:
    """`batch` (a pytree of arrays over worlds) with row i replaced by `new(idx)[j]` for every
    waiting world i = idx[j], where `idx` lists up to a chunk of them, padded with the batch size
    (which the writes drop); `new` must give a world the same row whatever else is in `idx`.

    Work that only some worlds need on a tick (a reset, a respawn) then costs a chunk or two of
    worlds rather than the whole batch, as a select under `vmap` would."""
    n = waiting.shape[0]
    chunk = min(n, max(8, n // 32))

    def rewrite(carry: tuple[T, Array]) -> tuple[T, Array]:
        batch, waiting = carry
        idx = jnp.nonzero(waiting, size=chunk, fill_value=n)[0]
        put = lambda row, old: old.at[idx].set(row, mode="drop")  # noqa: E731
        return jax.tree.map(put, new(idx), batch), put(False, waiting)

    return jax.lax.while_loop(lambda carry: jnp.any(carry[1]), rewrite, (batch, waiting))[0]


def _fresh_cells(respawn: Array, u: Array, regions: Array, walls: Array, pos: Array) -> Array:
    """Fresh cells (N, 2), off the walls and the agent at `pos`, for the slots that respawn this
    tick; other rows are unspecified.

    One world samples all its slots (`_sample_cells`). Under `vmap` (`_respawn_cells`) only the
    worlds with a respawn sample, a chunk at a time: sampling every slot of every world each tick
    took half a batched tick, for the few worlds that had eaten."""
    return _sample_cells(u, regions, _mark(walls, pos))


_respawn_cells = jax.custom_batching.custom_vmap(_fresh_cells)


@_respawn_cells.def_vmap
def _respawn_cells_batched(n: int, batched: list[bool], *args: Array) -> tuple[Array, bool]:
    args = [x if b else jnp.broadcast_to(x, (n, *x.shape))
            for x, b in zip(args, batched, strict=True)]  # fmt: skip
    cells = jnp.zeros((*args[0].shape, 2), jnp.int32)
    some = lambda idx: jax.vmap(_fresh_cells)(*(x[idx] for x in args))  # noqa: E731
    return _rewrite_some(jnp.any(args[0], -1), cells, some), True


def _total(x: Array) -> Array:
    """Sum over slots (axis 0) as a chain of adds: XLA's CPU backend hands a float `sum` to a
    library call that costs far more than these few additions (and `touch @ table` would be a
    tiny matrix product, worse still)."""
    return functools.reduce(jnp.add, list(x))


def _beside(walls: Array, cell: Array) -> Array:
    """The first open cell right of, below, left of or above `cell` (`cell` itself if none)."""
    h, w = walls.shape
    options = cell + jnp.array([[0, 1], [1, 0], [0, -1], [-1, 0]])
    inside = jnp.all((options >= 0) & (options < jnp.array([h, w])), -1)
    near = jnp.clip(options, 0, jnp.array([h - 1, w - 1]))
    free = inside & ~walls[near[:, 0], near[:, 1]]
    return jnp.where(jnp.any(free), options[jnp.argmax(free)], cell)


def _mark(grid: Array, cell: Array) -> Array:
    """`grid` with `cell` set, by comparison (a one-element scatter is slow under vmap)."""
    h, w = grid.shape
    return grid | ((jnp.arange(h)[:, None] == cell[0]) & (jnp.arange(w)[None, :] == cell[1]))


def _seed(key: Array) -> Array:
    """Two threefry words from `key`: the seed of `_uniforms` and `_world_seeds`."""
    return jax.random.bits(key, (2,), jnp.uint32)


def _world_seeds(seed: Array, n: int, first: Array | int = 0) -> Array:
    """(n, 2) a seed for each of a batch's worlds from the batch's one `seed`: the two rounds of
    `_uniforms`'s hash for counters first..first+n−1. XLA recomputes the seeds inside every
    fused use, so they stay two hashes deep."""
    return jnp.stack(_rounds(seed, n, first), -1)


def _uniforms(seed: Array, n: int) -> Array:
    """`n` uniform floats in [0, 1), a pure function of the two-word `seed`.

    A counter-based integer hash (Wellons' "lowbias32", applied twice) supplies them: threefry
    per word costs as much as a whole step per world, and a step needs dozens of random numbers,
    most of them for rarely-used rejection sampling."""
    return (_rounds(seed, n)[1] >> 8).astype(jnp.float32) * np.float32(2.0**-24)


def _rounds(seed: Array, n: int, first: Array | int = 0) -> tuple[Array, Array]:
    """The hash's inner and outer rounds for counters first..first+n−1 under `seed`."""
    counters = jnp.arange(n, dtype=jnp.uint32) + jnp.asarray(first, jnp.uint32)
    inner = _hash32(counters ^ seed[0])
    return inner, _hash32(inner ^ seed[1])


def _hash32(x: Array) -> Array:
    x = (x ^ (x >> 16)) * np.uint32(0x7FEB352D)
    x = (x ^ (x >> 15)) * np.uint32(0x846CA68B)
    return x ^ (x >> 16)


def _sample_cells(u: Array, regions: Array, blocked: Array) -> Array:
    """A uniformly random free cell in each region (M, 4), from one uniform each (u: M).

    The free cells are packed into 32-bit words, one per grid row (or stretch of a row), so a
    popcount counts them: draw k below the region's count, walk the words to the one holding the
    k-th free cell, then its bits to the cell. The walks are short Python loops of elementwise
    operations, which vmap well on a CPU, where masks over every cell (or rejection sampling,
    with its gathers and fallback) made sampling the slowest part of a step. A region with no
    free cell yields its corner."""
    h, w = blocked.shape
    per_row = -(-w // 32)  # words per grid row
    width = -(-w // per_row)  # grid columns per word
    pad = jnp.pad(blocked, ((0, 0), (0, width * per_row - w)), constant_values=True)
    bits = jnp.arange(width, dtype=jnp.uint32)
    free = jnp.sum(jnp.where(pad.reshape(-1, width), 0, 1 << bits), -1, dtype=jnp.uint32)
    word_row = jnp.arange(h * per_row) // per_row
    word_col = jnp.arange(h * per_row) % per_row * width  # grid column of each word's bit 0
    lo = jnp.clip(regions[:, 2, None] - word_col, 0, width).astype(jnp.uint32)  # (M, words)
    hi = jnp.clip(regions[:, 3, None] - word_col, 0, width).astype(jnp.uint32)
    in_rows = (word_row >= regions[:, 0, None]) & (word_row < regions[:, 1, None])
    words = jnp.where(in_rows, free & ((1 << hi) - (1 << lo)), 0)  # the region's free cells
    counts = jax.lax.population_count(words).astype(jnp.int32)
    total = counts.sum(-1)
    k = jnp.minimum((u * total).astype(jnp.int32), total - 1)  # which free cell, raster order
    word, row, col, k_in_word, seen = jnp.zeros_like(k, jnp.uint32), k * 0, k * 0, k * 0, k * 0
    for i in range(h * per_row):
        here = (seen <= k) & (k < seen + counts[:, i])
        word = jnp.where(here, words[:, i], word)
        row, col = jnp.where(here, i // per_row, row), jnp.where(here, i % per_row * width, col)
        k_in_word = jnp.where(here, k - seen, k_in_word)
        seen = seen + counts[:, i]
    offset, seen = k * 0, k * 0
    for b in range(width):
        on = ((word >> b) & 1).astype(jnp.int32)
        offset = jnp.where((on == 1) & (seen == k_in_word), b, offset)
        seen = seen + on
    cell = jnp.stack([row, col + offset], -1)
    return jnp.where((total > 0)[:, None], cell, regions[:, 0::2])
