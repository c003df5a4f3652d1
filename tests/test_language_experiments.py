"""The language experiments end to end in quick mode: tables, verdicts and figures."""

import json

import pytest
from conftest import run_quick

from shardlab.experiments.registry import get

EXPERIMENTS = {"valence-from-language": ("M1", "V5"), "propaganda": ("M2",),
               "ideology-bundling": ("M3",)}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_quick_run(name: str, tmp_path) -> None:
    path, _ = run_quick(get(name), tmp_path)
    summary = json.loads((path / "summary.json").read_text())
    assert tuple(c["id"] for c in summary["claims"]) == EXPERIMENTS[name]
    assert all(c["verdict"] in {"supported", "not supported", "inconclusive", "not testable"}
               for c in summary["claims"])
    assert list((path / "figures").glob("*.png"))
