"""Vectorised JAX grid worlds that emit sensations, never reward."""

from shardlab.worlds.catalog import SCENARIOS, make, scenario
from shardlab.worlds.engine import EnvParams, EnvState, World
from shardlab.worlds.scenario import (
    ACTIONS,
    DRIVES,
    ITEMS,
    PHASES,
    SENSATIONS,
    ObjectKind,
    Scenario,
    Spawn,
    Supervisor,
)

__all__ = [
    "ACTIONS", "DRIVES", "ITEMS", "PHASES", "SCENARIOS", "SENSATIONS", "EnvParams", "EnvState",
    "ObjectKind", "Scenario", "Spawn", "Supervisor", "World", "make", "scenario",
]
