"""A persistent XLA compilation cache, so a brain is compiled once per machine, not per run; and
a count of the programs compiled, to check that a run reuses what an earlier one compiled.

Compiling a population of agents takes far longer than running a quick experiment, and every
seed worker is a fresh process. With the cache on disk, the second run (and every other worker)
loads the compiled program instead. `SHARDLAB_JAX_CACHE=""` turns it off.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def count_compiles() -> Iterator[Callable[[], int]]:
    """Count the programs lowered for compilation within the block (a jit cache miss lowers
    before it looks in the persistent cache, so every recompile counts)."""
    events: list[str] = []

    def listen(event: str, *_: object, **__: object) -> None:
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield lambda: len(events)
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
