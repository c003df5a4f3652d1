"""Values change with new data; habits lag (M6).

Agents with a linguistic world model (`language.world_model`, as in `propaganda`) read a
background culture in which words of like valence are co-mentioned, ground a valence head on two
thirds of the pool concepts and freeze it. Two pool concepts label the options of a repeated
choice: the **target**, a positive concept the culture praises, and the **alternative**, a
neutral one. Then a **new corpus**: the old talk goes on, but a quarter of its sentences now
place the target among negative concepts. Nothing rewards or punishes the target; the head never
changes.

**Values.** Agents whose world model keeps learning (continual learning) read the new corpus;
the contrast, agents without continual learning (learning rate 0), read the same corpus and
learn nothing from it. Test: the target's assessed valence (after − at grounding) falls more
with continual learning than without.

**Habits.** Each agent chooses between the two options with the brain's basal ganglia (`brain`'s
agent with its PFC and hippocampus switched off by config): its policy is `agent.policy_logits`,
the actor's logits plus the habit prior, and it learns by `basal_ganglia.update`. The latent z
of a choice is the two options' concept vectors side by side, read from the agent's own world
model, so the actor stays linear in concept features. The steering subsystem pays the valence
the frozen head assesses for the chosen concept (a cortical pseudo-reward from learned valence,
never a hand-written true reward). The agent makes `trials_before` choices in the world as it
understood it at grounding, reads the new corpus, then makes `trials_after` choices with the
concepts (and so the contexts and payoffs) as the new corpus left them. The **lag** is the
number of trials until the former favourite's choice share (the agents' mean probability of
choosing it) has moved halfway from its old level to its new one, where the habit-free arm
settles; an arm that never gets halfway is charged the whole budget. Test: the lag with the
habit prior on exceeds the lag with it off. Both arms are the same agents with the same random
keys (common random numbers), so the lags are paired. Preconditions: the head generalises, the
habit-free arm learned the first preference and reversed it (the shift is real and learned).

Parameters chosen to make the effect visible: the campaign's quarter of the new corpus moves
most agents' target below the alternative; 500 trials after it let both arms settle. The basal
ganglia keep the brain's defaults (habit weight 0.2, habit rate 0.02) except γ = 0 and the
online actor rate: 1.0, not 0.1, as the chooser has no hippocampus to replay its choices.

Each seed draws its own words; **the unit is the seed**. Frozen-world-model agents make the same
choices too: their valences stay put, and so do their choices (the figure's grey line).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.brain import agent, cortex, hippocampus, pfc
from shardlab.brain import basal_ganglia as bg
from shardlab.experiments import plots
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.language import concepts, encoders, society
from shardlab.language.culture import Mention, Phase

Array = jax.Array

M6 = Claim(
    id="M6",
    claim="Values change with new data; habits lag",
    prediction="continual learning on a new corpus that pairs a praised concept with negative "
    "ones lowers its assessed valence more than without continual learning; choices between "
    "concept-labelled options made by the basal ganglia with a habit prior take longer to "
    "move halfway to their new level than without it",
    contrast="no continual learning; habit prior off",
)
ARMS = ("continual", "frozen")  # the world model reads the new corpus, or learns nothing


class Config(ExperimentConfig):
    encoder: str = encoders.DEFAULT
    pool_size: PositiveInt = 30  # positive and negative pools; the neutral pool is twice as big
    agents: PositiveInt = 12  # per world-model arm
    background_steps: PositiveInt = 300
    corpus_steps: PositiveInt = 300  # the new corpus
    campaign_share: float = Field(0.25, gt=0, lt=1)  # of its sentences: target among negatives
    habit_weight: PositiveFloat = bg.BasalGangliaConfig().habit_weight  # the habit-on arm
    trials_before: PositiveInt = 200  # choices before the new corpus
    trials_after: PositiveInt = 500  # and after it: long enough for both arms to settle
    window: PositiveInt = 50  # trials whose mean share is a level (the last of each period)

    @model_validator(mode="after")
    def _window_fits(self) -> Config:
        if self.window > min(self.trials_before, self.trials_after):
            raise ValueError("window must not exceed trials_before or trials_after")
        return self


def new_corpus(target: str, config: Config) -> Phase:
    """The old talk, with `campaign_share` of the sentences placing `target` among negatives."""
    weight = config.campaign_share * sum(m.weight for m in society.BACKGROUND)
    return Phase(config.corpus_steps, (*society.BACKGROUND,
                                       Mention("negative", (target,),
                                               weight / (1 - config.campaign_share))))


def chooser(habit_weight: Array | float, latent: int) -> agent.AgentConfig:
    """The brain's agent with its PFC and hippocampus off, so its policy is the basal ganglia's
    actor plus the habit prior at `habit_weight` (may be traced: both arms share one compiled
    program). A choice is a one-step episode, so γ = 0 and δ = reward − V(z). Its z is the
    linguistic world model's, with no sensory code beside it."""
    return agent.AgentConfig(
        cortex=cortex.CortexConfig(latent=latent, sensory=False),
        basal_ganglia=bg.online_only(gamma=0.0, habit_weight=habit_weight),  # no hippocampus
        pfc=pfc.PFCConfig(weight=0.0),
        hippocampus=hippocampus.HippocampusConfig(enabled=False),
    )


