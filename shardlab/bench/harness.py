"""What `bench agent` and `bench learning` share: the late-performance score, the brain's chunk
size, and Stable-Baselines3 PPO learning a scenario through the Gymnasium adapter."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from shardlab.errors import require
from shardlab.worlds.gym import RewardFn


def chunk_size(steps: int, most: int = 2000) -> int:
    """The largest divisor of `steps` up to `most`: one compiled chunk serves the whole run."""
    return max(d for d in range(1, min(steps, most) + 1) if steps % d == 0)


def late_performance(performance: np.ndarray) -> float:
    """Mean hidden performance per tick over the last 10% of training ((T, N) or (T,))."""
    performance = np.asarray(performance, float)
    tail = max(1, int(round(0.1 * performance.shape[0])))
    return float(performance[-tail:].mean())


class PPORun(NamedTuple):
    performance: np.ndarray  # (T,) per vector step, the mean over the envs
    env_steps: int  # over all envs
    seconds: float  # in `model.learn`


def train_ppo(
    scenario: str,
    n_envs: int,
    total_steps: int,
    seed: int = 0,
    reward_fn: RewardFn | None = None,
    progress: Callable[[int], None] | None = None,
) -> PPORun:
    """SB3 PPO (CPU, MlpPolicy, default hyperparameters but a rollout of ~2048 steps split over
    the envs, so each update sees as much experience as with SB3's single-env default) learning
    `scenario` through the Gymnasium adapter, paid by `reward_fn` (by default the scenario's
    `default_reward`). It stops after `total_steps` environment steps over all envs (rounded up
    to whole vector steps), mid-rollout if need be, so it gets no more experience than that.
    `progress` is called with the environment steps of each vector step."""
    require("stable_baselines3", "bench")
    require("torch", "bench")
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    from shardlab.envs import env_id

    env = make_vec_env(env_id(scenario), n_envs=n_envs, seed=seed,
                       env_kwargs={"reward_fn": reward_fn})  # fmt: skip
    performance: list[float] = []

    class Record(BaseCallback):
        def _on_step(self) -> bool:
            infos = self.locals["infos"]
            performance.append(float(np.mean([i.get("performance", 0.0) for i in infos])))
            if progress is not None:
                progress(n_envs)
            return len(performance) * n_envs < total_steps

    model = PPO("MlpPolicy", env, n_steps=max(16, 2048 // n_envs), device="cpu", seed=seed,
                verbose=0)  # fmt: skip
    start = time.perf_counter()
    model.learn(total_timesteps=total_steps, callback=Record())
    elapsed = time.perf_counter() - start
    env.close()
    return PPORun(np.asarray(performance), len(performance) * n_envs, elapsed)
