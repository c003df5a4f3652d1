"""The text encoders: the two MiniLM backends check each other; the cache round-trips."""

import numpy as np
import pytest

from shardlab.errors import ShardlabError
from shardlab.language import encoders

WORDS = ["good", "bad", "wonderful", "terrible", "table", "love", "hate", "calm", ":)", "meh",
         "the quick brown fox", "unbelievably", "war", "peace", "sunshine", "grief"]


def test_jax_and_onnx_minilm_agree(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(encoders.CACHE_ENV, str(tmp_path))
    jax_rows = encoders.load("minilm").encode(WORDS)
    onnx_rows = encoders.load("minilm-onnx").encode(WORDS)
    assert jax_rows.shape == onnx_rows.shape == (len(WORDS), 384)
    assert np.allclose(np.linalg.norm(jax_rows, axis=1), 1, atol=1e-5)
    assert (jax_rows * onnx_rows).sum(1).min() >= 0.99
    # The cache answers the second call, in the order asked, and never holds a pickle.
    cached = encoders.load("minilm").encode(WORDS[::-1])
    assert np.allclose(cached, jax_rows[::-1])
    [store] = tmp_path.glob("minilm-[0-9a-f]*.npz")
    with np.load(store, allow_pickle=False) as data:
        assert sorted(data["texts"].tolist()) == sorted(WORDS)


@pytest.mark.parametrize("name", ["chars", "random"])
def test_contrast_encoders_are_fixed_and_normalised(name: str) -> None:
    encoder = encoders.load(name)
    rows = encoder.encode(WORDS)
    assert rows.shape == (len(WORDS), encoder.dim)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-5)
    assert np.array_equal(rows, encoder.encode(WORDS))


def test_spelling_is_all_chars_sees() -> None:
    good, goods, bad = encoders.load("chars").encode(["good", "goods", "bad"])
    assert good @ goods > good @ bad


def test_unknown_encoder_is_one_clear_error() -> None:
    with pytest.raises(ShardlabError, match="choose from minilm"):
        encoders.load("bert-large")
