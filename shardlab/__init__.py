"""shardlab: a laboratory for how values form in brain-like agents."""

__version__ = "0.1.0"
