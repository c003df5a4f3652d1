"""The worlds through the Gymnasium API, for Stable-Baselines3, CleanRL and friends.

A world emits sensations, never reward; this adapter turns them into a reward with a function
the user chooses — by default the scenario's `default_reward` weights, a minimal stand-in for a
steering subsystem. `import shardlab` registers every
scenario as `shardlab/<Name>-v0` (e.g. `shardlab/Foraging-v0`, `shardlab/TrashButton-v0`; see
`shardlab.envs`), for both `gymnasium.make` and `gymnasium.make_vec` (which runs the whole batch
as one jitted step):

    import gymnasium, shardlab
    gymnasium.register_envs(shardlab)
    env = gymnasium.make("shardlab/CheeseMaze-v0", phase="test", render_mode="rgb_array")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from shardlab.errors import ShardlabError
from shardlab.worlds import render
from shardlab.worlds.catalog import make
from shardlab.worlds.engine import EnvParams, EnvState, World
from shardlab.worlds.scenario import PHASES, SENSATIONS, Scenario

RewardFn = Callable[[Mapping[str, Any]], Any]
"""Sensations (name → value) to a reward. The vector env passes arrays, one value per world."""

RENDER_MODES = ("rgb_array", "ansi")


def default_reward(scenario: Scenario) -> RewardFn:
    """The weighted sum of the sensations, with the scenario's `default_reward` weights."""
    weights = dict(scenario.default_reward)

    def reward(sensations: Mapping[str, Any]) -> Any:
        return sum(weight * sensations[name] for name, weight in weights.items())

    return reward


class ShardlabEnv(gymnasium.Env[np.ndarray, np.int64]):
    """One world. `terminated` on a terminal contact, `truncated` at the scenario's time limit;
    `info` holds the sensations and the hidden performance score of the tick."""

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 8}

    def __init__(
        self,
        scenario: str = "foraging",
        phase: str = "train",
        reward_fn: RewardFn | None = None,
        render_mode: str | None = None,
        tile: int = 16,
    ):
        self.world, self.params = _world(scenario, phase, render_mode)
        self.reward_fn = reward_fn or default_reward(self.world.scenario)
        self.render_mode, self.tile = render_mode, tile
        self.observation_space = spaces.Box(0.0, 1.0, (self.world.obs_size,), np.float32)
        self.action_space = spaces.Discrete(self.world.n_actions)
        self._reset, self._step = _single(self.world)
        self._key: jax.Array | None = None
        self.state: EnvState | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._key, k_reset = jax.random.split(_key(self.np_random))
        obs, self.state = self._reset(k_reset, self.params)
        return np.array(obs), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.state is None:
            raise ShardlabError("call reset() before step()")
        self._key, k_step = jax.random.split(self._key)
        obs, self.state, *out = self._step(k_step, self.state, jnp.int32(action), self.params)
        sensations, performance, terminated, truncated = jax.device_get(out)
        sens = {name: float(v) for name, v in zip(SENSATIONS, sensations, strict=True)}
        info = {"sensations": sens, "performance": float(performance)}
        reward = float(self.reward_fn(sens))
        return np.array(obs), reward, bool(terminated), bool(truncated), info

    def render(self) -> np.ndarray | str | None:
        if self.render_mode is None or self.state is None:
            return None
        if self.render_mode == "ansi":
            return render.ansi(self.world, self.state, self.params)
        return render.rgb(self.world, self.state, self.params, self.tile)


