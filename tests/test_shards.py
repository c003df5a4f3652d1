"""The shard-analysis tool against planted answers: an exact decomposition, a probe that recovers
a planted linear feature, a planted shard found by name and active only in its context."""

import jax
import numpy as np
import pytest

from shardlab.analysis import shards
from shardlab.brain import agent
from shardlab.brain import basal_ganglia as bg
from shardlab.worlds import ACTIONS, make

Z, A = 16, len(ACTIONS)


@pytest.fixture
def planted():
    """Latents with a planted binary feature along a known direction, and an actor whose only
    shard is that feature → "right"."""
    rng = np.random.default_rng(0)
    n = 400
    direction = rng.normal(size=Z)
    direction /= np.linalg.norm(direction)
    feature = (rng.random(n) < 0.5).astype(float)
    other = rng.normal(size=(n, 3))
    noise_dirs = rng.normal(size=(3, Z))
    noise_dirs -= (noise_dirs @ direction)[:, None] * direction  # orthogonal to the feature
    latents = 2.0 * feature[:, None] * direction + other @ noise_dirs
    action = ACTIONS.index("right")
    actor_w = 3.0 * np.outer(direction, np.eye(A)[action])
    params = bg.init(Z, A)._replace(actor_w=actor_w, actor_b=np.linspace(-1, 1, A))
    features = np.stack([feature, other[:, 0]], 1)
    return params, latents, features, feature.astype(bool)


def test_decomposition_sums_to_logits(planted):
    params, latents, _, _ = planted
    params = params._replace(actor_w=np.random.default_rng(1).normal(size=(Z, A)))
    parts = shards.decompose(params, latents[:10])
    assert parts.shape == (10, Z, A)
    logits = np.asarray(bg.actor_logits(params, latents[:10].astype(np.float32)))
    np.testing.assert_allclose(parts.sum(-2) + params.actor_b, logits, atol=1e-4)
    assert shards.decomposition_error(params, latents[:10]) < 1e-4


def test_probe_recovers_planted_feature(planted):
    _, latents, features, _ = planted
    p = shards.probe(latents, features, ["food visible", "other"])
    assert p.names == ("food visible", "other")
    assert p.r2[0] > 0.99 and p.r2[1] > 0.99
    pred = p.activation(latents)[:, 0]
    np.testing.assert_allclose(pred, features[:, 0], atol=0.05)


def test_name_shards_finds_planted_shard(planted):
    params, latents, features, _ = planted
    p = shards.probe(latents, features, ["food visible", "other"])
    table = shards.name_shards(params, p, min_r2=0.9)
    best = table.iloc[0]
    assert (best.feature, best.action) == ("food visible", "right")
    # 3 logits per unit along the direction, and one unit of feature is 2 units along it.
    assert best.strength == pytest.approx(6.0, rel=0.05)
    assert best.cosine == pytest.approx(1.0, abs=1e-3)
    assert table.iloc[1:]["strength"].abs().max() < 0.1
    assert len(shards.name_shards(params, p, top=1)) == A


def test_strength_is_contextual_and_tracked(planted, tmp_path):
    params, latents, features, on = planted
    p = shards.probe(latents, features, ["food visible", "other"])
    contexts = {"food visible": on, "no food": ~on}
    df = shards.shard_strength(params, latents, contexts, p)
    shard = df[df["shard"] == "food visible → right"].set_index("context")["strength"]
    assert shard["food visible"] > 1.0 > 0.1 > shard["no food"]
    chosen = shards.shard_strength(params, latents, contexts, p, chosen=np.full(len(on), 1))
    assert set(chosen["action"]) == {"chosen"}
    # Over "training": the shard grows with the actor's weight.
    snaps = [
        shards.Snapshot(step, params._replace(actor_w=params.actor_w * step / 2), latents)
        for step in range(3)
    ]
    tracked = shards.track(snaps, contexts, features=features_frame(features))
    series = tracked[(tracked["shard"] == "food visible → right")
                     & (tracked["context"] == "food visible")]["strength"].to_numpy()
    assert np.all(np.diff(series) > 0.5)
    assert shards.plot_strengths(tracked, tmp_path / "track.png").stat().st_size > 1000
    assert shards.plot_strengths(df, tmp_path / "bars.png").stat().st_size > 1000


def features_frame(features):
    import pandas as pd

    return pd.DataFrame(features, columns=["food visible", "other"])


def test_world_features_on_foraging():
    world = make("foraging")
    env = world.default_params()
    obs = shards.sample_observations(world, env, jax.random.PRNGKey(0), 64)
    feats = shards.world_features(world, obs)
    assert {"food visible", "food up", "food left", "hunger", "carrying trash"} <= set(feats)
    v, c = world.view, world.n_channels
    food_channel = obs[:, : v * v * c].reshape(-1, v, v, c)[..., 1]
    np.testing.assert_array_equal(feats["food visible"] > 0, food_channel.max((1, 2)) > 0.5)
    assert 0 < feats["food visible"].mean() < 1
    assert np.all(feats["hunger"].between(0, 1)) and feats["hunger"].std() > 0
    # Directions agree with where the food is in the view.
    i = int(np.flatnonzero(feats["food up"] > 0)[0])
    rows = np.nonzero(food_channel[i] > 0.5)[0]
    assert rows.min() < world.radius


def test_attribute_splits_the_choice_across_the_policy_terms():
    """Planted terms over 4 states: the actor decides in context "a", the PFC in "b". Each
    term's push is its logit for the chosen action minus its mean; the pushes sum to the whole
    policy's, and the shares say who chose."""
    actor = np.array([[2.0, 0.0], [2.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    pfc = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 3.0], [0.0, 3.0]])
    habit = np.array([[0.5, 0.0]] * 4)
    terms = agent.PolicyTerms(actor, habit, pfc, np.zeros((4, 2)))
    contexts = {"a": np.array([1, 1, 0, 0], bool), "b": np.array([0, 0, 1, 1], bool)}
    df = shards.attribute(terms, contexts).set_index(["context", "term"])
    assert df.loc[("a", "actor"), "push"] == pytest.approx(1.0)  # chose 0: 2 − mean(2, 0)
    assert df.loc[("a", "pfc"), "push"] == 0.0
    assert df.loc[("b", "pfc"), "push"] == pytest.approx(1.5)  # chose 1
    assert df.loc[("b", "habit"), "push"] == pytest.approx(-0.25)  # it pushed the other way
    assert df.loc[("a", "actor"), "share"] == pytest.approx(1.0 / 1.25)
    total = df.groupby("context")["push"].sum()
    assert total["a"] == pytest.approx(1.25) and total["b"] == pytest.approx(1.25)
    assert set(df["n"]) == {2}
    with pytest.raises(ValueError, match="mask"):
        shards.attribute(terms, {"bad": np.ones(3, bool)})
