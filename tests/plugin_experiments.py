"""Tiny experiments for testing the runner, registered through $SHARDLAB_PLUGINS.

"toy-coin" draws normal samples and claims their mean is positive; "toy-coin-null" is the same
experiment with a negative true mean, so the claim is not supported. `sleep_s` makes seeds slow.
"""

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import NonNegativeFloat, PositiveInt

from shardlab.analysis.statistics import claim_result
from shardlab.experiments.base import Claim, ClaimResult, Experiment, ExperimentConfig, Tables
from shardlab.experiments.registry import register

COIN = Claim(
    id="T1",
    claim="The coin is biased upwards",
    prediction="mean of the draws > 0",
    contrast="a coin with mean 0",
)


class CoinConfig(ExperimentConfig):
    samples: PositiveInt = 200
    mu: float = 0.5
    sleep_s: NonNegativeFloat = 0.0


class NullCoinConfig(CoinConfig):
    mu: float = -0.5


def run(config: CoinConfig, seed: int) -> Tables:
    time.sleep(config.sleep_s)
    draws = np.random.default_rng(seed).normal(config.mu, 1.0, config.samples)
    return {
        "summary": pd.DataFrame({"mean": [draws.mean()], "sd": [draws.std(ddof=1)]}),
        "draws": pd.DataFrame({"i": np.arange(config.samples), "x": draws}),
    }


def evaluate(tables: Tables, config: CoinConfig) -> list[ClaimResult]:
    return [claim_result(COIN, tables["summary"]["mean"], detail=f"mu={config.mu}")]


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
    quick={"seeds": 3, "samples": 50},
    claims=(COIN,),
    run=run,
    evaluate=evaluate,
    figures=figures,
))

TOY_COIN_NULL = register(dataclasses.replace(
    TOY_COIN, name="toy-coin-null", title="Toy coin (null)", config_type=NullCoinConfig
))
