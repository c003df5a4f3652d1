"""The experiment contract: a claim, a typed config, and three functions: run, evaluate, figures.

An experiment module defines one `Experiment` and registers it. The runner owns everything else
(seeds, parallelism, storage, reports), so an experiment reads top to bottom like a script.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, PositiveInt, ValidationError

from shardlab.analysis.verdicts import Claim, ClaimResult
from shardlab.errors import ShardlabError

Tables = dict[str, pd.DataFrame]

MIN_SEEDS = 8  # at default settings: the seed is the unit, and intervals need enough of them
MIN_QUICK_SEEDS = 3  # a smoke test still needs a spread to draw an interval from
_KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


class ExperimentConfig(BaseModel):
    """Base of every experiment's config; unknown keys are errors so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")

    seeds: PositiveInt = 8


C = TypeVar("C", bound=ExperimentConfig)


@dataclass(frozen=True)
class Experiment(Generic[C]):
    """One claim family as runnable code.

    `run` maps (config, seed) to named tidy tables; it alone is responsible for seeding, so the
    same config and seed give identical tables. `evaluate` and `figures` receive every table
    concatenated over seeds, with a leading `seed` column.
    """

    name: str
    title: str
    description: str
    config_type: type[C]
    quick: Mapping[str, Any]
    claims: tuple[Claim, ...]
    run: Callable[[C, int], Tables]
    evaluate: Callable[[Tables, C], list[ClaimResult]]
    figures: Callable[[Tables, C, Path], list[Path]]

    def __post_init__(self) -> None:
        if not _KEBAB.fullmatch(self.name):
            raise ValueError(f"experiment name {self.name!r} is not kebab-case")
        ids = [claim.id for claim in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"experiment {self.name!r} has duplicate claim ids: {ids}")
        unknown = set(self.quick) - set(self.config_type.model_fields)
        if unknown:
            raise ValueError(f"experiment {self.name!r}: quick overrides {sorted(unknown)} "
                             "are not config fields")
        seeds = self.config_type.model_fields["seeds"]
        if seeds.metadata != ExperimentConfig.model_fields["seeds"].metadata:
            raise ValueError(f"experiment {self.name!r}: seeds must stay a PositiveInt")
        default, quick = seeds.default, self.quick.get("seeds", seeds.default)
        if default < MIN_SEEDS or quick < MIN_QUICK_SEEDS:
            raise ValueError(f"experiment {self.name!r}: needs >= {MIN_SEEDS} seeds by default "
                             f"and >= {MIN_QUICK_SEEDS} in quick mode, has {default} and {quick}")

    def configure(self, *, quick: bool = False, overrides: Mapping[str, Any] | None = None) -> C:
        """Resolve a config with precedence defaults < quick overrides < `overrides`."""
        values = {**(self.quick if quick else {}), **(overrides or {})}
        try:
            return self.config_type.model_validate(values)
        except ValidationError as error:
            raise ShardlabError(config_error_message(self.name, self.config_type, error)) from None


def config_error_message(name: str, config_type: type[BaseModel], error: ValidationError) -> str:
    """Turn a pydantic error into one line a user can act on."""
    known = ", ".join(config_type.model_fields)
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown config key '{key}' (known keys: {known})")
        else:
            problems.append(f"config key '{key}': {item['msg']} (got {item['input']!r})")
    return f"invalid config for '{name}': " + "; ".join(problems)
