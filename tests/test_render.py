"""Rendering: RGB frames, ANSI text, an episode as a GIF and as a PNG strip."""

import jax
import numpy as np
from PIL import Image

from shardlab.worlds import make, render


def test_rgb_ansi_gif_and_strip(tmp_path) -> None:
    world = make("trash-button")
    params = world.default_params("test")
    states = render.rollout(world, params, jax.random.key(0), [1, 1, 2, 2, 5, 3], 6)
    frames = [render.rgb(world, s, params, tile=8) for s in states]
    assert frames[0].shape == (world.height * 8, world.width * 8, 3)
    assert frames[0].dtype == np.uint8
    text = render.ansi(world, states[-1], params)
    assert text.count("@") == 1 and len(text.splitlines()) == world.height and "B" in text
    gif = render.save_gif(frames, tmp_path / "episode.gif")
    strip = render.save_strip(frames, tmp_path / "episode.png", columns=4)
    frames_in_gif = Image.open(gif).n_frames  # identical consecutive frames are merged
    assert frames_in_gif > 1
    assert frames_in_gif <= len(frames)
    assert Image.open(strip).size == (4 * (world.width * 8 + 2), 2 * (world.height * 8 + 2))
