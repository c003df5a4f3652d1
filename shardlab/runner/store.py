"""The results store: one directory per (experiment, resolved config), written so that nothing
half-written ever looks finished.

    runs/<experiment>/<run-id>/
        config.json                 the resolved config, experiment name, versions
        seeds/<seed>/<table>.parquet
        seeds/<seed>/DONE           written after the seed's tables: the seed is finished
        figures/*.png
        report.html
        summary.json                written last: the run is complete

The run id hashes the experiment name, the full config and shardlab's source code, so the same
command with the same code finds the same directory again and resumes it, while a changed brain
or world starts afresh rather than mixing its seeds with those of the old code.
Every file is written to a temporary name and renamed into place.
"""

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import shardlab
from shardlab.errors import ShardlabError
from shardlab.experiments.base import ExperimentConfig, Tables

CONFIG = "config.json"
SUMMARY = "summary.json"
REPORT = "report.html"
DONE = "DONE"

_REPORTED_PACKAGES = ("jax", "jaxlib", "numpy", "scipy", "pandas", "pydantic", "ray")


def package_versions() -> dict[str, str]:
    """Versions that decide whether a result can be reproduced (read without importing JAX)."""
    versions = {"python": platform.python_version(), "shardlab": shardlab.__version__}
    for package in _REPORTED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def ensure_writable(directory: Path) -> None:
    """Fail before any work if results could not be saved."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ShardlabError(f"output directory '{directory}' is not writable: {reason}") from None


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(temp))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write `text` so that `path` holds either the old content or all of the new."""
    _atomic_write(path, lambda temp: temp.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def code_fingerprint() -> str:
    """A hash of every Python source file of the installed shardlab package."""
    digest = hashlib.sha256()
    root = Path(shardlab.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def run_id(experiment: str, config: ExperimentConfig) -> str:
    """A short stable hash of the experiment name, its full resolved config and the code."""
    key = json.dumps({"experiment": experiment, "config": config.model_dump(mode="json"),
                      "code": code_fingerprint()}, sort_keys=True)  # fmt: skip
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class RunStore:
    """One run directory."""

    path: Path

    @classmethod
    def at(cls, out: Path, experiment: str, config: ExperimentConfig) -> "RunStore":
        """The directory this experiment and config always map to."""
        return cls(out / experiment / run_id(experiment, config))

    def initialise(self, experiment: str, config: ExperimentConfig, fresh: bool = False) -> None:
        """Create the directory and its config.json; `fresh` first deletes any earlier results."""
        if fresh:
            shutil.rmtree(self.path, ignore_errors=True)
        self.seeds_dir.mkdir(parents=True, exist_ok=True)
        if not (self.path / CONFIG).exists():
            write_json(self.path / CONFIG, {
                "experiment": experiment,
                "config": config.model_dump(mode="json"),
                "shardlab_version": shardlab.__version__,
                "code": code_fingerprint(),
            })

    @property
    def seeds_dir(self) -> Path:
        return self.path / "seeds"

    @property
    def figures_dir(self) -> Path:
        return self.path / "figures"

    @property
    def complete(self) -> bool:
        return (self.path / SUMMARY).exists()

    def finished_seeds(self) -> set[int]:
        return {int(marker.parent.name) for marker in self.seeds_dir.glob(f"*/{DONE}")}

    def write_seed(self, seed: int, tables: Tables, seconds: float) -> None:
        """Store one seed's tables, then its DONE marker; leftovers of an interrupted attempt
        at this seed are discarded first."""
        directory = self.seeds_dir / str(seed)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        for name, table in tables.items():
            _atomic_write(directory / f"{name}.parquet", partial(table.to_parquet, index=False))
        write_json(directory / DONE, {"seconds": seconds})

    def seed_seconds(self) -> float:
        """Compute time summed over finished seeds, including those of earlier, resumed runs."""
        return sum(read_json(marker)["seconds"] for marker in self.seeds_dir.glob(f"*/{DONE}"))

    def load_tables(self) -> Tables:
        """Each table concatenated over finished seeds, with a leading `seed` column."""
        parts: dict[str, list[pd.DataFrame]] = {}
        for seed in sorted(self.finished_seeds()):
            for file in sorted((self.seeds_dir / str(seed)).glob("*.parquet")):
                table = pd.read_parquet(file)
                table.insert(0, "seed", seed)
                parts.setdefault(file.stem, []).append(table)
        return {name: pd.concat(tables, ignore_index=True) for name, tables in parts.items()}

    def reset_figures(self) -> Path:
        shutil.rmtree(self.figures_dir, ignore_errors=True)
        self.figures_dir.mkdir()
        return self.figures_dir

    def read_summary(self) -> dict[str, Any]:
        if not self.complete:
            raise ShardlabError(f"'{self.path}' is not a complete run (no {SUMMARY})")
        return read_json(self.path / SUMMARY)

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_json(self.path / SUMMARY, summary)
