"""A persistent XLA compilation cache, so a brain is compiled once per machine, not per run.

Compiling a population of agents takes far longer than running a quick experiment, and every
seed worker is a fresh process. With the cache on disk, the second run (and every other worker)
loads the compiled program instead. `SHARDLAB_JAX_CACHE=""` turns it off.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

DEFAULT = Path.home() / ".cache" / "shardlab" / "jax"


def enable_compilation_cache() -> None:
    path = os.environ.get("SHARDLAB_JAX_CACHE", str(DEFAULT))
    if not path:
        return
    Path(path).mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 2.0)
