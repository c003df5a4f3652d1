"""Shards form by credit assignment (S1): reinforcement in one context creates a contextually
activated decision influence there, and none where no reward occurred.

The world (`tinted-rooms`) is five closed rooms told apart only by their tint: four inert markers
per room, red and blue in the proportions 4:0, 3:1, 2:2, 1:3, 0:4, so a room's *tint distance*
from the red room is its number of blue markers (0–4). Each episode the agent wakes in a random
room. In training, berries grow in the red room and decoys in the other four: decoys look like
berries (they are drawn in the berry's channel) and vanish when touched like berries, but taste
of nothing. So every room shows berries and lets the agent touch them; sweetness, and through
the steering subsystem reward, happens only in the red room (the contrast: rooms never
rewarded, though the stimulus was there).

The shard is measured counterfactually, on the whole policy: the same state with a berry shown
and with it removed (moved off the map), every other cell, the tint and the hunger (0.5) alike;
the room's second berry stays in both, as a room always holds two. Its strength in a room is
P(a step toward the berry | shown) − P(the same steps | removed), the mean over probe layouts in
that room (random cells for the agent, the two berries and the markers).
It is read in every room on the same layouts, at newborn and after each training segment, so it
can be plotted against the reward history (the sweetness tasted so far, all of it in the red
room).

Approach in closed loop: after training, the agents and their newborn selves live frozen
(`learn=False`) episodes of the test phase, where berries grow in every room; berries eaten per
tick in each room is the approach rate per room.

Plain actor-critic (`baselines.actor_critic`, a linear actor on the raw observation, paid the
brain's innate reward) lives the same training in the same world. Its berry weight is one set
of numbers for every room (its logits are additive in the berry's cell and the markers), so its
approach is as strong wherever a berry is seen: it is the *positive control of the measure*
(where a learner surely formed a berry-approach influence, the counterfactual reads it in the
rewarded room), and its per-room profile shows what a context-free influence looks like. A
comparison of context-specificity against it would add nothing to the first test: its own is
near zero by construction.

Prediction, tests and margins (P(step toward the berry), paired by seed: every room is probed by
the same agents):
- the shard is stronger in the rewarded room than in the mean never-rewarded room (margin 0.01:
  one step in a hundred, the smallest push worth calling a decision influence; the previous
  design's 0.05 logits near a uniform policy);
- it falls with tint distance over the never-rewarded rooms (slope margin 0.0025 per blue
  marker, the first margin spread over the four rooms);
- it is absent in the farthest room (equivalence, ±0.01).
Preconditions: the brain learned to eat berries in the rewarded room (frozen, trained − newborn
berries per tick there > 0, paired); and the measure reads actor-critic's shard in the rewarded
room at no less than the margin (it can see an effect of the size of interest).

Parameters: the rooms are 3×3 with double walls, so from any cell the 5×5 view shows the whole
room and nothing of the next one. The planner is off (`PFCConfig(weight=0)`): the claim is about
credit assignment, so the policy measured is what it learned (the basal ganglia's actor and
habit prior, and the hippocampus's episodic values), and it saves compile and run time.

What default runs show (8 seeds, 8 agents, 12,288 ticks, commit 129ef42): the brain learns to
eat (frozen, 0.164 [0.147, 0.184] more berries per tick in the red room than its newborn self),
and in closed loop it eats more the nearer a room's tint is to red (0.219, 0.169, 0.119, 0.074,
0.038 per tick in rooms 0–4). The counterfactual push of a shown berry falls with a room's
distance in tint from red (slope −0.015 [−0.020, −0.009] per room, margin 0.0025), but it is not
clearly larger in the rewarded room than in the never-rewarded ones (0.010 [−0.002, 0.024],
margin 0.01) and is 0.083 in the farthest room, where the claim wants none. Actor-critic,
context-free by construction, reads 0.051–0.054 in every room. The influence of a berry in view
is graded by context but not confined to it: the claim is not supported by this brain (nor was
it at f8cffcb, with 128 learned units). At 7ce138b, with the worlds' hashed random numbers, not
supported again: eating 0.165 [0.147, 0.181], slope −0.014 [−0.017, −0.010], rewarded − never
0.005 [−0.008, 0.021], farthest room 0.081 [0.071, 0.092].
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import PositiveInt

from shardlab.analysis import probes
from shardlab.analysis.verdicts import (
    Claim,
    ClaimResult,
    equivalence,
    judge,
    precondition,
    superiority,
)
from shardlab.baselines import actor_critic as ac
from shardlab.brain import agent, population
from shardlab.brain.steering import innate_reward_fn
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds import ACTIONS, SENSATIONS, make
from shardlab.worlds.catalog import GAP, MARKERS, ROOM, ROOMS

S1 = Claim(
    id="S1",
    claim="Shards form by credit assignment: reinforcement in a context creates a contextually "
    "activated decision influence",
    prediction="a berry in view pushes the policy toward it more in the rewarded room than in "
    "rooms where berries were seen and touched but never rewarded; the push falls with tint "
    "distance and is absent in the farthest room",
    contrast="rooms never rewarded (decoy berries; tint distance 1–4)",
)

WORLD = make("tinted-rooms")
TRAIN, TEST = WORLD.default_params("train"), WORLD.default_params("test")
BRAIN = agent.AgentConfig(pfc=replace(agent.AgentConfig().pfc, weight=0.0))
AC = ac.ActorCriticConfig()
SWEET = SENSATIONS.index("sweet")
MOVES = {"up": (-1, 0), "right": (0, 1), "down": (1, 0), "left": (0, -1)}
OFF_MAP = (-100, -100)  # a removed object's cell: never in view
LEARNERS = ("brain", "actor-critic")
MARGIN = 0.01  # in P(step toward the berry): one step in a hundred


class Config(ExperimentConfig):
    population: PositiveInt = 8
    train_steps: PositiveInt = 12288  # 384 episodes, about 77 of them in the red room
    segments: PositiveInt = 6  # the shard is read at newborn and after each segment
    layouts: PositiveInt = 48  # probe layouts per room
    test_episodes: PositiveInt = 8  # frozen closed-loop episodes per agent


def room_of(col: np.ndarray) -> np.ndarray:
    """The room a grid column lies in."""
    return np.asarray(col) // (ROOM + GAP)


def probe_layouts(rng: np.random.Generator, per_room: int) -> pd.DataFrame:
    """`per_room` random layouts per room: the agent, its room's markers and two berries on
    distinct cells of the room (as in training, where a room always holds two), every other
    object off the map (out of every room's view). The probed berry is the first; removing it
    leaves the other. Columns: room, pos (2,), shown and removed (slots, 2) cells, toward (A,)
    the moves that bring the agent closer to the probed berry."""
    kinds = np.asarray(TEST.slot_kind)
    rooms = room_of(np.asarray(TEST.slot_region)[:, 2])
    berry = WORLD.scenario.kind_index("berry")
    markers = np.isin(kinds, [WORLD.scenario.kind_index(k) for k in ("red", "blue")])
    rows = []
    for d in range(ROOMS):
        mine = np.flatnonzero(markers & (rooms == d))
        probed, other = np.flatnonzero((kinds == berry) & (rooms == d))
        for _ in range(per_room):
            cells = np.stack(np.divmod(rng.permutation(ROOM * ROOM), ROOM), 1)
            cells[:, 1] += d * (ROOM + GAP)
            removed = np.tile(OFF_MAP, (len(kinds), 1))
            removed[other] = cells[2]
            removed[mine] = cells[3 : 3 + MARKERS]
            shown = removed.copy()
            shown[probed] = cells[1]
            delta = cells[1] - cells[0]
            toward = [np.dot(np.sign(delta), step) > 0 for step in MOVES.values()]
            rows.append({"room": d, "pos": cells[0], "shown": shown, "removed": removed,
                         "toward": np.array(toward + [False] * (len(ACTIONS) - len(MOVES)))})
    return pd.DataFrame(rows)


def probe_observations(layouts: pd.DataFrame, key: jax.Array) -> tuple[np.ndarray, np.ndarray]:
    """(M, O) observations of every layout with the berry shown and removed; hunger 0.5."""
    pos = np.stack(layouts["pos"])

    def observe(column: str) -> np.ndarray:
        obs, _ = probes.place(WORLD, TEST, key, len(layouts), pos=pos,
                              slot_pos=np.stack(layouts[column]), drives={"hunger": 0.5},
                              time=0)  # fmt: skip
        return np.asarray(obs)

    return observe("shown"), observe("removed")


def approach_push(logits: np.ndarray, toward: np.ndarray, rooms: np.ndarray) -> np.ndarray:
    """(N, ROOMS): per agent and room, the mean over layouts of P(step toward the berry) shown −
    removed. `logits` (N, 2, M, A) hold the policy's logits on the shown and removed states."""
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p_toward = (p * toward).sum(-1) / p.sum(-1)  # (N, 2, M)
    push = p_toward[:, 0] - p_toward[:, 1]
    return np.stack([push[:, rooms == d].mean(1) for d in range(ROOMS)], 1)


def brain_logits(agents: agent.AgentState, obs: np.ndarray) -> np.ndarray:
    """(N, M, A) the brain's policy logits (the sum of its terms over the temperature)."""
    terms = probes.policy_terms(BRAIN, agents, obs)
    return np.asarray(sum(terms)) / BRAIN.basal_ganglia.temperature


def actor_critic_logits(params, obs: np.ndarray) -> np.ndarray:
    """(N, M, A) plain actor-critic's logits: linear in the raw observation."""
    w, b = np.asarray(params.actor_w), np.asarray(params.actor_b)
    return (np.einsum("mo,noa->nma", obs, w) + b[:, None]) / AC.basal_ganglia.temperature


def approach_rates(life: population.Lifetime) -> np.ndarray:
    """(ROOMS,) berries eaten per tick spent in each room, pooled over the population."""
    rooms = room_of(np.asarray(life.log.position)[..., 1])
    eaten = probes.contacts(life, WORLD, "berry")
    return np.array([eaten[rooms == d].sum() / max((rooms == d).sum(), 1) for d in range(ROOMS)])


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    k_probe, k_train, k_test, k_ac = jax.random.split(jax.random.key(seed), 4)
    layouts = probe_layouts(np.random.default_rng(seed), config.layouts)
    shown, removed = probe_observations(layouts, k_probe)
    obs = np.concatenate([shown, removed])
    toward, rooms = np.stack(layouts["toward"]), layouts["room"].to_numpy()
    n, seg = config.population, config.train_steps // config.segments

    def rows(learner: str, step: int, push: np.ndarray, sweet: np.ndarray) -> list[dict]:
        return [{"learner": learner, "step": step, "agent": i, "room": d, "push": push[i, d],
                 "sweet": sweet[i]} for i in range(n) for d in range(ROOMS)]  # fmt: skip

    def brain_push(agents: agent.AgentState) -> np.ndarray:
        return approach_push(brain_logits(agents, obs).reshape(n, 2, len(layouts), -1), toward,
                             rooms)  # fmt: skip

    newborn, _, _ = population.start(WORLD, TRAIN, BRAIN, k_train, n)
    agents, sweet = newborn, np.zeros(n)
    strength = rows("brain", 0, brain_push(agents), sweet)
    for s in range(1, config.segments + 1):
        life = population.train(WORLD, TRAIN, BRAIN, jax.random.fold_in(k_train, s), n, seg,
                                agents=agents, chunk=seg)  # fmt: skip
        agents = life.agents
        sweet = sweet + np.asarray(life.log.sensations)[..., SWEET].sum(0)
        strength += rows("brain", s * seg, brain_push(agents), sweet)

    params, log = ac.live(AC, WORLD, TRAIN, k_ac, n, seg * config.segments,
                          reward_fn=innate_reward_fn())  # fmt: skip
    logits = actor_critic_logits(params, obs).reshape(n, 2, len(layouts), -1)
    ac_sweet = np.asarray(log.performance).clip(0).sum(0)  # berries eaten (performance +1 each)
    strength += rows("actor-critic", seg * config.segments, approach_push(logits, toward, rooms),
                     ac_sweet)  # fmt: skip

    steps = config.test_episodes * WORLD.scenario.max_steps
    approach = []
    for who, population_ in (("trained", agents), ("newborn", newborn)):
        life = probes.rollout(WORLD, TEST, BRAIN, population_, k_test, steps, learn=False,
                              chunk=steps)  # fmt: skip
        approach += [{"agents": who, "room": d, "rate": r}
                     for d, r in enumerate(approach_rates(life))]  # fmt: skip
    return {"strength": pd.DataFrame(strength), "approach": pd.DataFrame(approach)}


def final_push(tables: dict[str, pd.DataFrame], learner: str = "brain") -> pd.DataFrame:
    """seed × room: a learner's population-mean shard at the end of training."""
    df = tables["strength"].query("learner == @learner")
    last = df[df["step"] == df["step"].max()]
    return last.groupby(["seed", "room"])["push"].mean().unstack()


def _slopes(final: pd.DataFrame) -> np.ndarray:
    """Per seed, the least-squares slope of the shard on tint distance over the never-rewarded
    rooms (1–4): the generalisation gradient away from the rewarded context."""
    d = np.arange(1, ROOMS, dtype=float)
    return np.array([np.polyfit(d, row[1:], 1)[0] for row in final.to_numpy()])


def _approach(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """seed × (agents, room) table of closed-loop berries eaten per tick."""
    return tables["approach"].pivot_table(index="seed", columns=["agents", "room"],
                                          values="rate")  # fmt: skip


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    final, control = final_push(tables), final_push(tables, "actor-critic")
    approach = _approach(tables)
    never = final.loc[:, 1:].mean(axis=1)
    tests = [
        superiority("rewarded − mean never-rewarded room push", final[0], never, margin=MARGIN,
                    paired=True),
        superiority("slope of push over tint distance (never-rewarded rooms)", _slopes(final),
                    margin=MARGIN / 4, direction=-1),
        equivalence("push in the farthest never-rewarded room", final[ROOMS - 1], margin=MARGIN),
    ]  # fmt: skip
    checks = [
        precondition("brain ate berries in the rewarded room: trained − newborn per tick",
                     approach[("trained", 0)], approach[("newborn", 0)], paired=True),
        precondition("the measure reads actor-critic's push in the rewarded room", control[0],
                     threshold=MARGIN),
    ]  # fmt: skip
    rates = ", ".join(f"{approach[('trained', d)].mean():.3f}" for d in range(ROOMS))
    profile = ", ".join(f"{control[d].mean():.3f}" for d in range(ROOMS))
    detail = (f"berries eaten per tick by room 0–4 (trained, frozen): {rates}; actor-critic push "
              f"by room: {profile}")  # fmt: skip
    return [judge(S1, tests, checks, n=len(final), detail=detail)]


def _colour(d: int) -> tuple:
    """Red for the red room, through grey, to blue."""
    return plt.cm.coolwarm(1 - d / (ROOMS - 1))


def _labels() -> list[str]:
    return [f"{MARKERS - d}r:{d}b" + (" (rewarded)" if d == 0 else "") for d in range(ROOMS)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    x = np.arange(ROOMS)
    for learner, colour in zip(LEARNERS, (plots.BLUE, "#dd8452"), strict=True):
        plots.band(axes[0], final_push(tables, learner), colour, learner)
    axes[0].axhline(0, color="k", lw=0.8)
    axes[0].set_xticks(x, _labels(), fontsize=8)
    axes[0].set(ylabel="P(step toward berry): shown − removed",
                title="Shard strength per room, end of training")  # fmt: skip
    axes[0].legend()
    approach = _approach(tables)
    for who, colour in (("trained", plots.BLUE), ("newborn", "grey")):
        plots.band(axes[1], approach[who], colour, who)
    axes[1].set_xticks(x, _labels(), fontsize=8)
    axes[1].set(ylabel="berries eaten / tick", title="Closed-loop approach per room (frozen)")
    axes[1].legend()
    paths = [plots.save(fig, out / "strength_by_room.png")]

    brain = tables["strength"].query("learner == 'brain'")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for d, label in enumerate(_labels()):
        per_seed = brain[brain["room"] == d].groupby(["seed", "step"])["push"].mean().unstack()
        plots.band(axes[0], per_seed, _colour(d), label)
        axes[1].scatter(brain.loc[brain["room"] == d, "sweet"],
                        brain.loc[brain["room"] == d, "push"], s=6, alpha=0.4,
                        color=_colour(d), label=label)  # fmt: skip
    axes[0].axhline(0, color="k", lw=0.8)
    axes[0].set(xlabel="training tick", ylabel="P(step toward berry): shown − removed",
                title="Shard strength over training, per room")  # fmt: skip
    axes[0].legend(fontsize="x-small")
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set(xlabel="sweetness tasted so far (all of it in the red room)",
                ylabel="P(step toward berry): shown − removed",
                title="Shard strength against reward history (agent × snapshot)")  # fmt: skip
    axes[1].legend(fontsize="x-small")
    paths.append(plots.save(fig, out / "strength_over_training.png"))
    return paths


register(
    Experiment(
        name="shard-formation",
        title="Shards form by credit assignment: a contextually activated approach shard",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "population": 4, "train_steps": 192, "segments": 2, "layouts": 4,
               "test_episodes": 1},
        claims=(S1,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
