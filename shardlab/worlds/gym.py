"""Gymnasium adapter: every scenario as a `gymnasium.Env` and a vector env.

The world itself emits no reward, so the adapter asks for a reward function of the sensations
(the role the steering subsystem plays inside a shardlab agent). The default is the scenario's
`default_reward` weighting — which, note, rewards the reward button like anything else. The
hidden performance score is reported in `info["performance"]`, never in the reward.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from shardlab.worlds import render
from shardlab.worlds.catalog import SCENARIOS, make
from shardlab.worlds.scenario import Scenario

RewardFn = Callable[[dict[str, float]], float]


def default_reward(scenario: Scenario) -> RewardFn:
    weights = dict(scenario.default_reward)
    return lambda sensations: float(sum(w * sensations[k] for k, w in weights.items()))


def _spaces(obs_size: int, n_actions: int) -> tuple[spaces.Box, spaces.Discrete]:
    return spaces.Box(0.0, 1.0, (obs_size,), np.float32), spaces.Discrete(n_actions)


class ShardlabEnv(gymnasium.Env):
    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 6}

    def __init__(
        self,
        scenario: str,
        reward_fn: RewardFn | None = None,
        phase: str = "train",
        render_mode: str | None = None,
    ):
        self.world = make(scenario)
        self.params = self.world.default_params(phase)
        self.reward_fn = reward_fn or default_reward(self.world.scenario)
        self.render_mode = render_mode
        self.observation_space, self.action_space = _spaces(
            self.world.obs_size, self.world.n_actions
        )
        self._reset = jax.jit(self.world.reset)
        self._step = jax.jit(self.world.transition)
        self._key = jax.random.key(0)
        self._state = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._key = jax.random.key(seed)
        self._key, key = jax.random.split(self._key)
        obs, self._state = self._reset(key, self.params)
        return np.asarray(obs), {"performance": 0.0}

    def step(self, action):
        self._key, key = jax.random.split(self._key)
        obs, self._state, sens, perf, terminated, truncated = self._step(
            key, self._state, jnp.int32(action), self.params
        )
        sensations = {k: float(v) for k, v in sens.items()}
        info = {"sensations": sensations, "performance": float(perf)}
        reward = self.reward_fn(sensations)
        return np.asarray(obs), reward, bool(terminated), bool(truncated), info

    def render(self):
        if self.render_mode == "rgb_array":
            return render.rgb(self.world, self._state, self.params)
        if self.render_mode == "ansi":
            return render.ansi(self.world, self._state, self.params)
        return None


class ShardlabVectorEnv(VectorEnv):
    """N worlds stepped by one jitted, vmapped call, reset in the same step when done."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, scenario: str, num_envs: int, phase: str = "train"):
        self.world = make(scenario)
        self.params = self.world.default_params(phase)
        self.num_envs = num_envs
        weights = self.world.scenario.default_reward
        self._weights = {k: float(w) for k, w in weights.items()}
        self.single_observation_space, self.single_action_space = _spaces(
            self.world.obs_size, self.world.n_actions
        )
        self.observation_space = gymnasium.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, num_envs)
        self._reset = jax.jit(self.world.reset_batch, static_argnums=1)
        self._step = jax.jit(self._step_all)
        self._key = jax.random.key(0)

    def _step_all(self, key, state, action, params):
        k_step, k_reset = jax.random.split(key)
        n = action.shape[0]
        obs, state, sens, perf, terminated, truncated = jax.vmap(
            self.world.transition, in_axes=(0, 0, 0, None)
        )(jax.random.split(k_step, n), state, action, params)
        fresh_obs, fresh = self.world.reset_batch(k_reset, n, params)
        done = terminated | truncated
        pick = lambda new, old: jnp.where(  # noqa: E731
            done.reshape(done.shape + (1,) * (new.ndim - 1)), new, old
        )
        reward = sum(w * sens[k] for k, w in self._weights.items()) if self._weights else perf * 0
        return (pick(fresh_obs, obs), jax.tree.map(pick, fresh, state), reward, terminated,
                truncated, perf, obs)  # fmt: skip

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._key = jax.random.key(seed)
        self._key, key = jax.random.split(self._key)
        obs, self._state = self._reset(key, self.num_envs, self.params)
        return np.asarray(obs), {}

    def step(self, actions):
        self._key, key = jax.random.split(self._key)
        obs, self._state, reward, term, trunc, perf, final = self._step(
            key, self._state, jnp.asarray(actions, jnp.int32), self.params
        )
        info = {"performance": np.asarray(perf), "final_obs": np.asarray(final)}
        return (np.asarray(obs), np.asarray(reward, np.float64), np.asarray(term),
                np.asarray(trunc), info)  # fmt: skip


def env_id(name: str) -> str:
    """'trash-button' -> 'shardlab/TrashButton-v0'."""
    return "shardlab/" + "".join(part.capitalize() for part in name.split("-")) + "-v0"


def register_envs() -> None:
    """Register every scenario with Gymnasium (`gymnasium.make("shardlab/Foraging-v0")`)."""
    for name in SCENARIOS:
        if env_id(name) not in gymnasium.registry:
            gymnasium.register(
                env_id(name),
                entry_point=ShardlabEnv,
                vector_entry_point=ShardlabVectorEnv,
                kwargs={"scenario": name},
                max_episode_steps=None,
            )


register_envs()
