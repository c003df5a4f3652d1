"""`shardlab bench agent` at tiny sizes: the JSON shape, without torch or SB3.

The full brain takes over a minute to compile, so the test swaps in a brain without its two most
expensive modules (PFC, hippocampus) and leaves out the module costs (one compile each); the
command's code path is otherwise the real one."""

import dataclasses
import json
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import pytest
import typer
from typer.testing import CliRunner

from shardlab.bench import agent as bench_agent
from shardlab.brain import population
from shardlab.brain.agent import AgentConfig
from shardlab.errors import ShardlabError


def _cheap() -> AgentConfig:
    c = AgentConfig()
    return dataclasses.replace(
        c,
        pfc=dataclasses.replace(c.pfc, weight=0.0),
        hippocampus=dataclasses.replace(c.hippocampus, enabled=False),
    )


def test_bench_agent_json_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_agent, "AgentConfig", _cheap)
    monkeypatch.setattr(bench_agent, "MODULES", ())
    app = typer.Typer()
    app.command()(bench_agent.agent)
    result = CliRunner().invoke(
        app, ["--json", "--population", "4", "--steps", "8", "--skip-sb3"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) >= {"results", "ratios", "module_cost", "compile_s"}
    assert out["compile_s"] == out["results"][0]["compile_s"] >= 0
    (brain,) = out["results"]
    assert brain["agent"] == "brain" and brain["population"] == 4
    assert brain["steps_per_s"] > 0 and isinstance(brain["performance"], float)
    # Pooled over its timed runs: total steps over total seconds (without PPO, the runs before).
    assert len(brain["runs"]) == bench_agent.REPEATS
    assert brain["steps_per_s"] == pytest.approx(
        brain["env_steps"] * bench_agent.REPEATS / brain["seconds"])
    assert min(brain["runs"]) <= brain["steps_per_s"] <= max(brain["runs"])
    assert out["ratios"] == {}
    assert out["module_cost"] == {}


def test_ablations_switch_each_module_off() -> None:
    c = AgentConfig()
    assert bench_agent.ablate(c, "pfc").pfc.weight == 0
    assert not bench_agent.ablate(c, "hippocampus").hippocampus.enabled
    assert not bench_agent.ablate(c, "assessors").assessors.enabled
    assert bench_agent.ablate(c, "habit").basal_ganglia.habit_weight == 0
    assert not bench_agent.ablate(c, "cortex").cortex.plastic
    assert bench_agent.late_performance([[0.0]] * 27 + [[1.0]] * 3) == pytest.approx(1.0)


def test_brain_runs_on_both_sides_of_ppo(monkeypatch: pytest.MonkeyPatch) -> None:
    """With PPO (planted here), the brain is timed as often again after it, and the ratio is
    the brain's rate pooled over all its runs against PPO's."""
    monkeypatch.setattr(bench_agent, "AgentConfig", _cheap)
    monkeypatch.setattr(bench_agent, "require", lambda *names: None)
    monkeypatch.setattr(bench_agent, "bench_sb3", lambda envs, total: {
        "agent": "sb3_ppo", "population": envs, "env_steps": total, "seconds": 1.0,
        "steps_per_s": 10.0, "performance": 0.0})  # fmt: skip
    out = bench_agent.run(population=4, steps=8, modules=False)
    brain, ppo = out["results"]
    assert ppo["agent"] == "sb3_ppo" and len(brain["runs"]) == 2 * bench_agent.REPEATS
    assert brain["steps_per_s"] == pytest.approx(32 * len(brain["runs"]) / brain["seconds"])
    assert out["ratios"]["vs_sb3_ppo"] == pytest.approx(brain["steps_per_s"] / 10.0)


def test_pool_is_total_steps_over_total_seconds() -> None:
    """Runs of 100 steps in 1 s and 4 s pool to 200 steps in 5 s: 40 steps/s, not the mean of
    the runs' rates (62.5)."""
    empty = {"env_steps": 100, "seconds": 0.0, "runs": []}
    one = bench_agent.pool(empty, [1.0])
    assert one["runs"] == [100.0] and one["steps_per_s"] == 100.0
    both = bench_agent.pool(one, [4.0])
    assert both["runs"] == [100.0, 25.0] and both["seconds"] == 5.0
    assert both["steps_per_s"] == pytest.approx(40.0)


def test_a_timed_run_that_compiles_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted: a `train` that compiles a new program on every call. The warm-up may compile;
    a timed run may not, for its seconds would include the compile."""

    def compiling_train(*args: object, **kwargs: object) -> SimpleNamespace:
        fresh = jax.jit(lambda x: x + 1)  # a new function: a jit cache miss every call
        return SimpleNamespace(agents=fresh(jnp.zeros(3)), log=None)

    monkeypatch.setattr(population, "train", compiling_train)
    bench_agent.time_brain(_cheap(), 2, 4, range(1), warm_up=True)
    with pytest.raises(ShardlabError, match="compiled 1 program"):
        bench_agent.time_brain(_cheap(), 2, 4, range(1))

