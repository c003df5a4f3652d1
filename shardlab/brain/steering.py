"""The steering subsystem (brainstem/hypothalamus): innate, narrow, not trained by gradient.

It reads raw sensations, its own interoceptive state and the cortex's *output channels* (what
the thought assessors predict and what the cortex issues), never the latent state z, which no
signature here accepts. Its k reaction channels are raw and need-independent (a salt taste is a
salt taste); need enters only here, when the channels are weighed into reward and valence, so an
assessor that learned "salt is coming" while sated becomes, the moment salt is needed, a pointer
to something good (seed 001's learned pointers). Its only plasticity is a hand-written dynamic
rewiring rule on the fear detector's gain (seed 002's exposure therapy).

Every number in `SteeringConfig` becomes data in `SteeringState.params`, so agents that differ
only in their steering subsystem share one compiled brain.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from shardlab.worlds.scenario import SENSATIONS

Array = jax.Array

REACTIONS: tuple[str, ...] = ("sweet", "salt", "pain", "approval", "threat", "stimulation", "calm")
"""The k raw reaction channels: what the innate detectors report and the thought assessors
predict. Everything the agent comes to value passes through these."""

ISSUABLE: tuple[str, ...] = ("threat", "calm")
"""The channels the cortex has output knobs for (stress and calming hormones). A taste, a pain
or an electrode's jolt cannot be issued, only predicted."""


@dataclass(frozen=True)
class Gains:
    """Signal strength by source (seed 002): the cortical channels are seen at 1 when they are a
    prediction of the present and more weakly when imagined, remembered or simulated for another."""

    imagination: float = 0.5
    memory: float = 0.3
    empathy: float = 0.5


@dataclass(frozen=True)
class SteeringConfig:
    valence: tuple[float, ...] = (1.0, 1.0, -1.0, 1.0, -0.5, 1.0, 0.1)  # innate weight per channel
    pointers: bool = True  # False: need baked into the assessors' targets (S4's ablation)
    thought_reward: float = 0.1  # weight of the rise in the thought's valence in reward (0: off)
    anticipation: float = 0.25  # criterion: pay for issued reactions the detectors then confirm
    preemption: bool = True  # issued calm lowers the fear reaction (exposure therapy's route 2)
    rewiring: bool = True  # calm after fear habituates the fear gain (route 1); pain sensitises
    rewiring_rate: float = 0.2  # habituation per fear episode, scaled by the fear's strength
    sensitisation: float = 0.5  # pain after fear restores the gain by this fraction of its loss
    rewiring_window: int = 6  # steps within which calm or pain must follow fear
    calm_after: int = 4  # quiet steps after pain or threat before relief ("safe and calm")
    relief: int = 8  # steps relief lasts; its total is the threat that passed, never more
    gains: Gains = Gains()


LONG_AGO = 10_000
"""Step counters saturate here: "never", or too long ago to matter to any window."""


class SteeringParams(NamedTuple):
    """`SteeringConfig` as data."""

    valence: Array  # (k,)
    pointers: Array  # bool
    thought_reward: Array
    anticipation: Array
    preemption: Array  # bool
    rewiring: Array  # bool
    rewiring_rate: Array
    sensitisation: Array
    rewiring_window: Array  # int
    calm_after: Array  # int
    relief: Array  # int
    imagination: Array
    memory: Array
    empathy: Array


class SteeringState(NamedTuple):
    fear_gain: Array  # the innate fear detector's gain, changed only by the rewiring rule
    since_fear: Array  # steps since a fear reaction (felt from any source)
    fear: Array  # strength of that fear reaction, which scales how much it rewires
    since_threat: Array  # steps since the body's last fear reaction or pain
    threat: Array  # the largest fear reaction or pain of that threat, which relief repays
    thought: Array  # the valence of the last thought, which a better thought is paid beyond
    params: SteeringParams


class SteeringOutput(NamedTuple):
    innate: Array  # (k,) what the innate detectors report
    reactions: Array  # (k,) the body's reaction: innate, with fear pre-empted by issued calm
    targets: Array  # (k,) what the thought assessors learn to predict
    reward: Array  # primary reward
    valence: Array  # the steering subsystem's valence of the current thought


