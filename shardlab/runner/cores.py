"""Every CPU core as a JAX device of its own, so a population's agents train in parallel.

XLA runs one program on one CPU device, and the brain's small per-agent matrix products do not
spread across threads: a population used one core whatever the machine had. With a device per
core, `population.train` splits its agents across them (each core runs its share of the same
program). On an idle 2-core machine (`bench agent`, foraging, 128,000 steps) 256 agents trained
at 29,800 steps/s on one device and 38,300–38,600 split in two; 128 agents at 20,700 and
47,800–48,500. Every agent draws the random numbers it drew on one device (JAX's threefry keys
are partitionable), so the actions are the same; the learned weights can differ in the last bit
of a float, as XLA compiles the split program's arithmetic in another order.

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
