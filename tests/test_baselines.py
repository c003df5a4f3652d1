"""Contrast agents: the return maximiser seizes the button; plain actor-critic learns."""

import jax
import numpy as np

from shardlab.baselines import actor_critic, planner
from shardlab.brain import basal_ganglia as bg
from shardlab.worlds import SENSATIONS, make


def test_return_maximiser_presses_a_reachable_button_and_not_an_absent_one() -> None:
    world = make("trash-button")
    config = planner.PlannerConfig(rollouts=2, depth=6, epsilon=0.0)
    stim = SENSATIONS.index("stimulation")
    test = planner.live(config, world, world.default_params("test"), jax.random.key(0), 4, 80)
    train = planner.live(config, world, world.default_params("train"), jax.random.key(0), 4, 80)
    assert (np.asarray(test.sensations)[..., stim] > 0).mean() > 0.3
    assert (np.asarray(train.sensations)[..., stim] > 0).mean() == 0.0


def test_plain_actor_critic_improves_on_foraging() -> None:
    world = make("foraging")
    _, log = actor_critic.live(
        actor_critic.ActorCriticConfig(), world, world.default_params(), jax.random.key(0), 16,
        3000,
    )  # fmt: skip
    perf = np.asarray(log.performance)
    tenth = perf.shape[0] // 10
    first, last = perf[:tenth].mean(0), perf[-tenth:].mean(0)
    assert (last - first).mean() > 0 and (last > first).mean() > 0.7


def test_plain_actor_critic_keeps_the_full_online_steps() -> None:
    """No replay teaches its actor, so it must not inherit the brain's smaller steps (the
    brain's critic step made it collapse on money and absent-supervisor); overrides still win."""
    config = actor_critic.ActorCriticConfig().basal_ganglia
    assert (config.actor_lr, config.critic_lr, config.habit_weight) == (1.0, 0.3, 0.0)
    brain = bg.BasalGangliaConfig()
    assert brain.actor_lr < config.actor_lr and brain.critic_lr < config.critic_lr
    assert bg.online_only(critic_lr=0.5, gamma=0.0).critic_lr == 0.5
