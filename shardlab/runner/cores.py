"""Every CPU core as a JAX device of its own, so a population's agents train in parallel.

XLA runs one program on one CPU device, and the brain's small per-agent matrix products do not
spread across threads: a population used one core whatever the machine had. With a device per
core, `population.train` splits its agents across them, one part per device, and the parts never
meet (see `population._chunk`). Every world and agent draws the random numbers it draws on one
device, so a split population takes the same actions. Its floats can still differ in the last
bit, as XLA compiles some reductions of the smaller per-device batch in another order: over 600
ticks of 16 foragers every weight was the same, and the policy's terms and the replay
optimiser's moments differed by at most 7e-7. On an idle 2-core machine (foraging, 128 agents
of 1,000 ticks) one device trained at about 57,000 steps/s, the two devices at 85,000–93,000
(CPU 1.9–2.0 cores); while the parts met a few dozen times a tick (the worlds' resets gathered
across the whole batch), at 60,000–68,000 (CPU 1.5–1.7 cores).

The setting only takes effect before JAX starts its backend, so entry points call it first.
"""

from __future__ import annotations

import contextlib
import os

import jax


def use_all_cores() -> None:
    """Make each CPU core a JAX device; a no-op once JAX has started (the count is then fixed)."""
    with contextlib.suppress(RuntimeError):
        jax.config.update("jax_num_cpu_devices", os.cpu_count() or 1)
