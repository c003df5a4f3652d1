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
    a, b, wr, wc = (jnp.asarray(x, jnp.int32) for x in np.array(edges).T)
    walls = np.ones((height, width), bool)
    walls[1 : 2 * rows : 2, 1 : 2 * cols : 2] = False
    k_start, k_edges = jax.random.split(key)
    start = jax.random.randint(k_start, (), 0, n)
    score = jax.random.uniform(k_edges, a.shape)

    def grow(carry: tuple[Array, Array], _: None) -> tuple[tuple[Array, Array], None]:
        in_tree, walls = carry
        frontier = in_tree[a] != in_tree[b]
        e = jnp.argmax(jnp.where(frontier, score, -1.0))
        in_tree = in_tree.at[a[e]].set(True).at[b[e]].set(True)
        return (in_tree, walls.at[wr[e], wc[e]].set(False)), None

    in_tree = jnp.zeros(n, bool).at[start].set(True)
    (_, walls_out), _ = jax.lax.scan(grow, (in_tree, jnp.asarray(walls)), None, length=n - 1)
    return walls_out