def init(config: SteeringConfig) -> SteeringState:
    if len(config.valence) != len(REACTIONS):
        raise ValueError(f"valence needs one weight per reaction {REACTIONS}, "
                         f"got {len(config.valence)}")  # fmt: skip
    f, i = jnp.float32, jnp.int32
    params = SteeringParams(
        jnp.asarray(config.valence, jnp.float32), jnp.bool_(config.pointers),
        f(config.thought_reward), f(config.anticipation), jnp.bool_(config.preemption),
        jnp.bool_(config.rewiring), f(config.rewiring_rate), f(config.sensitisation),
        i(config.rewiring_window), i(config.calm_after), i(config.relief),
        f(config.gains.imagination), f(config.gains.memory), f(config.gains.empathy),
    )  # fmt: skip
    return SteeringState(f(1.0), i(LONG_AGO), f(0.0), i(LONG_AGO), f(0.0), f(0.0), params)


def sensation_vector(sensations: dict[str, Array]) -> Array:
    return jnp.stack([jnp.asarray(sensations[name], jnp.float32) for name in SENSATIONS], -1)


def issuable() -> Array:
    """(k,) 1 on the channels the cortex can issue."""
    return jnp.asarray([name in ISSUABLE for name in REACTIONS], jnp.float32)


def _get(s: Array, name: str) -> Array:
    return s[..., SENSATIONS.index(name)]


def need(sensations: Array) -> Array:
    """(k,) how much the body's current state wants each channel: sweetness is better when
    hungry, salt appetitive when salt-deprived and aversive when sated, the rest fixed."""
    one = jnp.ones_like(_get(sensations, "hunger"))
    appetite = 0.2 + _get(sensations, "hunger")
    salt = 2.0 * _get(sensations, "salt_need") - 1.0
    return jnp.stack([appetite, salt, one, one, one, one, one], -1)


def detect(state: SteeringState, sensations: Array) -> Array:
    """(k,) the innate detectors on raw sensations, independent of need. Calm is relief: it
    follows a threat that has passed, and its total over the relief window is that threat's
    strength, so relief never pays more than the threat cost."""
    p, g = state.params, lambda name: _get(sensations, name)  # noqa: E731
    quiet = state.since_threat - p.calm_after
    relieved = (quiet >= 0) & (quiet < p.relief)
    calm = jnp.where(relieved, state.threat / p.relief.astype(jnp.float32), 0.0)
    threat = state.fear_gain * g("periphery_motion")
    return jnp.stack([g("sweet"), g("salt"), g("pain"), g("feedback"), threat,
                      g("stimulation"), calm], -1)  # fmt: skip


def reading(state: SteeringState, sensations: Array) -> Array:
    """(k,) the weights valence(z) = Σⱼ wⱼ·Aⱼ(z) reads the assessors' outputs by. With learned
    pointers they are the innate weights at the current need; in the ablation the need is
    already in what the assessors learned, so they are the innate weights alone."""
    p = state.params
    return p.valence * jnp.where(p.pointers, need(sensations), 1.0)


def valence(state: SteeringState, sensations: Array, channels: Array) -> Array:
    """The valence of a thought, from the cortical channels it carries (already at its source's
    gain). This is how the steering subsystem judges thoughts it cannot see inside."""
    return channels @ reading(state, sensations)


def innate_reward(state: SteeringState, sensations: Array, reactions: Array | None = None) -> Array:
    """The reward the body's reactions (by default, the innate detectors' reports) carry at its
    current need: the part of reward that needs no cortex."""
    reactions = detect(state, sensations) if reactions is None else reactions
    return reactions @ (state.params.valence * need(sensations))


@functools.cache
def innate_reward_fn(
    config: SteeringConfig = SteeringConfig(),
) -> Callable[[Mapping[str, Any]], Array]:
    """The innate reward of a newborn body as a function of named sensations (one value or an
    array per name), jitted: the Gymnasium adapter's `reward_fn` that pays a learner without a
    steering subsystem what the brain's body would pay it."""
    state = init(config)

    def reward(sensations: Mapping[str, Any]) -> Array:
        s = sensation_vector(sensations)
        rows = jax.vmap(lambda row: innate_reward(state, row))(s.reshape(-1, s.shape[-1]))
        return rows.reshape(s.shape[:-1])

    return jax.jit(reward)


