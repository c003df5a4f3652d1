"""`shardlab bench values`: value learning against peers, timed in the same run.

- **MaxEnt IRL vs imitation's MCE-IRL** (imitation 1.0.1, in its own virtualenv `.venv-imitation`
  made by `make bench`) on the same tabular grid MDP with linear state features and a soft-optimal
  expert's exact occupancy measure. The measure is the time to equal reward recovery: training
  until the Pearson r between recovered and true state reward reaches 0.9, checked every chunk of
  steps; the checks are not timed, and shardlab's program is compiled by a warm-up run first.
- **Bradley–Terry vs choix** (0.4.1) on an item-level problem of equal size: our model with
  one-hot item features against `choix.opt_pairwise`, the same L2 prior, matching estimates.

Ratios are peer seconds / shardlab seconds (> 1: shardlab is faster).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import jax
import jax.numpy as jnp
import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from shardlab.bench import peers
from shardlab.errors import ShardlabError
from shardlab.values import irl, preferences
from shardlab.values import mdp as grid_mdp

PEER = Path(__file__).with_name("_imitation_peer.py")
TARGET = 0.9  # Pearson r between recovered and true state reward that counts as recovered


def irl_problem(side: int, k: int, horizon: int, gamma: float, seed: int) -> dict[str, Any]:
    """A slippery grid, k random features and a true reward φw, as dense numpy arrays."""
    mdp = grid_mdp.grid(side, slip=0.1, gamma=gamma)
    kf, kw = jax.random.split(jax.random.key(seed))
    phi = np.asarray(grid_mdp.features(kf, mdp.n_states, k))
    w = np.asarray(jax.random.normal(kw, (k,)))
    transition = np.zeros((mdp.n_states, mdp.n_actions, mdp.n_states))
    nxt = np.asarray(mdp.next_state)
    for s in range(mdp.n_states):
        for a in range(mdp.n_actions):
            transition[s, a, nxt[s, a]] += 1 - mdp.slip
            for b in range(mdp.n_actions):
                transition[s, a, nxt[s, b]] += mdp.slip / mdp.n_actions
    return {"mdp": mdp, "transition": transition, "features": phi, "w": w,
            "reward": phi @ w, "start": np.asarray(mdp.start), "horizon": horizon,
            "gamma": gamma}


def ours_irl(problem: dict[str, Any], chunk: int, max_steps: int, lr: float) -> dict[str, Any]:
    """shardlab's causal MaxEnt IRL: seconds to recovery (checks and compile excluded)."""
    mdp, horizon = problem["mdp"], problem["horizon"]
    phi = jnp.asarray(problem["features"], jnp.float32)
    _, _, expert = grid_mdp.soft_value_iteration(mdp, jnp.asarray(problem["reward"]), horizon)
    mu = irl.feature_expectations(mdp, expert, phi, horizon)
    run = jax.jit(lambda carry: irl.maxent_steps(mdp, phi, mu, carry, chunk, lr, horizon))
    jax.block_until_ready(run(irl.maxent_init(phi.shape[1], lr)))  # compile
    carry, seconds, done, r = irl.maxent_init(phi.shape[1], lr), 0.0, 0, float("nan")
    while done < max_steps:
        start = time.perf_counter()
        carry = jax.block_until_ready(run(carry))
        seconds += time.perf_counter() - start
        done += chunk
        r = float(np.corrcoef(problem["features"] @ np.asarray(carry.w), problem["reward"])[0, 1])
        if r >= TARGET:
            break
    return {"seconds": seconds, "recovery": r, "iterations": done}


def peer_irl(problem: dict[str, Any], chunk: int, max_steps: int, lr: float) -> dict[str, Any]:
    """imitation's MCE-IRL in its own virtualenv, on the same arrays."""
    peers.python("imitation")  # fail before writing anything if its virtualenv is missing
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "problem.npz"
        np.savez(path, **{key: problem[key] for key in
                          ("transition", "features", "reward", "start", "horizon", "gamma")})
        return peers.run("imitation", PEER, path, TARGET, chunk, max_steps, lr)


