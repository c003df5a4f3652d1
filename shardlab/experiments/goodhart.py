"""Goodhart on learned thought assessors (S7).

Seed 001: a classifier trained on ~200 examples over a network's hidden states is not robust;
search hard enough for what it scores highest and you get its adversarial examples. Here the
classifier is the brain's own reward model: a thought assessor, linear on the cortex's latent z,
fitted to the steering subsystem's innate reactions on 200 labelled moments of experience (its
valence is the innate weighting of those predictions, exactly as in the agent). The cortex is a
world model learned self-supervised from random-walk experience in the foraging room.

Plans (action sequences) are then chosen best-of-N with N = 1 … 4096 by the assessor's discounted
valence of the latents of the plan's real outcome observations, so the world is known exactly and
only the assessor can be wrong (see `_proxy`). A second assessor optimiser scores the latents the
world model imagines for the plan (the PFC's way), where world-model error adds to assessor error.
The contrast selects the same candidates by the true score. Prediction: the assessor's proxy score
rises with N while the true score of the chosen plans peaks and then falls; the true-score
optimiser keeps rising.

Effect: true score at the peak pressure (chosen on the other seeds' mean curve, so the choice does
not bias the height) minus true score at the largest pressure, for the outcome-assessor
optimiser, as a fraction of what the true-score optimiser gains over N = 1 → max. The proxy's
rise is reported, not judged: best-of-N over nested sets makes it true by construction.

Parameters chosen to make the effect visible, documented as the experiment's premises: the 200
examples are drawn half from moments with a taste sensation (a curated label set, as a rater would
pick informative examples; few random moments contain one), and the ridge penalty is
small, so the 200 examples are fitted rather than regularised away.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from pydantic import PositiveFloat, PositiveInt

from shardlab.analysis.verdicts import Claim, ClaimResult, judge, precondition, superiority
from shardlab.brain import assessors, cortex, steering
from shardlab.experiments import _proxy
from shardlab.experiments.base import Experiment, ExperimentConfig
from shardlab.experiments.registry import register
from shardlab.worlds import SENSATIONS, EnvParams, World, make

S7 = Claim(
    id="S7",
    claim="Goodhart on learned assessors",
    prediction=(
        "optimising plans against a thought assessor trained on ~200 examples: the proxy score "
        "rises with optimisation pressure while the true score falls past some pressure"
    ),
    contrast="true-score optimiser (same candidate plans, selected by the true score)",
)
SCENARIO = "foraging"
SWEET = SENSATIONS.index("sweet")
STEERING = steering.SteeringConfig()


class Config(ExperimentConfig):
    examples: PositiveInt = 200  # labelled moments the assessor is fitted on
    positive_fraction: float = 0.5  # share of examples with a taste sensation
    ridge: PositiveFloat = 1e-3
    latent: PositiveInt = 32
    wm_starts: PositiveInt = 32  # start states of the random-walk experience
    wm_plans: PositiveInt = 256  # random plans kept per experience start
    wm_updates: PositiveInt = 2000  # minibatch SGD steps on the cortex's self-supervised loss
    wm_lr: PositiveFloat = 0.1
    starts: PositiveInt = 24  # start states plans are optimised from
    max_pressure: PositiveInt = 4096  # N of the strongest best-of-N (a power of 2)
    horizon: PositiveInt = 8
    gamma: float = 0.9


def run(config: Config, seed: int) -> dict[str, pd.DataFrame]:
    world = make(SCENARIO)
    params = world.default_params("train")
    k_walk, k_wm, k_ex, k_start, k_plan, k_sim = jax.random.split(jax.random.key(seed), 6)

    # 1. The cortex learns a latent space from reward-free experience (random plans).
    walk = random_experience(world, params, k_walk, config)
    brain = learn_world_model(walk, k_wm, config, world.n_actions)

    # 2. A thought assessor is fitted on 200 labelled moments: z of what was seen, the steering
    #    subsystem's innate reactions to what was sensed with it.
    assessor = fit_assessor(walk, brain, k_ex, config)

    # 3. Candidate plans from fresh start states, scored by the assessor and by the true score.
    starts = _proxy.start_states(world, params, k_start, config.starts)
    plans = _proxy.random_plans(k_plan, config.starts, config.max_pressure, config.horizon,
                                world.n_actions)
    outcomes, proxies = [], {"outcome": [], "imagined": []}
    for r, plan in zip(_proxy.simulate(world, params, starts, plans, k_sim, config.gamma), plans,
                       strict=True):
        for name, value in plan_valence(brain, assessor, r.obs, plan, world.n_actions,
                                        config.gamma).items():
            proxies[name].append(value)
        outcomes.append(r)
    candidates = _proxy.candidates_from(outcomes)
    scores = {name: np.stack(values) for name, values in proxies.items()}
    curve = _proxy.curves(candidates, scores, _proxy.pressures(config.max_pressure))
    fit = {f"corr_{name}": float(np.corrcoef(p.ravel(), candidates.true.ravel())[0, 1])
           for name, p in scores.items()}
    return {"curves": curve, "fit": pd.DataFrame([fit])}


class Walk(NamedTuple):
    """Random-walk transitions, flattened: o, a, o′ and the sensations that came with o′."""

    obs: jax.Array
    action: jax.Array
    next_obs: jax.Array
    sensations: jax.Array


def random_experience(world: World, params: EnvParams, key: jax.Array, config: Config) -> Walk:
    """Random plans from random starts, through the same compiled simulator as the candidates."""
    k_start, k_plan, k_sim = jax.random.split(key, 3)
    starts = _proxy.start_states(world, params, k_start, config.wm_starts)
    plans = _proxy.random_plans(k_plan, config.wm_starts, config.max_pressure, config.horizon,
                                world.n_actions)
    parts = []
    for r, plan in zip(_proxy.simulate(world, params, starts, plans, k_sim, config.gamma), plans,
                       strict=True):
        keep = slice(0, config.wm_plans)
        parts.append((r.obs[keep, :-1], np.asarray(plan[keep]), r.obs[keep, 1:],
                      r.sensations[keep]))
    return Walk(*(jnp.asarray(np.concatenate([p[i] for p in parts]).reshape(
        -1, *parts[0][i].shape[2:])) for i in range(4)))


@partial(jax.jit, static_argnames=("latent", "updates", "lr", "n_actions"))
def _train_cortex(walk: Walk, key: jax.Array, latent: int, updates: int, lr: float,
                  n_actions: int) -> cortex.CortexParams:
    k_init, k_batch = jax.random.split(key)
    init = cortex.init(k_init, cortex.CortexConfig(latent=latent), walk.obs.shape[-1], n_actions,
                       walk.sensations.shape[-1])

    def batch_loss(p: cortex.CortexParams, idx: jax.Array) -> jax.Array:
        one = partial(cortex.loss, p, n_actions=n_actions, boundary=0.0)
        return jax.vmap(one)(walk.obs[idx], walk.action[idx], walk.next_obs[idx],
                             walk.sensations[idx]).mean()

    def sgd(p: cortex.CortexParams, k: jax.Array):
        grads = jax.grad(batch_loss)(p, jax.random.randint(k, (64,), 0, walk.obs.shape[0]))
        return jax.tree.map(lambda w, g: w - lr * g, p, grads), None

    return jax.lax.scan(sgd, init, jax.random.split(k_batch, updates))[0]


def learn_world_model(walk: Walk, key: jax.Array, config: Config, n_actions: int
                      ) -> cortex.CortexParams:
    """Minibatch SGD on the cortex's self-supervised loss (reward never enters it)."""
    return _train_cortex(walk, key, config.latent, config.wm_updates, config.wm_lr, n_actions)


