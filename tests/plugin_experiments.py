"""Tiny experiments on planted data, registered through $SHARDLAB_PLUGINS, for testing the runner
and the judgement rule end to end.

Each seed draws normal samples around a planted mean `mu`; the claim is judged on the per-seed
means, with a margin of 0.2. A planted control coin (mean `control_mu`) is the precondition:
the experiment can only test its claim when the control shows its effect.

- "toy-coin": mu = 0.5, a planted effect → supported;
- "toy-coin-null": mu = 0, a planted null under a superiority test → not supported;
- "toy-coin-equivalent": mu = 0 under an equivalence test → supported;
- "toy-coin-untestable": mu = 0.5, but the control is flat → not testable.

`sleep_s` makes seeds slow.
"""

import dataclasses
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import NonNegativeFloat, PositiveInt

from shardlab.analysis.verdicts import (
    Claim,
    ClaimResult,
    equivalence,
    judge,
    precondition,
    superiority,
)
from shardlab.experiments.base import Experiment, ExperimentConfig, Tables
from shardlab.experiments.registry import register

COIN = Claim(
    id="T1",
    claim="The coin is biased upwards",
    prediction="mean of the draws > 0.2",
    contrast="a coin with mean 0",
)
MARGIN = 0.2  # the smallest bias the toy claim cares about


class CoinConfig(ExperimentConfig):
    samples: PositiveInt = 200
    mu: float = 0.5
    control_mu: float = 1.0
    test: Literal["superiority", "equivalence"] = "superiority"
    sleep_s: NonNegativeFloat = 0.0


class NullCoinConfig(CoinConfig):
    mu: float = 0.0


class EquivalentCoinConfig(CoinConfig):
    mu: float = 0.0
    test: Literal["superiority", "equivalence"] = "equivalence"


class UntestableCoinConfig(CoinConfig):
    control_mu: float = 0.0


def run(config: CoinConfig, seed: int) -> Tables:
    time.sleep(config.sleep_s)
    rng = np.random.default_rng(seed)
    draws = rng.normal(config.mu, 1.0, config.samples)
    control = rng.normal(config.control_mu, 1.0, config.samples)
    return {
        "summary": pd.DataFrame({"mean": [draws.mean()], "control": [control.mean()]}),
        "draws": pd.DataFrame({"i": np.arange(config.samples), "x": draws}),
    }


def evaluate(tables: Tables, config: CoinConfig) -> list[ClaimResult]:
    means = tables["summary"]["mean"]
    rule = superiority if config.test == "superiority" else equivalence
    control = precondition("the control coin is biased", tables["summary"]["control"])
    return [judge(COIN, [rule("mean of the draws", means, margin=MARGIN)], [control],
                  n=len(means), detail=f"mu={config.mu}")]  # fmt: skip


def figures(tables: Tables, config: CoinConfig, out: Path) -> list[Path]:
    figure = Figure(figsize=(4, 3))
    figure.subplots().hist(tables["draws"]["x"], bins=30)
    path = out / "draws.png"
    figure.savefig(path)
    return [path]


TOY_COIN = register(Experiment(
    name="toy-coin",
    title="Toy coin",
    description="Draws normal samples per seed.\n\nA fixture for the runner's tests.",
    config_type=CoinConfig,
    quick={"seeds": 3, "samples": 2000},
    claims=(COIN,),
    run=run,
    evaluate=evaluate,
    figures=figures,
))

TOY_COIN_NULL = register(dataclasses.replace(
    TOY_COIN, name="toy-coin-null", title="Toy coin (null)", config_type=NullCoinConfig
))
TOY_COIN_EQUIVALENT = register(dataclasses.replace(
    TOY_COIN, name="toy-coin-equivalent", title="Toy coin (equivalence)",
    config_type=EquivalentCoinConfig,
))
TOY_COIN_UNTESTABLE = register(dataclasses.replace(
    TOY_COIN, name="toy-coin-untestable", title="Toy coin (flat control)",
    config_type=UntestableCoinConfig,
))
