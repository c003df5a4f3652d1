"""The peer side of `shardlab bench values`: imitation's MCE-IRL on a tabular MDP from an .npz.

Runs in its own virtualenv (imitation 1.0.1 pins gymnasium and Stable-Baselines3 versions that
shardlab's environment does not have), so it imports nothing from shardlab. Usage:

    python _imitation_peer.py PROBLEM.npz TARGET CHUNK MAX_ITER LR

It trains in chunks of CHUNK iterations until the Pearson r between the recovered and the true
state reward reaches TARGET (or MAX_ITER), and prints one JSON line: training seconds (the
recovery checks excluded), the r reached, and the iterations it took.
"""

import json
import sys
import time

import numpy as np
import torch as th
from imitation.algorithms.mce_irl import MCEIRL, mce_occupancy_measures, mce_partition_fh
from imitation.rewards import reward_nets
from seals import base_envs


def main() -> None:
    path, target, chunk, max_iter, lr = sys.argv[1:6]
    target, chunk, max_iter, lr = float(target), int(chunk), int(max_iter), float(lr)
    data = np.load(path)
    true_reward = data["reward"]
    env = base_envs.TabularModelPOMDP(
        transition_matrix=data["transition"], observation_matrix=data["features"],
        reward_matrix=true_reward, horizon=int(data["horizon"]),
        initial_state_dist=data["start"],
    )
    discount = float(data["gamma"])
    _, _, pi = mce_partition_fh(env, discount=discount)
    _, occupancy = mce_occupancy_measures(env, pi=pi, discount=discount)
    th.manual_seed(0)
    net = reward_nets.BasicRewardNet(env.observation_space, env.action_space, hid_sizes=[],
                                     use_action=False, use_done=False, use_next_state=False)
    mce = MCEIRL(occupancy, env, net, rng=np.random.default_rng(0), discount=discount,
                 optimizer_kwargs={"lr": lr}, linf_eps=0.0, grad_l2_eps=0.0,
                 log_interval=None)
    obs = th.as_tensor(data["features"], dtype=th.float32)
    seconds, done, r = 0.0, 0, float("nan")
    while done < max_iter:
        start = time.perf_counter()
        mce.train(max_iter=chunk)
        seconds += time.perf_counter() - start
        done += chunk
        with th.no_grad():
            recovered = net(obs, None, None, None).numpy().ravel()
        r = float(np.corrcoef(recovered, true_reward)[0, 1])
        if r >= target:
            break
    print(json.dumps({"seconds": seconds, "recovery": r, "iterations": done}))


if __name__ == "__main__":
    main()