def choices(contexts: Array, payoffs: Array, habit_weight: Array, key: Array, before: int,
            after: int) -> Array:
    """One agent's choice trials: `before` with the latent z and payoffs of period 0, then
    `after` with those of period 1. Per trial, the policy's probability of option 0.

    contexts (2, Z): the choice's z in each period; payoffs (2, 2): each option's payoff there."""
    config = chooser(habit_weight, contexts.shape[-1])
    brain = agent.init(jax.random.key(0), config, 1, 2)  # only its basal ganglia acts here
    period = (jnp.arange(before + after) >= before).astype(jnp.int32)

    def trial(carry: tuple[bg.BasalGangliaParams, bg.Traces], x: tuple[Array, Array]
              ) -> tuple[tuple[bg.BasalGangliaParams, bg.Traces], Array]:
        params, traces = carry
        t, k = x
        z, payoff = contexts[t], payoffs[t]
        logits = agent.policy_logits(config, brain._replace(basal_ganglia=params), z)
        action = jax.random.categorical(k, logits)
        policy = jax.nn.softmax(logits)
        delta = bg.td_error(config.basal_ganglia, params, z, payoff[action], z)
        carry = bg.update(config.basal_ganglia, params, traces, z, action, policy, delta,
                          jnp.float32(1.0))
        return carry, policy[0]

    carry = (brain.basal_ganglia, brain.traces)
    return jax.lax.scan(trial, carry, (period, jax.random.split(key, before + after)))[1]


@partial(jax.jit, static_argnames=("before", "after"))
def choices_population(contexts: Array, payoffs: Array, habit_weights: Array, keys: Array,
                       before: int, after: int) -> Array:
    """`choices` for a population, one `vmap` over agents (arms are agents with another habit
    weight)."""
    return jax.vmap(lambda c, p, w, k: choices(c, p, w, k, before, after))(
        contexts, payoffs, habit_weights, keys)


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    sizes = {"positive": config.pool_size, "negative": config.pool_size,
             "neutral": 2 * config.pool_size}
    space, _ = concepts.sample_space(seed, sizes, 0, config.encoder)
    target, alternative = space.pools["positive"][0], space.pools["neutral"][0]  # random draws
    setting = society.Society(background_steps=config.background_steps,
                              second_steps=config.corpus_steps)
    arm = np.repeat(ARMS, config.agents)
    out = society.live(setting, space, [new_corpus(target, config)] * len(arm),
                       (arm == "continual").astype(float).tolist(), seed)
    options = space.ids((target, alternative))
    n = len(arm)
    # Period 0 is the world at grounding, period 1 after the new corpus: (A, 2, 2d) and (A, 2, 2).
    contexts = np.stack([out.z_grounded[:, options].reshape(n, -1),
                         out.z_after[:, options].reshape(n, -1)], axis=1)
    payoffs = np.stack([out.grounded[:, options], out.after[:, options]], axis=1)
    # Habit on and off: the same agents with the same keys (common random numbers).
    weights = np.array([config.habit_weight, 0.0])
    keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), 99), n)  # not the society's
    share = choices_population(
        jnp.asarray(np.repeat(contexts, 2, axis=0)), jnp.asarray(np.repeat(payoffs, 2, axis=0)),
        jnp.asarray(np.tile(weights, n)), jnp.repeat(keys, 2, axis=0), config.trials_before,
        config.trials_after)
    trials = config.trials_before + config.trials_after
    # The choice share: the agents' mean probability of choosing the former favourite.
    curves = pd.DataFrame({
        "arm": np.repeat(arm, 2 * trials), "habit": np.tile(np.repeat(weights > 0, trials), n),
        "trial": np.tile(np.arange(trials) - config.trials_before, 2 * n),
        "share": np.asarray(share).ravel(),
    }).groupby(["arm", "habit", "trial"], as_index=False)["share"].mean()
    agents = pd.DataFrame({
        "agent": np.arange(n), "arm": arm, "target": target, "alternative": alternative,
        "target_grounded": out.grounded[:, options[0]], "target_after": out.after[:, options[0]],
        "alternative_grounded": out.grounded[:, options[1]],
        "alternative_after": out.after[:, options[1]], "head_r": out.head_r,
    })  # fmt: skip
    return {"agents": agents, "choices": curves}


def lag(share: np.ndarray, shift: int, window: int, new: float) -> float:
    """Trials after `shift` until `share` has moved halfway from its old level (its mean over the
    `window` trials before `shift`) to the level `new`; all the trials after `shift` if it never
    does."""
    old = share[shift - window:shift].mean()
    moved = (share[shift:] - (old + new) / 2) * np.sign(old - new) <= 0
    return float(np.argmax(moved)) if moved.any() else float(moved.size)


