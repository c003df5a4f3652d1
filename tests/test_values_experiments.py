"""The value-learning experiments (V1–V4) end to end in quick mode."""

import json
from pathlib import Path

import pytest
from conftest import run_quick

from shardlab.analysis.verdicts import VERDICTS
from shardlab.errors import ShardlabError
from shardlab.experiments import comparison_elbow, irl_bottleneck, preference_components
from shardlab.language import lexicons


@pytest.mark.parametrize(
    ("module", "claims"),
    [(irl_bottleneck, ["V1", "V2"]), (comparison_elbow, ["V3"]),
     (preference_components, ["V4"])],
)
def test_value_experiment_runs_quick(module: object, claims: list[str], tmp_path: Path) -> None:
    run_dir, _ = run_quick(module.EXPERIMENT, tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [c["id"] for c in summary["claims"]] == claims
    assert all(c["verdict"] in VERDICTS for c in summary["claims"])
    assert all((run_dir / f).is_file() for f in summary["figures"])


def test_v1_table_is_supported_deterministically() -> None:
    share, text = irl_bottleneck.table_check()
    assert share == 1.0 and "177" in text


def test_missing_lexicon_package_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicons.importlib.util, "find_spec", lambda name: None)
    lexicons._warriner.cache_clear()
    with pytest.raises(ShardlabError, match="labMTsimple"):
        preference_components._warriner()
    lexicons._warriner.cache_clear()


@pytest.mark.parametrize("peer", ["imitation", "jaxgrids"])
def test_bench_names_a_missing_peer_venv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         peer: str) -> None:
    from shardlab.bench import peers

    monkeypatch.setenv(f"SHARDLAB_{peer.upper()}_PYTHON", str(tmp_path / "nowhere" / "python"))
    with pytest.raises(ShardlabError, match="make bench"):
        peers.run(peer, tmp_path / "script.py")
