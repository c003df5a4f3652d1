"""shardlab: a laboratory for how values form in brain-like agents.

Importing the package registers every scenario with Gymnasium (`shardlab/<Name>-v0`), lightly:
nothing heavier than Gymnasium is imported until an environment is made.
"""

from shardlab.envs import register_envs

__version__ = "0.1.0"

register_envs()
