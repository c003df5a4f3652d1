"""The grid-world engine: gymnax-style pure functions over explicit state and parameters.

`reset(key, params)` and `step(key, state, action, params)` are jit-able, `vmap`-able over
thousands of worlds and `lax.scan`-able over time. A step returns an observation, named
sensations, a hidden performance score and a done flag — and no reward: reward is computed inside
the agent, by its steering subsystem.
"""

from __future__ import annotations

import dataclasses
from functools import partial

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
MOVES = jnp.array([[-1, 0], [0, 1], [1, 0], [0, -1], [0, 0], [0, 0]], jnp.int32)
USE = ACTIONS.index("use")
_TRIES = 8  # rejection-sampling attempts before the deterministic fallback

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
        self.n_actions = len(ACTIONS)
        self._queue = 1 + max((k.delay for k in scenario.kinds), default=0)
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
    def reset(self, key: Array, params: EnvParams) -> tuple[Array, EnvState]:
        k_layout, k_agent, k_slots, k_sup = jax.random.split(key, 4)
        walls = self._layout(k_layout)
        agent = jnp.where(
            params.agent_at[0] >= 0,
            params.agent_at,
            _sample_cells(k_agent, walls, params.agent_region[None], walls)[0],
        )
        occupied = walls.at[agent[0], agent[1]].set(True)

        def place(occ: Array, x: tuple[Array, Array, Array]) -> tuple[Array, Array]:
            k, region, at = x
            cell = jnp.where(at[0] >= 0, at, _sample_cells(k, walls, region[None], occ)[0])
            return occ.at[cell[0], cell[1]].set(True), cell

        keys = jax.random.split(k_slots, self.n_slots)
        _, slot_pos = jax.lax.scan(place, occupied, (keys, params.slot_region, params.slot_at))
        state = EnvState(
            walls=walls,
            pos=agent,
            kind=params.slot_kind,
            slot_pos=slot_pos.reshape(self.n_slots, 2),
            gone=jnp.zeros(self.n_slots, bool),
            drives=params.drive_init[params.phase],
            items=jnp.zeros(len(ITEMS)),
            pending=jnp.zeros((self._queue, len(SENSATIONS))),
            supervised=params.supervisor_enabled
            & jax.random.bernoulli(k_sup, params.p_arrive / (params.p_arrive + params.p_leave)),
            t=jnp.int32(0),
            performance=jnp.float32(0.0),
        )
        return self.observe(state, params), state

    # ----------------------------------------------------------------------------- step
    def step(
        self, key: Array, state: EnvState, action: Array, params: EnvParams
    ) -> tuple[Array, EnvState, Sensations, Array, Array]:
        """One tick with automatic reset when the episode ends (for a single world).

        For a population use `step_batch`, which resets only when some world is done.
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
        k_wander, k_spawn, k_sup = jax.random.split(key, 3)
        t = state.t + 1
        present = self._present(state, params, state.t)
        kind = state.kind

        # The agent moves unless a wall or a solid object is in the way.
        target = jnp.clip(
            state.pos + MOVES[action], 0, jnp.array([self.height - 1, self.width - 1])
        )
        at_target = present & jnp.all(state.slot_pos == target, -1) & params.solid[kind]
        blocked = state.walls[target[0], target[1]] | jnp.any(at_target)
        pos = jnp.where(blocked, state.pos, target)

        slot_pos = self._wander(k_wander, state, present, params)

        # Contact: what the agent now stands on, if it can afford it.
        here = present & jnp.all(slot_pos == pos, -1) & ~params.solid[kind]
        affordable = jnp.all(state.items >= params.requires[kind], -1)
        touch = (here & affordable).astype(jnp.float32)
        gate = jnp.where(params.supervised_only[kind], state.supervised, True)
        emission = params.emits[kind] * (touch * gate)[:, None]  # (N, S)
        when = jax.nn.one_hot(params.delay[kind], self._queue)  # (N, L)
        pending = state.pending + when.T @ emission
        arriving, pending = pending[0], jnp.concatenate([pending[1:], pending[:1] * 0])
        items = state.items + touch @ params.inventory[kind]
        drives = jnp.clip(
            state.drives + params.drive_rate + touch @ params.satiates[kind], 0.0, 1.0
        )
        perf = touch @ params.performance[kind]
        terminal = jnp.any((touch > 0) & params.terminal[kind])

        # Consumption: gone for good, or respawned elsewhere in its region.
        eaten = (touch > 0) & params.consumed[kind]
        not_here = state.walls.at[pos[0], pos[1]].set(True)
        fresh = _sample_cells(k_spawn, state.walls, params.slot_region, not_here)
        respawn = eaten & params.respawns[kind]
        slot_pos = jnp.where(respawn[:, None], fresh, slot_pos)
        gone = state.gone | (eaten & ~params.respawns[kind])

        # "use" transforms usable objects on or next to the agent (e.g. covering a temptation).
        near = jnp.abs(slot_pos - pos).sum(-1) <= 1
        used = (action == USE) & present & near & (params.becomes[kind] >= 0)
        kind = jnp.where(used, params.becomes[kind], kind)

        u = jax.random.uniform(k_sup)
        supervised = params.supervisor_enabled & jnp.where(
            state.supervised, u >= params.p_leave, u < params.p_arrive
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
        )
        sens = self._sensations(state, params, arriving)
        done = terminal | (t >= params.max_steps)
        return self.observe(state, params), state, sens, perf, done

    def _present(self, state: EnvState, params: EnvParams, t: Array) -> Array:
        """Which slots exist now: in their time window, their phase, and not consumed."""
        window = (t >= params.appear) & ((params.vanish < 0) | (t < params.vanish))
        return window & params.slot_phases[:, params.phase] & ~state.gone

    def _wander(self, key: Array, state: EnvState, present: Array, params: EnvParams) -> Array:
        k_go, k_dir = jax.random.split(key)
        go = present & (jax.random.uniform(k_go, (self.n_slots,)) < params.moves[state.kind])
        step = MOVES[jax.random.randint(k_dir, (self.n_slots,), 0, 4)]
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
        """Egocentric view (walls + one channel per visible kind), then interoception."""
        r, v = self.radius, self.view
        padded = jnp.pad(state.walls, r, constant_values=True)
        wall_view = jax.lax.dynamic_slice(padded, (state.pos[0], state.pos[1]), (v, v))
        rel = state.slot_pos - state.pos + r
        shown = (
            self._present(state, params, state.t)
            & params.visible[state.kind]
            & jnp.all((rel >= 0) & (rel < v), -1)
        )
        cell = jax.nn.one_hot(rel[:, 0] * v + rel[:, 1], v * v) * shown[:, None]  # (N, V*V)
        objects = jnp.minimum(cell.T @ jax.nn.one_hot(state.kind, self.n_kinds), 1.0)
        view = jnp.concatenate([wall_view.reshape(v * v, 1), objects], -1)
        signal = params.signal_delayed & jnp.any(state.pending != 0)
        intero = jnp.concatenate(
            [
                state.drives,
                jnp.minimum(state.items, 3.0) / 3.0,
                jnp.stack([signal, state.supervised & params.supervisor_visible]),
            ]
        )
        return jnp.concatenate([view.reshape(-1), intero]).astype(jnp.float32)

    # ----------------------------------------------------------------------------- populations
    def reset_batch(self, key: Array, n: int, params: EnvParams) -> tuple[Array, EnvState]:
        return jax.vmap(self.reset, in_axes=(0, None))(jax.random.split(key, n), params)

    def step_batch(
        self, key: Array, state: EnvState, action: Array, params: EnvParams
    ) -> tuple[Array, EnvState, Sensations, Array, Array]:
        """Step every world; reset the finished ones. The reset runs only on ticks where some
        world is done, so a population pays for it once an episode, not every tick."""
        n = action.shape[0]
        k_step, k_reset = jax.random.split(key)
        obs, state, sens, perf, done = jax.vmap(self.step_env, in_axes=(0, 0, 0, None))(
            jax.random.split(k_step, n), state, action, params
        )

        def reset_done() -> tuple[Array, EnvState]:
            fresh_obs, fresh = self.reset_batch(k_reset, n, params)
            pick = partial(_select, done)
            return pick(fresh_obs, obs), jax.tree.map(pick, fresh, state)

        obs, state = jax.lax.cond(jnp.any(done), reset_done, lambda: (obs, state))
        return obs, state, sens, perf, done


def _select(done: Array, new: Array, old: Array) -> Array:
    return jnp.where(done.reshape(done.shape + (1,) * (new.ndim - 1)), new, old)


def _sample_cells(key: Array, walls: Array, regions: Array, blocked: Array) -> Array:
    """One free cell per region (M, 4): a few uniform draws, then the first free cell in raster
    order as a fallback. Cheap enough to run every tick inside a vmapped step."""
    m = regions.shape[0]
    h, w = walls.shape
    u = jax.random.uniform(key, (m, _TRIES, 2))
    lo, hi = regions[:, None, 0::2], regions[:, None, 1::2]  # (M, 1, 2) rows/cols
    cand = jnp.minimum(lo + (u * (hi - lo)).astype(jnp.int32), hi - 1)
    ok = ~blocked[cand[..., 0], cand[..., 1]]
    first = jnp.argmax(ok, -1)
    drawn = jnp.take_along_axis(cand, first[:, None, None], 1)[:, 0]
    rows, cols = jnp.arange(h)[:, None], jnp.arange(w)[None, :]
    inside = (
        (rows >= regions[:, 0, None, None])
        & (rows < regions[:, 1, None, None])
        & (cols >= regions[:, 2, None, None])
        & (cols < regions[:, 3, None, None])
        & ~blocked
    )
    flat = jnp.argmax(inside.reshape(m, -1), -1)
    fallback = jnp.stack([flat // w, flat % w], -1)
    return jnp.where(jnp.any(ok, -1)[:, None], drawn, fallback)
