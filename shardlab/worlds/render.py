"""Pictures of worlds for the researcher: RGB frames, ANSI text, GIFs and PNG strips.

The renderer shows everything, including objects the agent cannot see (outlined), and shades the
cells outside the agent's egocentric view — the researcher's view, not the agent's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from shardlab.worlds.engine import EnvParams, EnvState, World

WALL, FLOOR, AGENT = (60, 60, 60), (235, 235, 225), (30, 90, 220)


def _present(world: World, state: EnvState, params: EnvParams) -> np.ndarray:
    return np.asarray(world._present(state, params, state.t))


def rgb(world: World, state: EnvState, params: EnvParams, tile: int = 16) -> np.ndarray:
    """(H·tile, W·tile, 3) uint8 image of one (unbatched) state."""
    h, w = world.height, world.width
    img = np.empty((h, w, 3), np.uint8)
    img[:] = FLOOR
    img[np.asarray(state.walls)] = WALL
    big = np.repeat(np.repeat(img, tile, 0), tile, 1)
    kinds = world.scenario.kinds
    visible = np.asarray(params.visible)
    for slot in np.flatnonzero(_present(world, state, params)):
        kind = int(state.kind[slot])
        r, c = (int(x) * tile for x in state.slot_pos[slot])
        pad = tile // 8
        if visible[kind]:
            big[r + pad : r + tile - pad, c + pad : c + tile - pad] = kinds[kind].color
        else:  # hidden from the agent: outline only
            big[r + pad : r + tile - pad, c + pad : c + pad + 2] = kinds[kind].color
            big[r + pad : r + tile - pad, c + tile - pad - 2 : c + tile - pad] = kinds[kind].color
            big[r + pad : r + pad + 2, c + pad : c + tile - pad] = kinds[kind].color
            big[r + tile - pad - 2 : r + tile - pad, c + pad : c + tile - pad] = kinds[kind].color
    ar, ac = (int(x) for x in state.pos)
    yy, xx = np.mgrid[0:tile, 0:tile]
    disc = (yy - tile / 2 + 0.5) ** 2 + (xx - tile / 2 + 0.5) ** 2 <= (tile / 2.6) ** 2
    cell = big[ar * tile : (ar + 1) * tile, ac * tile : (ac + 1) * tile]
    cell[disc] = AGENT
    rows, cols = np.mgrid[0:h, 0:w]
    outside = (np.abs(rows - ar) > world.radius) | (np.abs(cols - ac) > world.radius)
    shade = np.repeat(np.repeat(outside, tile, 0), tile, 1)
    big[shade] = (big[shade] * 0.6).astype(np.uint8)
    return big


def ansi(world: World, state: EnvState, params: EnvParams) -> str:
    """Text picture: '#' walls, '.' floor, kind glyphs, '@' the agent."""
    grid = np.where(np.asarray(state.walls), "#", ".").astype(object)
    for slot in np.flatnonzero(_present(world, state, params)):
        r, c = (int(x) for x in state.slot_pos[slot])
        grid[r, c] = world.scenario.kinds[int(state.kind[slot])].glyph
    r, c = (int(x) for x in state.pos)
    grid[r, c] = "@"
    return "\n".join("".join(row) for row in grid)


Policy = Callable[[jax.Array, jax.Array], jax.Array]  # (obs, key) -> action


def rollout(
    world: World, params: EnvParams, key: jax.Array, policy: Policy | Sequence[int], steps: int
) -> list[EnvState]:
    """States of one episode (stopping at its end): from a policy or a fixed action list."""
    step = jax.jit(world.step_env)
    obs, state = jax.jit(world.reset)(key, params)
    states = [state]
    for t in range(steps):
        key, k_act, k_step = jax.random.split(key, 3)
        action = jnp.int32(policy[t]) if isinstance(policy, Sequence) else policy(obs, k_act)
        obs, state, _, _, done = step(k_step, state, action, params)
        states.append(state)
        if bool(done):
            break
    return states


def save_gif(frames: Sequence[np.ndarray], path: str | Path, fps: int = 6) -> Path:
    path = Path(path)
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=1000 // fps, loop=0)
    return path


def save_strip(frames: Sequence[np.ndarray], path: str | Path, columns: int = 8) -> Path:
    """Frames tiled left to right, top to bottom, with a 2-pixel gutter."""
    path = Path(path)
    h, w, _ = frames[0].shape
    rows = -(-len(frames) // columns)
    cols = min(columns, len(frames))
    sheet = np.full((rows * (h + 2), cols * (w + 2), 3), 255, np.uint8)
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = frame
    Image.fromarray(sheet).save(path)
    return path