def _per_seed(tables: dict[str, pd.DataFrame], config: Config) -> pd.DataFrame:
    """Per seed: the target's Δ valence by world-model arm, the head's held-out r, and per habit
    arm the continual agents' choice-share levels before and after the shift and their lag.

    The new level both arms are timed to is where the habit-free arm settles (its mean over the
    last `window` trials): the share the new valences call for. An arm that never gets halfway
    there is charged the whole budget."""
    agents = tables["agents"].assign(
        delta=lambda d: d["target_after"] - d["target_grounded"])
    out = agents.pivot_table(index="seed", columns="arm", values="delta").add_prefix("delta_")
    out["head_r"] = agents.query("arm == 'continual'").groupby("seed")["head_r"].mean()
    shift, window = config.trials_before, config.window
    curves = tables["choices"].query("arm == 'continual'").sort_values("trial")
    for seed, d in curves.groupby("seed"):
        share = {name: d.loc[d["habit"] == habit, "share"].to_numpy()
                 for name, habit in (("on", True), ("off", False))}
        new = share["off"][-window:].mean()
        for name, curve in share.items():
            out.loc[seed, f"old_{name}"] = curve[shift - window:shift].mean()
            out.loc[seed, f"new_{name}"] = curve[-window:].mean()
            out.loc[seed, f"lag_{name}"] = lag(curve, shift, window, new)
    return out


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    s = _per_seed(tables, config)
    tests = [
        # Margin 0.1 in assessed valence, as in propaganda: a tenth of the innate scale's
        # half-range, the least shift a rater would notice.
        superiority("Δ valence of the target, continual − no continual learning",
                    s["delta_continual"], s["delta_frozen"], margin=0.1, direction=-1),
        # Margin 10 trials: ten more choices of an option the agent itself now rates below its
        # alternative, the least persistence worth calling a habit rather than a stumble.
        superiority("lag to half the reversal (trials), habit prior on − off", s["lag_on"],
                    s["lag_off"], paired=True, margin=10.0),
    ]
    checks = [
        # Threshold r 0.5, as in propaganda: the head ranks unseen concepts by valence.
        precondition("valence head generalises: held-out r on ungrounded concepts", s["head_r"],
                     threshold=0.5),
        # Threshold 0.75: a clear first preference, three choices in four.
        precondition("first preference learned: former favourite's share before, habit off",
                     s["old_off"], threshold=0.75),
        # Threshold 0.5: reversed, most choices now go to the alternative (a few agents' new
        # corpus leaves the target level with it, and those need not switch).
        precondition("preference reversed: former favourite's share after, habit off",
                     s["new_off"], threshold=0.5, direction=-1),
    ]
    m = s.mean()
    detail = (f"mean Δ target valence continual {m['delta_continual']:.3f}, frozen "
              f"{m['delta_frozen']:.3f}; lag habit on {m['lag_on']:.1f}, off {m['lag_off']:.1f} "
              f"trials; favourite's share before/after habit on {m['old_on']:.2f}/"
              f"{m['new_on']:.2f}, off {m['old_off']:.2f}/{m['new_off']:.2f}; head held-out r "
              f"{m['head_r']:.3f}")
    return [judge(M6, tests, checks, n=len(s), unit="seed", detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    s = _per_seed(tables, config)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=(1, 2.2))
    deltas = s[["delta_continual", "delta_frozen"]].set_axis(list(ARMS), axis=1)
    plots.bars(left, deltas, list(ARMS), "Δ assessed valence of the target (95% CI)")
    left.axhline(0, color="k", lw=0.8)
    left.set(xlabel="world model", title="values change with new data")
    choices = tables["choices"]
    every = choices["trial"] % 10 == 0  # the share moves smoothly; a point per 10 trials
    lines = (("continual", True, "#c44e52", "habit prior on"),
             ("continual", False, plots.BLUE, "habit prior off"),
             ("frozen", True, "0.5", "frozen world model, habit on"))
    for arm, habit, colour, label in lines:
        d = choices[every & (choices["arm"] == arm) & (choices["habit"] == habit)]
        plots.band(right, d.pivot(index="seed", columns="trial", values="share"), colour, label,
                   marker=None)
        if arm == "continual":
            right.axvline(s[f"lag_{'on' if habit else 'off'}"].mean(), color=colour, ls=":")
    right.axvline(0, color="k", lw=0.8)
    right.set(xlabel="choice trial (0: the new corpus read; dotted: mean lag)",
              ylabel="P(choose the former favourite)", ylim=(0, 1.03),
              title="habits lag: choice share around the corpus shift")
    right.legend(fontsize=8, loc="lower left")
    return [plots.save(fig, out / "value_change.png")]


register(
    Experiment(
        name="value-change",
        title="Values change with new data; habits lag",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "agents": 1, "background_steps": 50, "corpus_steps": 50,
               "trials_before": 100, "trials_after": 200},
        claims=(M6,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
