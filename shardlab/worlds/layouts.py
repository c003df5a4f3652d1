"""Wall layouts: an open room, a random maze (randomised Prim), or a fixed ASCII map."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


def open_room(height: int, width: int) -> Array:
    """Walls on the border only."""
    walls = np.ones((height, width), bool)
    walls[1:-1, 1:-1] = False
    return jnp.asarray(walls)


def ascii_map(rows: tuple[str, ...]) -> Array:
    return jnp.asarray(np.array([[ch == "#" for ch in row] for row in rows]))


def random_maze(key: Array, height: int, width: int) -> Array:
    """A perfect maze: the minimum spanning tree of random edge weights, grown by Prim's
    algorithm on the odd-coordinate cells.

    Every open cell is reachable and there are no loops, as in the procgen maze the shard-theory
    team studied. Drawing the weights once (not per iteration) keeps resets cheap; a fixed number
    of iterations keeps it jit-able and vmap-able.
    """
    rows, cols = (height - 1) // 2, (width - 1) // 2
    n = rows * cols
    # Edges between neighbouring cells: (cell a, cell b, wall row, wall col).
    edges = []
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                edges.append((r * cols + c, r * cols + c + 1, 2 * r + 1, 2 * c + 2))
            if r + 1 < rows:
                edges.append((r * cols + c, (r + 1) * cols + c, 2 * r + 2, 2 * c + 1))
    a, b, wr, wc = jnp.asarray(np.array(edges, np.int32).reshape(-1, 4).T)
    k_start, k_edges = jax.random.split(key)
    start = jax.random.randint(k_start, (), 0, n)
    # Random weights with each edge's index in the low bits, so one integer `max` yields both the
    # best frontier edge and which edge it is: reductions (argmax most of all) are what this loop
    # spends its time on under vmap. The weights stay distinct, so the spanning tree is unique.
    tag = max(len(edges) - 1, 1).bit_length()
    bits = jax.random.bits(k_edges, a.shape) >> 1  # 31 bits: positive as int32, above any -1
    weight = (bits >> tag << tag | jnp.arange(a.shape[0], dtype=jnp.uint32)).astype(jnp.int32)
    low = (1 << tag) - 1

    # Per edge, whether each end is in the tree; updated by comparison rather than by indexing a
    # per-cell array, because gathers and scatters run element by element under vmap on a CPU.
    def grow(ends: tuple[Array, Array], _: None) -> tuple[tuple[Array, Array], Array]:
        a_in, b_in = ends
        e = jnp.max(jnp.where(a_in != b_in, weight, -1)) & low
        joined = (a == a[e]) | (a == b[e]), (b == a[e]) | (b == b[e])
        return (a_in | joined[0], b_in | joined[1]), e

    _, chosen = jax.lax.scan(grow, (a == start, b == start), None, length=n - 1)
    walls = np.ones((height, width), bool)
    walls[1 : 2 * rows : 2, 1 : 2 * cols : 2] = False
    opened = jnp.zeros((height, width), bool).at[wr[chosen], wc[chosen]].set(True)
    return jnp.asarray(walls) & ~opened