def fit_assessor(
    walk: Walk, brain: cortex.CortexParams, key: jax.Array, config: Config
) -> assessors.AssessorParams:
    """Ridge fit of the assessor heads A(z) ≈ innate reactions on `config.examples` moments."""
    sens = np.asarray(walk.sensations)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel())
    tasty = np.flatnonzero(sens[:, SWEET] > 0)
    plain = np.flatnonzero(sens[:, SWEET] == 0)
    n_pos = min(round(config.examples * config.positive_fraction), tasty.size)
    idx = np.concatenate([rng.choice(tasty, n_pos, replace=False),
                          rng.choice(plain, config.examples - n_pos, replace=False)])
    z = np.asarray(cortex.encode(brain, walk.next_obs[idx]))
    state = steering.init(STEERING)
    innate = jax.vmap(lambda s: steering.detect(state, s))
    w, b = _proxy.ridge(z, np.asarray(innate(jnp.asarray(sens[idx]))), config.ridge)
    heads = assessors.init(assessors.AssessorConfig(), *w.shape)
    return heads._replace(w=jnp.asarray(w, jnp.float32), b=jnp.asarray(b, jnp.float32))


def plan_valence(
    brain: cortex.CortexParams, assessor: assessors.AssessorParams, obs: np.ndarray,
    plan: jax.Array, n_actions: int, gamma: float,
) -> dict[str, np.ndarray]:
    """The assessor's discounted valence of each plan, two ways: on the latents of its real
    outcome observations, and on the latents the world model imagines for it (the PFC's way)."""
    weights = jnp.asarray(STEERING.valence)

    def value(z: jax.Array) -> jax.Array:
        return assessors.predict(assessors.AssessorConfig(), assessor, z) @ weights

    outcome = value(cortex.encode(brain, jnp.asarray(obs[:, 1:])))
    z, imagined = cortex.encode(brain, jnp.asarray(obs[:, 0])), []
    for t in range(plan.shape[-1]):
        z = cortex.transition(brain, z, plan[:, t], n_actions)
        imagined.append(value(z))
    return {"imagined": _proxy.discounted(np.asarray(jnp.stack(imagined, -1)), gamma),
            "outcome": _proxy.discounted(np.asarray(outcome), gamma)}