class ShardlabVectorEnv(VectorEnv):
    """`num_envs` worlds stepped by one jitted, vmapped call. Finished worlds reset in the same
    step (`AutoresetMode.SAME_STEP`): the returned observation is the new episode's, and
    `info["final_obs"]` holds the last observation of the episode that ended (rows where
    `info["_final_obs"]` is set). `reward_fn` receives arrays, one value per world."""

    metadata = {
        "render_modes": list(RENDER_MODES),
        "render_fps": 8,
        "autoreset_mode": AutoresetMode.SAME_STEP,
    }

    def __init__(
        self,
        scenario: str = "foraging",
        num_envs: int = 8,
        phase: str = "train",
        reward_fn: RewardFn | None = None,
        render_mode: str | None = None,
        tile: int = 16,
    ):
        if num_envs < 1:
            raise ShardlabError(f"num_envs must be at least 1, not {num_envs}")
        self.world, self.params = _world(scenario, phase, render_mode)
        self.reward_fn = reward_fn or default_reward(self.world.scenario)
        self.render_mode, self.tile = render_mode, tile
        self.num_envs = num_envs
        self.single_observation_space = spaces.Box(0.0, 1.0, (self.world.obs_size,), np.float32)
        self.single_action_space = spaces.Discrete(self.world.n_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._reset, self._step = _batched(self.world)
        self._key: jax.Array | None = None
        self.state: EnvState | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._key, k_reset = jax.random.split(_key(self.np_random))
        obs, self.state = self._reset(k_reset, self.num_envs, self.params)
        return np.array(obs), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self.state is None:
            raise ShardlabError("call reset() before step()")
        self._key, k_step = jax.random.split(self._key)
        actions = jnp.asarray(actions, jnp.int32).reshape(self.num_envs)
        obs, self.state, *out = self._step(k_step, self.state, actions, self.params)
        sensations, performance, terminated, truncated, final_obs = jax.device_get(out)
        sens = dict(zip(SENSATIONS, sensations, strict=True))
        reward = np.asarray(self.reward_fn(sens), np.float64) * np.ones(self.num_envs)
        done = terminated | truncated
        info = {"sensations": sens, "performance": performance, "final_obs": final_obs,
                "_final_obs": done}  # fmt: skip
        return np.array(obs), reward, terminated, truncated, info

    def render(self) -> tuple[np.ndarray | str, ...] | None:
        if self.render_mode is None or self.state is None:
            return None
        draw = render.ansi if self.render_mode == "ansi" else render.rgb
        extra = () if self.render_mode == "ansi" else (self.tile,)
        return tuple(
            draw(self.world, jax.tree.map(lambda x, i=i: x[i], self.state), self.params, *extra)
            for i in range(self.num_envs)
        )


def _world(scenario: str, phase: str, render_mode: str | None) -> tuple[World, EnvParams]:
    if phase not in PHASES:
        raise ShardlabError(f"unknown phase {phase!r}; choose from: {', '.join(PHASES)}")
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ShardlabError(f"unknown render mode {render_mode!r}; choose from: rgb_array, ansi")
    world = make(scenario)
    return world, world.default_params(phase)


def _key(rng: np.random.Generator) -> jax.Array:
    """A JAX key drawn from the env's seeded numpy generator, so `reset(seed=…)` decides all."""
    return jax.random.key(int(rng.integers(2**32, dtype=np.uint64)))


@cache
def _single(world: World) -> tuple[Callable, Callable]:
    def step(key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams) -> tuple:
        obs, state, sens, perf, terminated, truncated = world.transition(key, state, action, params)
        return obs, state, _stack(sens), perf, terminated, truncated

    return world.reset, jax.jit(step)


@cache
def _batched(world: World) -> tuple[Callable, Callable]:
    def step(key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams) -> tuple:
        k_step, k_reset = jax.random.split(key)
        transition = jax.vmap(world.transition, in_axes=(0, 0, 0, None))
        final_obs, state, sens, perf, terminated, truncated = transition(
            jax.random.split(k_step, action.shape[0]), state, action, params
        )
        state = world.reset_done(k_reset, state, terminated | truncated, params)
        obs = jax.vmap(world.observe, in_axes=(0, None))(state, params)
        return obs, state, _stack(sens), perf, terminated, truncated, final_obs

    return world.reset_batch, jax.jit(step)


def _stack(sens: dict[str, jax.Array]) -> jax.Array:
    """The sensations as one array (S, ...): one transfer to the host instead of one each."""
    return jnp.stack([sens[name] for name in SENSATIONS])

