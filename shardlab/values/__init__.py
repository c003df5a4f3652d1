"""Value learning through a low-dimensional bottleneck: the Abbeel & Ng bound, IRL on grid MDPs,
Bradley–Terry preference learning, decomposition of preference data and elbow detection.

Pure JAX/numpy functions over explicit arrays; a sweep over reward dimension k, data size and seeds
is one compiled `vmap` call, with k padded to a common width and masked.
"""

import jax


def prng_key(seed: int) -> jax.Array:
    """A PRNG key on XLA's RngBitGenerator ("rbg") rather than threefry: threefry's compile time
    grows steeply with the random arrays drawn inside one program (a sweep over k, N and seeds
    draws millions; 576k uniforms took 48 s to compile on CPU), rbg's does not."""
    return jax.random.key(seed, impl="rbg")
