"""Gymnasium registration of every scenario as `shardlab/<Name>-v0`, done by `import shardlab`.

Entry points are strings, so registering imports neither JAX nor the engine; the first
`gymnasium.make` does. The scenario names are listed here for that reason, and a test keeps
them equal to the catalog's.
"""

import gymnasium

SCENARIO_NAMES = (
    "foraging", "trash", "trash-button", "trash-button-early", "trash-button-cue", "trash-press",
    "trash-press-early", "trash-press-cue", "money",
    "absent-supervisor", "absent-supervisor-hidden", "cheese-maze", "spider", "spider-safe",
    "spider-cue", "salt",
    "temptation", "tinted-rooms",
)


def env_id(scenario: str) -> str:
    """'trash-button' -> 'shardlab/TrashButton-v0'."""
    return "shardlab/" + "".join(part.capitalize() for part in scenario.split("-")) + "-v0"


def register_envs() -> None:
    """Register every scenario for `gymnasium.make` and `gymnasium.make_vec` (idempotent)."""
    for name in SCENARIO_NAMES:
        if env_id(name) not in gymnasium.registry:
            gymnasium.register(
                env_id(name),
                entry_point="shardlab.worlds.gym:ShardlabEnv",
                vector_entry_point="shardlab.worlds.gym:ShardlabVectorEnv",
                kwargs={"scenario": name},
            )
