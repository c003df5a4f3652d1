"""The steering subsystem against analytic answers: raw channels, need-gated valence (learned
pointers), the anticipation criterion, signal strength by source, relief and the rewiring rule."""

from __future__ import annotations

import inspect
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from shardlab.brain import cortex as cortex_
from shardlab.brain import steering as steering_
from shardlab.worlds import SENSATIONS

S = {name: i for i, name in enumerate(SENSATIONS)}
R = {name: i for i, name in enumerate(steering_.REACTIONS)}
K = len(steering_.REACTIONS)
ZERO = jnp.zeros(K)

_step = jax.jit(steering_.step)
_valence = jax.jit(steering_.valence)
_detect = jax.jit(steering_.detect)


def sens(**values: float) -> jax.Array:
    v = np.zeros(len(SENSATIONS), np.float32)
    for name, x in values.items():
        v[S[name]] = x
    return jnp.asarray(v)


def channel(**values: float) -> jax.Array:
    v = np.zeros(K, np.float32)
    for name, x in values.items():
        v[R[name]] = x
    return jnp.asarray(v)


def state_of(**config) -> steering_.SteeringState:
    return steering_.init(steering_.SteeringConfig(**config))


def test_the_steering_subsystem_cannot_read_the_latent_and_learns_nothing() -> None:
    for fn in (steering_.step, steering_.detect, steering_.valence, steering_.reading,
               steering_.innate_reward):  # fmt: skip
        params = inspect.signature(fn).parameters
        assert "z" not in params and "latent" not in params, fn.__name__
    assert "reward" not in inspect.signature(cortex_.loss).parameters
    assert "reward" not in inspect.signature(cortex_.update).parameters
    # Its state is its rewiring state and its config as data: nothing else changes.
    state = state_of()
    for s in (sens(pain=1.0), sens(sweet=1.0, hunger=0.5), sens(stimulation=1.0)):
        state, _ = _step(state, s, jnp.ones(K), jnp.ones(K), jnp.ones(K))
    for got, want in zip(state.params, state_of().params, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_channels_are_raw_and_need_enters_only_in_the_weights() -> None:
    state = state_of()
    # The detectors report the taste, whatever the need.
    for need in (0.0, 1.0):
        got = _detect(state, sens(salt=1.0, salt_need=need, sweet=0.5, hunger=need))
        assert float(got[R["salt"]]) == 1.0 and float(got[R["sweet"]]) == 0.5
    # Reward weighs them by need: salt aversive when sated, appetitive when deprived.
    reward = lambda s: float(_step(state, s, ZERO, ZERO, ZERO)[1].reward)  # noqa: E731
    assert reward(sens(salt=1.0, salt_need=0.0)) == pytest.approx(-1.0)
    assert reward(sens(salt=1.0, salt_need=1.0)) == pytest.approx(1.0)
    assert reward(sens(sweet=1.0, hunger=1.0)) == pytest.approx(1.2)
    # The electrode is a channel of its own, wired into reward by its innate weight.
    wired = _step(state, sens(stimulation=2.0), ZERO, ZERO, ZERO)[1]
    electrode = steering_.SteeringConfig().valence[R["stimulation"]]
    assert float(wired.reward) == pytest.approx(2.0 * electrode)
    assert float(wired.innate[R["stimulation"]]) == 2.0


def test_pointer_valence_flips_sign_with_need_on_fixed_assessor_outputs() -> None:
    """The same thought ("salt is coming", fixed assessor outputs) is bad when sated and good
    when deprived: no relearning, only the steering subsystem's reading changes."""
    salt_coming = channel(salt=0.8)
    pointers = state_of()
    sated, deprived = sens(salt_need=0.0), sens(salt_need=1.0)
    assert float(_valence(pointers, sated, salt_coming)) == pytest.approx(-0.8)
    assert float(_valence(pointers, deprived, salt_coming)) == pytest.approx(0.8)
    # The ablation reads the innate weights alone: the sign is whatever was learned.
    ablation = state_of(pointers=False)
    assert float(_valence(ablation, sated, salt_coming)) == float(
        _valence(ablation, deprived, salt_coming)
    )
    # ... because there the need is baked into what the assessors learn.
    salt = sens(salt=1.0, salt_need=0.0)
    assert float(_step(pointers, salt, ZERO, ZERO, ZERO)[1].targets[R["salt"]]) == 1.0
    assert float(_step(ablation, salt, ZERO, ZERO, ZERO)[1].targets[R["salt"]]) == -1.0
    # The rise in the thought's valence enters reward at `thought_reward`, and only there: the
    # first thought rises from 0, the same thought again pays nothing, and a worse one costs.
    for weight in (0.0, 0.3):
        state, out = _step(state_of(thought_reward=weight), deprived, salt_coming, ZERO, ZERO)
        assert float(out.reward) == pytest.approx(weight * 0.8)
        assert float(out.valence) == pytest.approx(0.8)
        state, again = _step(state, deprived, salt_coming, ZERO, ZERO)
        assert float(again.reward) == pytest.approx(0.0, abs=1e-7)
        assert float(_step(state, sated, salt_coming, ZERO, ZERO)[1].reward) == pytest.approx(
            weight * (-0.8 - 0.8))


def test_anticipation_pays_for_issued_reactions_the_detectors_confirm() -> None:
    state = state_of(anticipation=0.25, calm_after=100)
    spider = sens(periphery_motion=1.0)
    base = float(_step(state, spider, ZERO, ZERO, ZERO)[1].reward)
    assert base == pytest.approx(-0.5)
    issued = channel(threat=0.6)
    got = float(_step(state, spider, ZERO, issued, ZERO)[1].reward)
    assert got - base == pytest.approx(0.25 * 1.0 * 0.6)
    assert float(_step(state, sens(), ZERO, issued, ZERO)[1].reward) == 0.0  # nothing came
    # Issued threat is a recommendation: it does not make the body's fear reaction larger.
    out = _step(state, sens(), ZERO, issued, ZERO)[1]
    assert float(out.reactions[R["threat"]]) == 0.0
    off = state_of(anticipation=0.0, calm_after=100)
    assert float(_step(off, spider, ZERO, issued, ZERO)[1].reward) == pytest.approx(base)


def test_issued_calm_preempts_the_fear_reaction() -> None:
    spider, calm = sens(periphery_motion=1.0), channel(calm=0.75)
    on = _step(state_of(), spider, ZERO, calm, ZERO)[1]
    assert float(on.reactions[R["threat"]]) == pytest.approx(0.25)
    assert float(on.innate[R["threat"]]) == 1.0  # the detector still saw it
    off = _step(state_of(preemption=False), spider, ZERO, calm, ZERO)[1]
    assert float(off.reactions[R["threat"]]) == 1.0


@pytest.mark.parametrize("gain,length", [(1.0, 1), (1.0, 5), (0.3, 2), (0.05, 3)])
def test_relief_never_pays_more_than_the_threat_cost(gain: float, length: int) -> None:
    """A threat of any strength and duration, then quiet: relief's total reward is the calm
    weight times the threat's strength, never more than the fear cost."""
    state = state_of()._replace(fear_gain=jnp.float32(gain))
    rewards = []
    for s in [sens(periphery_motion=1.0)] * length + [sens()] * 30:
        state, out = _step(state, s, ZERO, ZERO, ZERO)
        rewards.append(float(out.reward))
    cost, relief = -sum(r for r in rewards if r < 0), sum(r for r in rewards if r > 0)
    assert cost == pytest.approx(0.5 * gain * length, rel=1e-5)
    assert relief == pytest.approx(0.1 * gain, rel=1e-5)
    assert sum(rewards) < 0  # a brief threat never pays


def test_calm_is_relief_after_a_threat_not_a_standing_state() -> None:
    state = state_of(calm_after=4, relief=8)
    calm = []
    for s in [sens()] * 20 + [sens(pain=1.0)] + [sens()] * 20:
        state, out = _step(state, s, ZERO, ZERO, ZERO)
        calm.append(float(out.innate[R["calm"]]))
    assert calm[:21] == [0.0] * 21  # never threatened: never calm
    np.testing.assert_allclose(calm[21:], [0.0] * 4 + [1 / 8] * 8 + [0.0] * 8)
    assert int(state.since_threat) == 20
    quiet = state._replace(since_threat=jnp.int32(steering_.LONG_AGO))
    assert int(_step(quiet, sens(), ZERO, ZERO, ZERO)[0].since_threat) == steering_.LONG_AGO


def _episodes(state, n: int, felt_fear: float | None = None) -> list[float]:
    """n fear episodes, each followed by quiet until relief: real spiders, or (felt_fear) an
    imagined spider whose learned calm follows it, felt at that strength."""
    gains = []
    for _ in range(n):
        if felt_fear is None:
            ticks = [(sens(periphery_motion=1.0), ZERO)] + [(sens(), ZERO)] * 14
        else:
            ticks = [(sens(), channel(threat=felt_fear)), (sens(), channel(calm=felt_fear))]
            ticks += [(sens(), ZERO)] * 8
        for s, felt in ticks:
            state, _ = _step(state, s, ZERO, ZERO, felt)
        gains.append(float(state.fear_gain))
    return gains


def test_habituation_has_no_floor_and_pain_sensitises() -> None:
    state = state_of(rewiring_rate=0.3)
    gains = _episodes(state, 12)
    # Each episode: gain ← gain·(1 − rate·fear), with fear = the gain itself (motion 1).
    expected, g = [], 1.0
    for _ in range(12):
        g *= 1.0 - 0.3 * g
        expected.append(g)
    np.testing.assert_allclose(gains, expected, rtol=1e-5)
    assert gains[-1] < 0.3  # well past the old 0.5 threshold, where it used to stall
    # Rewiring off: the gain never moves.
    assert _episodes(state_of(rewiring=False), 3) == [1.0] * 3
    # Pain right after fear sensitises: gain += sensitisation·fear·(1 − gain).
    weak = state_of()._replace(fear_gain=jnp.float32(0.6))
    weak, _ = _step(weak, sens(periphery_motion=1.0), ZERO, ZERO, ZERO)
    weak, _ = _step(weak, sens(pain=1.0), ZERO, ZERO, ZERO)
    assert float(weak.fear_gain) == pytest.approx(0.6 + 0.5 * 0.6 * 0.4)
    # Pain with no fear before it does not.
    lone = state_of()._replace(fear_gain=jnp.float32(0.6))
    lone, _ = _step(lone, sens(pain=1.0), ZERO, ZERO, ZERO)
    assert float(lone.fear_gain) == pytest.approx(0.6)


def test_imagined_and_remembered_fear_rewire_by_their_gain() -> None:
    """A felt fear rewires in proportion to its strength: the same imagined spider at the
    imagination gain moves the gain by that fraction of what it moves at gain 1."""
    rate = 0.2
    for gain in (1.0, 0.5, 0.3):
        got = _episodes(state_of(rewiring_rate=rate), 1, felt_fear=gain)[0]
        assert got == pytest.approx(1.0 - rate * gain)
    # The felt channels earn no reward: imagining is not living it.
    out = _step(state_of(), sens(), ZERO, ZERO, channel(threat=1.0, pain=1.0))[1]
    assert float(out.reward) == 0.0


def test_config_is_data_and_checked() -> None:
    a, b = state_of(), state_of(thought_reward=0.0, pointers=False, relief=3)
    assert jax.tree.structure(a) == jax.tree.structure(b)
    with pytest.raises(ValueError, match="one weight per reaction"):
        steering_.init(replace(steering_.SteeringConfig(), valence=(1.0, 2.0)))
