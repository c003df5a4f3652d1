"""The registry of experiments: built-in modules plus plugins named in $SHARDLAB_PLUGINS.

Experiment modules call `register` when imported. Modules are imported on first lookup, in every
process that looks one up, so worker processes (spawned or on a Ray cluster) find the same
experiments as the driver as long as they see the same $SHARDLAB_PLUGINS.
"""

import importlib
import os

from shardlab.errors import ShardlabError
from shardlab.experiments.base import Experiment

# Built-in experiment modules under shardlab.experiments; adding one is adding its name here.
EXPERIMENT_MODULES: tuple[str, ...] = (
    "reward_button",
    "shard_formation",
    "cheese_maze",
    "steering_vectors",
    "goodhart",
    "learned_reward",
    "motivation",
    "absent_supervisor",
    "refusal_direction",
    "irl_bottleneck",
    "comparison_elbow",
    "preference_components",
    "language_valence",
    "language_propaganda",
    "language_ideology",
    "language_value_change",
    "anticipation",
    "signal_strength",
    "exposure",
    "salt",
)

PLUGINS_ENV = "SHARDLAB_PLUGINS"

_experiments: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    """Add an experiment; registering the same object twice is harmless, a name clash is not."""
    existing = _experiments.get(experiment.name)
    if existing is not None and existing is not experiment:
        raise ShardlabError(f"two experiments are named '{experiment.name}'")
    _experiments[experiment.name] = experiment
    return experiment


def plugin_modules() -> list[str]:
    """Module paths listed in $SHARDLAB_PLUGINS (comma-separated)."""
    return [name.strip() for name in os.environ.get(PLUGINS_ENV, "").split(",") if name.strip()]


def _load() -> None:
    for module in EXPERIMENT_MODULES:
        importlib.import_module(f"shardlab.experiments.{module}")
    for module in plugin_modules():
        try:
            importlib.import_module(module)
        except Exception as error:
            raise ShardlabError(
                f"cannot import plugin module '{module}' from ${PLUGINS_ENV}: "
                f"{type(error).__name__}: {error}"
            ) from None


def all_experiments() -> list[Experiment]:
    """Every registered experiment, sorted by name."""
    _load()
    return [_experiments[name] for name in sorted(_experiments)]


def get(name: str) -> Experiment:
    """The experiment called `name`, or an error that lists the known names."""
    _load()
    if name not in _experiments:
        known = ", ".join(sorted(_experiments)) or "none registered"
        raise ShardlabError(f"unknown experiment '{name}' (known: {known})")
    return _experiments[name]