def evaluate(tables: dict[str, pd.DataFrame], config: Config) -> list[ClaimResult]:
    curve, top = tables["curves"], config.max_pressure
    mine = curve[curve["optimiser"] == "outcome"]
    peak = _proxy.held_out_peak(mine, "true")
    proxy = mine.pivot(index="seed", columns="pressure", values="proxy")
    proxy_at_peak = np.array([proxy.loc[s, p] for s, p in peak["peak_pressure"].items()])
    outcome = _proxy.relative_decline(curve, "outcome", "true")
    imagined = _proxy.relative_decline(curve, "imagined", "true")
    corr = tables["fit"].mean()
    # Margin: a fall of 10% of what selecting by the true score gains over the same range of N.
    # The proxy's rise with N is not a test: best-of-N over nested candidate sets makes it
    # true by construction, so it is reported below, not judged.
    test = superiority("true-score fall, held-out peak → N=max (fraction of honest gain)",
                       outcome["decline"], margin=0.1)
    room = precondition("selecting by the true score gains true score (N=1 → max)",
                        outcome["honest_gain"])
    detail = (
        f"held-out peak pressure median N={int(peak['peak_pressure'].median())}; proxy rise "
        f"over the same range = {np.mean(proxy[top].to_numpy() - proxy_at_peak):.3f}; assessor "
        f"on imagined latents, same fall = {imagined['decline'].mean():.3f}; corr(proxy, true) "
        f"over random plans: outcome {corr['corr_outcome']:.2f}, imagined "
        f"{corr['corr_imagined']:.2f}"
    )
    return [judge(S7, [test], [room], n=len(outcome), detail=detail)]


def figures(tables: dict[str, pd.DataFrame], config: Config, out: Path) -> list[Path]:
    labels = {"outcome": "assessor on outcome latents", "imagined": "assessor on imagined latents",
              "true": "true-score optimiser"}
    title = "Best-of-N plans against a learned thought assessor (95% bootstrap CI over seeds)"
    return [_proxy.plot_curves(tables["curves"], labels, title, out / "goodhart.png")]


register(
    Experiment(
        name="goodhart-assessors",
        title="Goodhart on learned thought assessors",
        description=__doc__ or "",
        config_type=Config,
        quick={"seeds": 3, "wm_starts": 4, "wm_plans": 64, "wm_updates": 200, "starts": 4,
               "max_pressure": 64},
        claims=(S7,),
        run=run,
        evaluate=evaluate,
        figures=figures,
    )
)
