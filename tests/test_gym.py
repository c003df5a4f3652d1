"""The Gymnasium adapter: every scenario passes the checker; the vector env batches and resets."""

import subprocess
import sys

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from shardlab.envs import SCENARIO_NAMES, env_id
from shardlab.worlds import SCENARIOS
from shardlab.worlds.gym import ShardlabEnv


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_passes_gymnasiums_checker(name: str) -> None:
    env = gymnasium.make(env_id(name), render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)


def test_reward_comes_from_the_users_function_and_performance_stays_hidden() -> None:
    env = ShardlabEnv("foraging", reward_fn=lambda s: 10.0 * s["sweet"] - 1.0)
    env.reset(seed=0)
    rewards, sweet = [], []
    for t in range(200):
        _, reward, terminated, truncated, info = env.step(t % 4)
        rewards.append(reward)
        sweet.append(info["sensations"]["sweet"])
        assert "performance" in info and not terminated
        if truncated:
            env.reset()
    np.testing.assert_allclose(rewards, 10.0 * np.array(sweet) - 1.0)
    a = ShardlabEnv("spider")
    b = ShardlabEnv("spider")
    np.testing.assert_array_equal(a.reset(seed=3)[0], b.reset(seed=3)[0])


def test_vector_env_shapes_and_autoreset() -> None:
    envs = gymnasium.make_vec(env_id("cheese-maze"), num_envs=4,
                              vectorization_mode="vector_entry_point")  # fmt: skip
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (4, envs.single_observation_space.shape[0])
    ended = np.zeros(4, bool)
    for _ in range(90):  # longer than an episode: every world must have ended and restarted
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        ended |= terminated | truncated
        assert obs.shape[0] == reward.shape[0] == info["performance"].shape[0] == 4
    assert ended.all()
    assert envs.observation_space.contains(obs.astype(np.float32))


def test_importing_the_package_registers_every_scenario_without_jax() -> None:
    """The ecosystem's convention: `import shardlab` registers; registering stays light."""
    assert tuple(SCENARIOS) == SCENARIO_NAMES
    code = ("import sys, gymnasium, shardlab; gymnasium.register_envs(shardlab); "
            "ids = [i for i in gymnasium.registry if i.startswith('shardlab/')]; "
            "print(len(ids), 'jax' in sys.modules); "
            "env = gymnasium.make('shardlab/Foraging-v0'); env.reset(seed=0); "
            "print(type(env.unwrapped).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.split() == [str(len(SCENARIOS)), "False", "ShardlabEnv"]
