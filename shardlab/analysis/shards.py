"""Shards, made inspectable: name the actor's contextually activated decision influences, measure
their strength per context, and track them over training (DESIGN.md, property 5).

Why this works: the basal ganglia's actor is linear in the cortex's latent z, so every action
logit is exactly a sum of per-feature contributions (`decompose`). Latent units are not named
things, so linear *probes* find the directions in z that encode named world features ("food
visible", "food up", "hunger"). A shard is then a pair (feature, action): how strongly the actor's
weight column for that action points along the feature's direction (`name_shards`), and how much
it pushes the action in the states where the feature is present (`shard_strength`).

Conventions. For a probe `feature ≈ z·w_f + b_f`, the shard (f, a) has

* strength  S[f, a] = w_a·w_f / |w_f|²  — logits added to action a per unit of the feature, when
  z moves along the probe direction (the smallest change of z that adds one unit of the feature);
* activation at z:  f̂(z) = z·w_f + b_f  (≈ 0 where the feature is off, ≈ 1 where a binary
  one is on);
* contribution at z:  f̂(z)·S[f, a]  — the shard's decision influence, in logits.

`attribute` widens the view from the actor to the whole policy: the actual choice, split
across the actor, habit prior, PFC and episodic terms per context (the shards' share of it).

Without probes, the features are the latent units themselves (w_f = e_f, b_f = 0), and the
contribution is exactly `decompose`'s. The brain trains the actor with updates whose columns sum
to zero over actions, so only differences between logits matter and no centring is needed.

numpy/scipy/pandas only (analysis is not on the hot path); JAX arrays are accepted anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from shardlab.brain import agent as agent_
from shardlab.brain import basal_ganglia as bg
from shardlab.worlds.engine import World
from shardlab.worlds.scenario import ACTIONS, DRIVES, ITEMS

Mode = Literal["abs", "positive", "signed"]
DIRECTIONS = ("up", "down", "left", "right")


# ----------------------------------------------------------------------------- decomposition
def decompose(params: bg.BasalGangliaParams, z: ArrayLike) -> np.ndarray:
    """(..., Z, A): latent feature i's push on action a's logit; with `actor_b` it sums to the
    actor's logits (the habit prior, PFC and hippocampus add their own terms on top)."""
    return np.asarray(bg.contributions(params, np.asarray(z, np.float32)))


def decomposition_error(params: bg.BasalGangliaParams, z: ArrayLike) -> float:
    """Largest |Σ_i contribution_i + bias − actor logits|: ~1e-6 when the decomposition is exact.
    A check for anyone who swaps in a non-linear actor and still calls `decompose`."""
    z = np.asarray(z, np.float32)
    total = decompose(params, z).sum(-2) + np.asarray(params.actor_b)
    return float(np.max(np.abs(total - np.asarray(bg.actor_logits(params, z)))))


# ----------------------------------------------------------------------------- probes
@dataclass(frozen=True)
class Probes:
    """Linear read-outs feature ≈ z·weights[:, f] + bias[f], one per named world feature."""

    names: tuple[str, ...]
    weights: np.ndarray  # (Z, F): the feature directions in z (not normalised)
    bias: np.ndarray  # (F,)
    r2: np.ndarray  # (F,) held-out R² (in-sample when too few states); NaN for constant features

    def activation(self, latents: ArrayLike) -> np.ndarray:
        """(n, F) predicted feature values."""
        return np.asarray(latents, float) @ self.weights + self.bias

    @property
    def directions(self) -> np.ndarray:
        """(Z, F) unit probe directions."""
        norm = np.linalg.norm(self.weights, axis=0)
        return self.weights / np.where(norm > 0, norm, 1.0)


