"""The steering subsystem (brainstem/hypothalamus): innate, narrow, not trained by gradient.

It reads raw sensations and the cortex's *output channels* (what the thought assessors issue,
and what the cortex predicts it will sense) — never the latent state z, which its signature does
not even accept. From these it computes k reaction channels (the low-dimensional bottleneck) and
the primary reward. Its only plasticity is a hand-written dynamic rewiring rule (habituation),
as in the exposure-therapy example of seed 002.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from shardlab.worlds.scenario import SENSATIONS

Array = jax.Array

REACTIONS: tuple[str, ...] = ("appetite", "salt", "pain", "approval", "fear", "calm")
"""The k innate reaction channels. Everything the agent comes to value passes through these."""


@dataclass(frozen=True)
class SteeringConfig:
    valence: tuple[float, ...] = (1.0, 1.0, -1.0, 1.0, -0.5, 0.1)  # innate weight per reaction
    stimulation_gain: float = 1.0  # the reward electrode wires straight into reward
    anticipation_gain: float = 0.1  # reward the cortex for already issuing a called-for reaction
    calm_after: int = 4  # quiet steps after pain or threat before "safe and calm" fires
    relief: int = 8  # steps "safe and calm" lasts: relief from a threat, not a tonic state
    rewiring_rate: float = 0.0  # habituation: fear weakens when calm follows it (0: off)
    rewiring_window: int = 6  # steps within which calm must follow fear
    sensitisation: float = 0.5  # pain after fear restores the fear gain by this fraction


LONG_AGO = 10_000
"""Step counters saturate here: "never", or too long ago to matter to any window."""


class SteeringState(NamedTuple):
    fear_gain: Array  # the innate fear detector's gain, changed only by the rewiring rule
    since_fear: Array  # steps since the fear reaction last fired
    since_threat: Array  # steps since pain or fear
    valence: Array  # (k,) innate weight per reaction, from the config: data, not compiled in


class SteeringOutput(NamedTuple):
    innate: Array  # (k,) what the innate detectors call for
    reactions: Array  # (k,) the body's reaction: innate or issued by the cortex, the larger
    reward: Array  # primary reward
    valence: Array  # innate valence of the reactions


def init(config: SteeringConfig) -> SteeringState:
    return SteeringState(jnp.float32(1.0), jnp.int32(LONG_AGO), jnp.int32(LONG_AGO),
                         jnp.asarray(config.valence, jnp.float32))  # fmt: skip


def sensation_vector(sensations: dict[str, Array]) -> Array:
    return jnp.stack([jnp.asarray(sensations[name], jnp.float32) for name in SENSATIONS], -1)


def innate_reactions(config: SteeringConfig, state: SteeringState, s: Array) -> Array:
    """Hand-written detectors on raw sensations (a vector in SENSATIONS order)."""
    get = dict(zip(SENSATIONS, s, strict=True))
    hunger, salt_need = get["hunger"], get["salt_need"]
    appetite = get["sweet"] * (0.2 + hunger)  # food is better when hungry
    salt = get["salt"] * (2.0 * salt_need - 1.0)  # aversive when sated, appetitive when deprived
    fear = state.fear_gain * get["periphery_motion"]
    # Relief: calm follows a threat that has passed. It is not a standing state, which in a
    # world without threats would pay the same reward every tick for nothing the agent did.
    quiet = state.since_threat - config.calm_after
    calm = ((quiet >= 0) & (quiet < config.relief)).astype(jnp.float32)
    return jnp.stack([appetite, salt, get["pain"], get["feedback"], fear, calm])


def step(
    config: SteeringConfig,
    state: SteeringState,
    sensations: Array,
    issued: Array,
    gain: Array | float = 1.0,
) -> tuple[SteeringState, SteeringOutput]:
    """One tick. `issued` are the cortex's output channels (assessor outputs), read at `gain`:
    1 for live prediction, less for imagination or memory."""
    innate = innate_reactions(config, state, sensations)
    issued = jax.lax.stop_gradient(issued) * gain
    reactions = jnp.maximum(innate, issued)
    valence = state.valence @ innate
    # Seed 002's criterion: when a reaction is called for, reward the cortex if it issued it.
    anticipation = config.anticipation_gain * jnp.sum(innate * jnp.clip(issued, 0.0, 1.0))
    stimulation = sensations[SENSATIONS.index("stimulation")]
    reward = valence + config.stimulation_gain * stimulation + anticipation
    state = _rewire(config, state, reactions, sensations)
    return state, SteeringOutput(innate, reactions, reward, valence)


def imagined_reward(
    config: SteeringConfig,
    state: SteeringState,
    sensations: Array,
    issued: Array,
    gain: Array | float,
) -> Array:
    """What the steering subsystem makes of an imagined future: the cortex's predicted sensations
    and issued reactions, both seen at the (weaker) imagination gain."""
    _, out = step(config, state, sensations * gain, issued, gain)
    return out.reward


def _rewire(
    config: SteeringConfig, state: SteeringState, reactions: Array, sensations: Array
) -> SteeringState:
    """If fear fired and then "safe and calm" fires within the window, fear triggers more weakly
    next time; pain soon after fear sensitises it again."""
    fear = reactions[REACTIONS.index("fear")] > 0.5
    calm = reactions[REACTIONS.index("calm")] > 0.5
    pain = sensations[SENSATIONS.index("pain")] > 0
    recent = state.since_fear < config.rewiring_window
    settled = recent & (calm | pain)  # each fear episode rewires the gain once
    gain = state.fear_gain
    gain = jnp.where(recent & calm, gain * (1.0 - config.rewiring_rate), gain)
    gain = jnp.where(recent & pain, gain + config.sensitisation * (1.0 - gain), gain)
    since_fear = jnp.where(
        fear, 0, jnp.where(settled, config.rewiring_window, state.since_fear + 1)
    )
    since_threat = jnp.where(fear | pain, 0, state.since_threat + 1)
    since_fear, since_threat = (jnp.minimum(t, LONG_AGO) for t in (since_fear, since_threat))
    return SteeringState(gain, since_fear, since_threat, state.valence)