def bradley_terry(items: int, comparisons: int, alpha: float, seed: int, repeats: int = 3
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Item-level Bradley–Terry: shardlab (one-hot features, Newton) vs choix.opt_pairwise."""
    try:
        import choix
    except ImportError:
        raise ShardlabError("choix is not installed; install the extra with: "
                            "pip install 'shardlab[bench]'") from None
    rng = np.random.default_rng(seed)
    strength = rng.normal(size=items)
    pairs = rng.choice(items, size=(comparisons, 2))
    pairs[:, 1] = (pairs[:, 0] + 1 + rng.integers(0, items - 1, comparisons)) % items
    a_wins = rng.random(comparisons) < 1 / (1 + np.exp(strength[pairs[:, 1]]
                                                       - strength[pairs[:, 0]]))
    winners = np.where(a_wins, pairs[:, 0], pairs[:, 1])
    losers = np.where(a_wins, pairs[:, 1], pairs[:, 0])
    eye = np.eye(items, dtype=np.float32)
    data = preferences.Comparisons(jnp.asarray(eye[winners] - eye[losers]),
                                   jnp.ones(comparisons), jnp.ones(comparisons))
    fit = jax.jit(lambda d: preferences.fit(d, ridge=2 * alpha))  # choix: alpha·‖θ‖²
    ours = np.asarray(jax.block_until_ready(fit(data)))  # compile
    ours_s = min(_timed(lambda: jax.block_until_ready(fit(data))) for _ in range(repeats))
    listed = list(zip(winners.tolist(), losers.tolist(), strict=True))
    theirs = choix.opt_pairwise(items, listed, alpha=alpha)
    theirs_s = min(_timed(lambda: choix.opt_pairwise(items, listed, alpha=alpha))
                   for _ in range(repeats))
    agree = float(np.corrcoef(ours, theirs)[0, 1])
    gap = float(np.abs(ours - theirs).max())
    task = f"bradley-terry ({items} items, {comparisons} comparisons)"
    return ({"task": task, "engine": "shardlab", "seconds": ours_s, "recovery": agree,
             "max_abs_diff_vs_choix": gap},
            {"task": task, "engine": "choix", "seconds": theirs_s, "recovery": 1.0})


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(skip_imitation: bool, side: int, k: int, horizon: int, items: int, comparisons: int,
        progress: Any = None) -> dict[str, Any]:
    say = progress or (lambda message: None)
    results: list[dict[str, Any]] = []
    ratios: dict[str, float] = {}
    chunk, max_steps, lr = 10, 3000, 0.05  # same chunking, cap and Adam rate for both engines
    task = f"maxent-irl ({side}x{side} grid, k={k}, horizon {horizon})"
    problem = irl_problem(side, k, horizon, 0.9, seed=0)
    say("shardlab MaxEnt IRL")
    ours = {"task": task, "engine": "shardlab", **ours_irl(problem, chunk, max_steps, lr)}
    results.append(ours)
    if not skip_imitation:
        say("imitation MCE-IRL")
        peer = {"task": task, "engine": "imitation-mce-irl",
                **peer_irl(problem, chunk, max_steps, lr)}
        results.append(peer)
        ratios["vs_imitation_mce_irl"] = peer["seconds"] / ours["seconds"]
    say("Bradley–Terry vs choix")
    bt_ours, bt_choix = bradley_terry(items, comparisons, alpha=0.01, seed=0)
    results += [bt_ours, bt_choix]
    ratios["vs_choix"] = bt_choix["seconds"] / bt_ours["seconds"]
    return {"results": results, "ratios": ratios}


def values(
    json_out: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
    skip_imitation: Annotated[
        bool, typer.Option("--skip-imitation", help="Leave out imitation's MCE-IRL.")
    ] = False,
    side: Annotated[int, typer.Option(help="Grid side of the IRL problem.")] = 8,
    k: Annotated[int, typer.Option(help="Reward features of the IRL problem.")] = 8,
    horizon: Annotated[int, typer.Option(help="IRL horizon (Bellman sweeps).")] = 40,
    items: Annotated[int, typer.Option(help="Items of the Bradley–Terry problem.")] = 50,
    comparisons: Annotated[int, typer.Option(help="Its pairwise comparisons.")] = 5000,
) -> None:
    """MaxEnt IRL vs imitation's MCE-IRL (time to r ≥ 0.9 reward recovery) and Bradley–Terry
    vs choix, as ratios measured in the same run."""
    if min(side, k, horizon, items, comparisons) < 2:
        raise ShardlabError("side, k, horizon, items and comparisons must all be >= 2")
    err = Console(stderr=True, highlight=False)
    say = None if json_out else (lambda message: err.print(f"[dim]timing {message}…[/dim]"))
    out = run(skip_imitation, side, k, horizon, items, comparisons, progress=say)
    if json_out:
        print(json.dumps(out))
        return
    console = Console(highlight=False)
    table = Table("task", "engine", "seconds", "recovery", title="value learning")
    for r in out["results"]:
        table.add_row(r["task"], r["engine"], f"{r['seconds']:.4f}", f"{r['recovery']:.3f}")
    console.print(table)
    for name, ratio in out["ratios"].items():
        console.print(f"shardlab {name}: {ratio:.2f}×")
