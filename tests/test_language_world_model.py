"""The linguistic world model: geometry moves with co-occurrence alone, the valence head
recovers a planted valence, and culture is sampled as declared."""

import jax
import jax.numpy as jnp
import numpy as np

from shardlab.language import culture, world_model

POOLS = {"a": ("x", "y"), "b": tuple(f"n{i}" for i in range(10))}
VOCAB = {w: i for i, w in enumerate(POOLS["a"] + POOLS["b"])}
CULTURE = culture.Culture(POOLS, sentences_per_step=8, sentence_length=4)
SHAPE = culture.Shape(kinds=2, fixed=2, pool=10)


def _phase(*mentions: culture.Mention) -> culture.CompiledPhase:
    return culture.compile_phase(CULTURE, culture.Phase(50, mentions), VOCAB, SHAPE)


def test_sentences_follow_the_declared_culture() -> None:
    phase = _phase(culture.Mention("b", ("x", "y"), 1.0), culture.Mention("b", (), 0.0))
    sentences = np.asarray(culture.sample_sentences(phase, jax.random.key(0), 200, 4))
    assert (sentences[:, 0] == VOCAB["x"]).all() and (sentences[:, 1] == VOCAB["y"]).all()
    assert set(sentences[:, 2:].ravel()) <= {VOCAB[w] for w in POOLS["b"]}


def test_planted_co_occurrence_moves_the_geometry() -> None:
    """x and y start unrelated; a corpus that co-mentions them draws them together, and a
    frozen world model (learning rate 0) reading the same corpus does not move."""
    base = jnp.asarray(np.random.default_rng(0).standard_normal((12, 16)) / 4, jnp.float32)
    phase = _phase(culture.Mention("b", ("x", "y"), 1.0), culture.Mention("b", (), 1.0))
    config = world_model.WorldModelConfig(lr=0.05, sentences_per_step=8, sentence_length=4)

    def cosine(model: world_model.WorldModel) -> float:
        z = np.asarray(world_model.concepts(model))
        x, y = z[VOCAB["x"]], z[VOCAB["y"]]
        return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))

    start = world_model.init(base)
    learned = world_model.learn(config, start, phase, jax.random.key(1), 100, 1.0)
    frozen = world_model.learn(config, start, phase, jax.random.key(1), 100, 0.0)
    assert cosine(learned) > cosine(start) + 0.1
    assert cosine(frozen) == cosine(start)


def test_valence_head_recovers_a_planted_linear_valence() -> None:
    """Trained on 150 grounded concepts, the head predicts the other 50 by generalisation."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 8)).astype(np.float32) / np.sqrt(8)
    innate = z @ rng.standard_normal(8).astype(np.float32)
    mask = np.arange(200) < 150
    head = world_model.ground(world_model.HeadConfig(), jnp.asarray(z), jnp.asarray(innate),
                              jnp.asarray(mask), jax.random.key(0))
    assessed = np.asarray(world_model.assess(head, jnp.asarray(z)))
    assert np.corrcoef(assessed[~mask], innate[~mask])[0, 1] > 0.95
