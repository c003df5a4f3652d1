"""Peers whose pins conflict with shardlab's, or whose dependencies we keep out of `.venv`, live in
virtualenvs of their own, made by `make bench`, and run in a subprocess in the same benchmark
run: a script there prints one JSON line, read back here."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from shardlab.errors import ShardlabError


def python(name: str) -> Path:
    """The peer virtualenv's python: $SHARDLAB_<NAME>_PYTHON, or ./.venv-<name>/bin/python."""
    variable = f"SHARDLAB_{name.upper()}_PYTHON"
    path = Path(os.environ.get(variable, f".venv-{name}/bin/python"))
    if not path.is_file():
        raise ShardlabError(f"the {name} virtualenv was not found at {path}; run `make bench` "
                            f"(it creates .venv-{name}) or set ${variable}")
    return path


def run(name: str, script: Path, *args: object) -> Any:
    """Run `script` with the peer's python; its last line of output, parsed as JSON."""
    interpreter = python(name)
    done = subprocess.run([str(interpreter), str(script), *map(str, args)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ShardlabError(f"the {name} peer failed in {interpreter}: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])