def probe(
    latents: ArrayLike,
    features: ArrayLike | pd.DataFrame,
    names: Sequence[str] | None = None,
    ridge: float = 1e-3,
    holdout: float = 0.25,
    seed: int = 0,
) -> Probes:
    """Ridge regressions (closed form) from latents (n, Z) to named features (n, F).

    R² is measured on a random `holdout` fraction with the probe fitted on the rest, so a probe
    that memorises noise does not look like a representation; the returned weights are then
    refitted on all states. `ridge` is relative to the mean latent variance, so it means the same
    whatever the latent's scale."""
    if isinstance(features, pd.DataFrame):
        names = list(features.columns) if names is None else names
        features = features.to_numpy(float)
    x, y = np.asarray(latents, float), np.asarray(features, float)
    if y.ndim == 1:
        y = y[:, None]
    if x.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"latents {x.shape} and features {y.shape} must be (n, Z) and (n, F)")
    names = tuple(names) if names is not None else tuple(f"f{i}" for i in range(y.shape[1]))
    if len(names) != y.shape[1]:
        raise ValueError(f"{len(names)} names for {y.shape[1]} features")
    n = x.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(holdout * n))
    if n_test >= 5 and n - n_test >= 5:
        test, train = order[:n_test], order[n_test:]
        w, b = _ridge(x[train], y[train], ridge)
        r2 = _r2(y[test], x[test] @ w + b)
    else:
        w, b = _ridge(x, y, ridge)
        r2 = _r2(y, x @ w + b)
    w, b = _ridge(x, y, ridge)
    return Probes(names, w, b, r2)


def _ridge(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    mx, my = x.mean(0), y.mean(0)
    xc, yc = x - mx, y - my
    lam = ridge * max(float(np.mean(xc**2)), 1e-12) * x.shape[0]
    w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ yc)
    return w, my - mx @ w


