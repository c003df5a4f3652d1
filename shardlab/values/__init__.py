"""Value learning through a low-dimensional bottleneck: the Abbeel & Ng bound, IRL on grid MDPs,
Bradley–Terry preference learning, decomposition of preference data and elbow detection.

Pure JAX/numpy functions over explicit arrays; a sweep over reward dimension k, data size and seeds
is one compiled `vmap` call, with k padded to a common width and masked.
"""