def step(
    state: SteeringState,
    sensations: Array,
    predicted: Array,
    issued: Array,
    felt: Array,
) -> tuple[SteeringState, SteeringOutput]:
    """One tick.

    `predicted` are the assessors' outputs for the current thought (gain 1); `issued` what the
    cortex issued for the previous one, which acts on the body now; `felt` the cortical channels
    of this tick's imagined and remembered thoughts, already at their sources' gains: they are
    felt, and rewire the fear gain by their strength, but earn no reward."""
    p = state.params
    innate = detect(state, sensations)
    issued = jax.lax.stop_gradient(issued)
    calm_issued = issued[REACTIONS.index("calm")]
    preempted = jnp.where(p.preemption, jnp.clip(1.0 - calm_issued, 0.0, 1.0), 1.0)
    threat = REACTIONS.index("threat")
    reactions = innate.at[threat].multiply(preempted)
    thought = valence(state, sensations, jax.lax.stop_gradient(predicted))
    # Seed 002's criterion: when a reaction is called for, reward the cortex if it issued it.
    anticipation = p.anticipation * jnp.sum(innate * issued)
    # A thought that is better than the last one is paid for the rise. Paying the level instead
    # pays for dwelling on good prospects: agents paid 0.1 of the level learned foraging to half
    # the hidden performance of agents paid nothing for thoughts (0.11 against 0.21 per tick
    # after 20,000 ticks); a rise is a potential-based shaping term, which leaves what is best
    # to do unchanged.
    rise = thought - state.thought
    reward = innate_reward(state, sensations, reactions) + p.thought_reward * rise + anticipation
    targets = innate * jnp.where(p.pointers, 1.0, need(sensations))
    state = _rewire(state, reactions, jnp.maximum(reactions, felt))._replace(thought=thought)
    return state, SteeringOutput(innate, reactions, targets, reward, thought)


def _rewire(state: SteeringState, reactions: Array, felt: Array) -> SteeringState:
    """Seed 002's dynamic rewiring rule. Fear felt from any source, followed within the window
    by calm, makes the fear detector trigger more weakly next time; pain after it sensitises the
    detector again. Each changes the gain once per fear episode, in proportion to how strongly
    the fear was felt, so a weak (imagined, remembered) fear rewires little, and as the gain
    habituates each exposure rewires less: no floor, no threshold on the gain."""
    p = state.params
    fear, calm, pain = (felt[REACTIONS.index(name)] for name in ("threat", "calm", "pain"))
    recent = state.since_fear < p.rewiring_window
    strength = jnp.clip(state.fear, 0.0, 1.0) * p.rewiring.astype(jnp.float32)
    gain = state.fear_gain
    gain = jnp.where(recent & (calm > 0), gain * (1.0 - p.rewiring_rate * strength), gain)
    gain = jnp.where(recent & (pain > 0), gain + p.sensitisation * strength * (1.0 - gain), gain)
    settled = recent & ((calm > 0) | (pain > 0))
    fired = fear > 0
    since_fear = jnp.where(fired, 0, jnp.where(settled, p.rewiring_window, state.since_fear + 1))
    fear_strength = jnp.where(fired, jnp.maximum(fear, jnp.where(recent, state.fear, 0.0)),
                              state.fear)  # fmt: skip
    # The body's threat episode (what relief repays): its own fear reaction or pain.
    body = jnp.maximum(reactions[REACTIONS.index("threat")], reactions[REACTIONS.index("pain")])
    threatened = body > 0
    ongoing = state.since_threat == 0
    threat = jnp.where(threatened, jnp.where(ongoing, jnp.maximum(state.threat, body), body),
                       state.threat)  # fmt: skip
    since_threat = jnp.where(threatened, 0, state.since_threat + 1)
    since_fear, since_threat = (jnp.minimum(t, LONG_AGO) for t in (since_fear, since_threat))
    return state._replace(fear_gain=gain, since_fear=since_fear, fear=fear_strength,
                          since_threat=since_threat, threat=threat)  # fmt: skip