def _r2(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    total = ((y - y.mean(0)) ** 2).sum(0)
    resid = ((y - pred) ** 2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 1e-12, 1.0 - resid / total, np.nan)


# ----------------------------------------------------------------------------- naming shards
def _basis(probes: Probes | None, latent: int) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    if probes is None:
        return tuple(f"z{i}" for i in range(latent)), np.eye(latent), np.zeros(latent)
    return probes.names, probes.weights, probes.bias


def strengths(params: bg.BasalGangliaParams, probes: Probes | None = None) -> np.ndarray:
    """(F, A): S[f, a] = w_a·w_f / |w_f|², logits per unit of feature f along its direction."""
    actor = np.asarray(params.actor_w, float)
    _, w, _ = _basis(probes, actor.shape[0])
    norm2 = (w**2).sum(0)
    return (w.T @ actor) / np.where(norm2 > 0, norm2, np.inf)[:, None]


def name_shards(
    params: bg.BasalGangliaParams,
    probes: Probes | None = None,
    top: int | None = None,
    actions: Sequence[str] = ACTIONS,
    min_r2: float | None = None,
) -> pd.DataFrame:
    """Which world features push which actions: one row per shard (feature, action), sorted by
    |strength|; `top` keeps the strongest per action; `min_r2` drops features the latent does not
    encode (a shard on an unreadable feature is not a shard). Columns: shard, feature, action,
    strength (logits per unit feature), cosine (of actor column and probe direction), probe_r2."""
    actor = np.asarray(params.actor_w, float)
    names, w, _ = _basis(probes, actor.shape[0])
    s = strengths(params, probes)
    dirs = w / np.maximum(np.linalg.norm(w, axis=0), 1e-12)
    cols = actor / np.maximum(np.linalg.norm(actor, axis=0), 1e-12)
    cosine = dirs.T @ cols
    r2 = probes.r2 if probes is not None else np.full(len(names), np.nan)
    rows = [
        {
            "shard": f"{f} → {a}", "feature": f, "action": a, "strength": float(s[i, j]),
            "cosine": float(cosine[i, j]), "probe_r2": float(r2[i]),
        }
        for i, f in enumerate(names)
        for j, a in enumerate(actions)
    ]  # fmt: skip
    df = pd.DataFrame(rows)
    if min_r2 is not None and probes is not None:
        df = df[df["probe_r2"] >= min_r2]
    df = df.reindex(df["strength"].abs().sort_values(ascending=False).index)
    if top is not None:
        df = df.groupby("action", sort=False).head(top)
    return df.reset_index(drop=True)


# ----------------------------------------------------------------------------- strength per context
def _reduce(x: np.ndarray, mode: Mode) -> np.ndarray:
    if mode == "abs":
        return np.abs(x)
    if mode == "positive":
        return np.maximum(x, 0.0)
    if mode == "signed":
        return x
    raise ValueError(f"mode must be 'abs', 'positive' or 'signed', not {mode!r}")


def shard_strength(
    params: bg.BasalGangliaParams,
    latents: ArrayLike,
    contexts: Mapping[str, ArrayLike],
    probes: Probes | None = None,
    chosen: ArrayLike | None = None,
    mode: Mode = "abs",
    actions: Sequence[str] = ACTIONS,
) -> pd.DataFrame:
    """Mean contribution f̂(z)·S[f, a] of every shard in each context (a boolean mask over the
    sampled states): a shard is *contextually* activated when this is large in some contexts
    and near zero in others. With `chosen` (n,) action indices, the contribution is to the
    chosen action's logit only (action column "chosen"). Columns: context, shard, feature,
    action, strength, n (states in the context)."""
    z = np.asarray(latents, float)
    names, w, b = _basis(probes, z.shape[1])
    act = z @ w + b  # (n, F)
    s = strengths(params, probes)  # (F, A)
    if chosen is not None:
        chosen = np.asarray(chosen, int)
        contrib = (act * s[:, chosen].T)[:, :, None]  # (n, F, 1)
        labels: Sequence[str] = ("chosen",)
    else:
        contrib = act[:, :, None] * s[None]  # (n, F, A)
        labels = actions
    contrib = _reduce(contrib, mode)
    rows = []
    for context, mask in contexts.items():
        mask = np.asarray(mask, bool)
        if mask.shape != (z.shape[0],):
            raise ValueError(f"context {context!r}: mask {mask.shape} must be ({z.shape[0]},)")
        count = int(mask.sum())
        mean = contrib[mask].mean(0) if count else np.full(contrib.shape[1:], np.nan)
        for i, f in enumerate(names):
            for j, a in enumerate(labels):
                rows.append(
                    {
                        "context": context, "shard": f"{f} → {a}", "feature": f, "action": a,
                        "strength": float(mean[i, j]), "n": count,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def attribute(
    terms: agent_.PolicyTerms, contexts: Mapping[str, ArrayLike], chosen: ArrayLike | None = None
) -> pd.DataFrame:
    """Who made the choice: each policy term's push on the chosen action, per context.

    `terms` are (…, M, A) arrays over M states (from `probes.policy_terms`; leading axes, e.g.
    agents, are averaged over); `contexts` boolean masks over the M states; `chosen` (…, M)
    the actions taken (default: the policy's most likely). A term's push is its logit for the
    chosen action minus its mean logit, so the pushes sum to the whole policy's (times the
    temperature); its share is the push over the sum of the terms' absolute pushes. The actor's
    push is where shards act; the habit prior, PFC plans and episodic values are the rest.
    Columns: context, term, push, share, n."""
    arrays = {name: np.asarray(t, float) for name, t in terms._asdict().items()}
    total = sum(arrays.values())
    chosen = total.argmax(-1) if chosen is None else np.asarray(chosen, int)
    pushes = {name: np.take_along_axis(t, chosen[..., None], -1)[..., 0] - t.mean(-1)
              for name, t in arrays.items()}  # fmt: skip
    scale = sum(np.abs(p) for p in pushes.values()) + 1e-12
    m = total.shape[-2]
    rows = []
    for context, mask in contexts.items():
        mask = np.asarray(mask, bool)
        if mask.shape != (m,):
            raise ValueError(f"context {context!r}: mask {mask.shape} must be ({m},)")
        for name, push in pushes.items():
            rows.append({"context": context, "term": name,
                         "push": float(push[..., mask].mean()) if mask.any() else np.nan,
                         "share": float((push / scale)[..., mask].mean()) if mask.any() else np.nan,
                         "n": int(mask.sum())})  # fmt: skip
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Snapshot:
    """The actor at some training step, with the latents of the probe states under the cortex
    of that moment (the cortex keeps learning, so the same observations move in z)."""

    step: int
    params: bg.BasalGangliaParams
    latents: np.ndarray


def track(
    snapshots: Sequence[Snapshot],
    contexts: Mapping[str, ArrayLike],
    features: pd.DataFrame | None = None,
    probes: Probes | None = None,
    mode: Mode = "abs",
) -> pd.DataFrame:
    """Shard strengths over training: `shard_strength` at each snapshot. With `features`, probes
    are refitted on each snapshot's latents (the representation drifts as the cortex learns);
    else the given `probes` (or raw latent units) are used throughout. Columns: step, context,
    shard, feature, action, strength, n, probe_r2."""
    frames = []
    for snap in snapshots:
        p = probe(snap.latents, features) if features is not None else probes
        df = shard_strength(snap.params, snap.latents, contexts, p, mode=mode)
        r2 = dict(zip(p.names, p.r2, strict=True)) if p is not None else {}
        df.insert(0, "step", snap.step)
        df["probe_r2"] = df["feature"].map(r2).astype(float)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def collect(
    world: World,
    env_params,
    config,
    key,
    n_steps: int,
    every: int,
    obs: ArrayLike,
    n_agents: int = 1,
    agent: int = 0,
) -> list[Snapshot]:
    """Train a population in chunks of `every` ticks and snapshot one agent's actor and its
    latents of the probe observations `obs` (n, O) after each chunk (step 0 included)."""
    import jax

    from shardlab.brain import population

    obs = np.asarray(obs, np.float32)

    def snap(step: int, agents) -> Snapshot:
        return Snapshot(step, population.members(agents)[agent].basal_ganglia,
                        population.latents(agents, obs)[agent])  # fmt: skip

    k_init, key = jax.random.split(key)
    agents, _, _ = population.start(world, env_params, config, k_init, n_agents)
    out = [snap(0, agents)]
    done = 0
    while done < n_steps:
        size = min(every, n_steps - done)
        key, k = jax.random.split(key)
        agents = population.train(
            world, env_params, config, k, n_agents, size, agents=agents, chunk=size
        ).agents
        done += size
        out.append(snap(done, agents))
    return out


# ----------------------------------------------------------------------------- world features
def sample_observations(world: World, env_params, key, n: int, steps: int = 16) -> np.ndarray:
    """(n, O) observations from n fresh worlds after 0..`steps` random moves each (no episode
    resets): probe states that cover what the agent sees, independent of any agent's policy."""
    return np.asarray(_sampler(world, n, steps)(key, env_params))


@cache
def _sampler(world: World, n: int, steps: int) -> Callable:
    """One compiled sampler per world and shape; the parameters (the phase) are data."""
    import jax
    import jax.numpy as jnp

    @jax.jit
    def run(key, env_params):
        k_reset, k_act, k_len, k_step = jax.random.split(key, 4)
        obs, state = world.reset_batch(k_reset, n, env_params)
        lengths = jax.random.randint(k_len, (n,), 0, steps + 1)
        step = jax.vmap(world.step_env, in_axes=(0, 0, 0, None))

        def tick(carry, x):
            obs, state, alive = carry
            t, k_a, k_s = x
            action = jax.random.randint(k_a, (n,), 0, 4)
            new_obs, new_state, _, _, done = step(jax.random.split(k_s, n), state, action,
                                                  env_params)  # fmt: skip
            keep = alive & (t < lengths) & ~done
            pick = lambda a, b: jnp.where(keep.reshape((n,) + (1,) * (a.ndim - 1)), a, b)  # noqa: E731
            return (pick(new_obs, obs), jax.tree.map(pick, new_state, state), keep), None

        xs = (jnp.arange(steps), jax.random.split(k_act, steps), jax.random.split(k_step, steps))
        (obs, _, _), _ = jax.lax.scan(tick, (obs, state, jnp.ones(n, bool)), xs)
        return obs

    return run


def world_features(world: World, obs: ArrayLike) -> pd.DataFrame:
    """Named context features of grid observations, read from the observation layout:
    egocentric view (V, V, 1+K) row-major (channel 0 walls, 1+k object kind k), then drives,
    items/3, signal light, supervisor. Per kind: "<kind> visible", "<kind> here" (under the
    agent), and "<kind> up/down/left/right" (where the nearest visible instance lies; a diagonal
    one is both); then the interoceptive ones ("hunger", "salt need", "carrying trash", …)."""
    obs = np.asarray(obs, float)
    if obs.ndim == 1:
        obs = obs[None]
    if obs.shape[1] != world.obs_size:
        raise ValueError(f"observations of size {obs.shape[1]}; {world.scenario.name} has "
                         f"{world.obs_size}")  # fmt: skip
    v, r, c = world.view, world.radius, world.n_channels
    n = obs.shape[0]
    view = obs[:, : v * v * c].reshape(n, v, v, c)
    rows, cols = np.meshgrid(np.arange(v) - r, np.arange(v) - r, indexing="ij")
    dist = (np.abs(rows) + np.abs(cols)).reshape(-1)
    out: dict[str, np.ndarray] = {}
    for k, kind in enumerate(world.scenario.kinds):
        present = view[..., 1 + k].reshape(n, -1) > 0.5
        visible = present.any(1)
        nearest = np.argmin(np.where(present, dist, np.inf), 1)
        dr, dc = rows.reshape(-1)[nearest], cols.reshape(-1)[nearest]
        out[f"{kind.name} visible"] = visible
        out[f"{kind.name} here"] = present[:, (v * v) // 2]
        for name, on in zip(DIRECTIONS, (dr < 0, dr > 0, dc < 0, dc > 0), strict=True):
            out[f"{kind.name} {name}"] = visible & on
    intero = obs[:, v * v * c :]
    for i, drive in enumerate(DRIVES):
        out[drive.replace("_", " ")] = intero[:, i]
    for i, item in enumerate(ITEMS):
        out[f"carrying {item}"] = intero[:, len(DRIVES) + i] > 0
    out["signal light"] = intero[:, len(DRIVES) + len(ITEMS)] > 0.5
    out["supervisor visible"] = intero[:, len(DRIVES) + len(ITEMS) + 1] > 0.5
    return pd.DataFrame({name: np.asarray(x, float) for name, x in out.items()})


# ----------------------------------------------------------------------------- plotting
def plot_strengths(df: pd.DataFrame, path: str | Path, top: int = 8, title: str = "") -> Path:
    """A PNG of shard strengths: lines over `step` if the table has one (from `track`), else
    grouped bars per context (from `shard_strength`); only the `top` strongest shards."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    path = Path(path)
    keep = df.groupby("shard")["strength"].apply(lambda s: s.abs().max()).nlargest(top).index
    df = df[df["shard"].isin(keep)]
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if "step" in df.columns:
        for (shard, context), g in df.groupby(["shard", "context"]):
            ax.plot(g["step"], g["strength"], marker="o", ms=3, label=f"{shard} | {context}")
        ax.set_xlabel("training step")
    else:
        table = df.pivot_table(index="context", columns="shard", values="strength")
        width = 0.8 / max(len(table.columns), 1)
        x = np.arange(len(table.index))
        for i, shard in enumerate(table.columns):
            ax.bar(x + i * width, table[shard], width, label=shard)
        ax.set_xticks(x + 0.4 - width / 2, table.index)
    ax.set_ylabel("shard strength (logits)")
    ax.set_title(title or "shard strength")
    ax.legend(fontsize="x-small", ncols=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=120)
    tmp.replace(path)
    return path
