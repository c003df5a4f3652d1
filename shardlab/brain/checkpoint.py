"""Save and load agent state (one agent or a batched population) as safetensors — never pickle.

The pytree is flattened with `jax.tree_util.tree_flatten_with_path`; each leaf is stored under
the `keystr` of its path. The safetensors metadata holds the agent config (as JSON), the
shardlab version and, for an `AgentState`, the sizes needed to rebuild its structure
(observation size, number of actions, leading batch shape). Loading rebuilds the structure from
a template — `agent.init` for the config, or `like=` — and checks every key, shape and dtype, so
a checkpoint can never be silently read into the wrong agent.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

import shardlab
from shardlab.brain import agent as agent_
from shardlab.errors import ShardlabError

FORMAT = "shardlab-checkpoint/1"


def _config_json(config: agent_.AgentConfig) -> str:
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ShardlabError(f"config must be an AgentConfig instance, got {type(config).__name__}")
    return json.dumps(dataclasses.asdict(config), sort_keys=True)


def _flatten(tree: Any) -> dict[str, Any]:
    leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {jax.tree_util.keystr(path): leaf for path, leaf in leaves}


def _shape_dtype(leaf: Any) -> tuple[tuple[int, ...], np.dtype]:
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return tuple(leaf.shape), np.dtype(leaf.dtype)
    array = np.asarray(leaf)
    return array.shape, array.dtype


def save(path: str | os.PathLike[str], state: Any, config: agent_.AgentConfig) -> Path:
    """Write `state` (an `AgentState`, batched or not, or any pytree of arrays) to `path`,
    atomically: a temporary file in the same directory, then `os.replace`."""
    from safetensors.numpy import save as to_bytes

    path = Path(path)
    tensors: dict[str, np.ndarray] = {}
    for key, leaf in _flatten(state).items():
        try:
            array = np.array(leaf, order="C", copy=True)  # (ascontiguousarray makes 0-d 1-d)
        except (TypeError, ValueError) as err:
            raise ShardlabError(f"cannot save leaf {key}: {err}") from err
        if array.dtype == object:
            raise ShardlabError(f"cannot save leaf {key}: not an array of numbers")
        tensors[key] = array
    metadata = {
        "format": FORMAT,
        "shardlab_version": shardlab.__version__,
        "config": _config_json(config),
    }
    if isinstance(state, agent_.AgentState):
        metadata["agent"] = json.dumps(
            {
                "obs_size": int(np.shape(state.obs)[-1]),
                "n_actions": int(np.shape(state.basal_ganglia.actor_b)[-1]),
                "held": _held(state.cortex.held),
                "batch": list(np.shape(state.obs)[:-1]),
            }
        )
    try:
        data = to_bytes(tensors, metadata=metadata)
    except Exception as err:  # safetensors rejects e.g. unsupported dtypes
        raise ShardlabError(f"cannot save checkpoint {path}: {err}") from err
    if not path.parent.is_dir():
        raise ShardlabError(f"cannot save checkpoint: directory {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _held(rows: Any) -> list[int]:
    """The observation entries a cortex's `held` rows pick (the same for every agent)."""
    rows = np.asarray(rows)
    one = rows[(0,) * (rows.ndim - 2)]  # the first agent's
    return [int(i) for i in np.argmax(one, -1)] if one.size else []


def _read(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    from safetensors import safe_open

    if not path.is_file():
        raise ShardlabError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="np") as f:
            metadata = dict(f.metadata() or {})
            tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118
    except Exception as err:
        raise ShardlabError(f"not a readable safetensors checkpoint: {path} ({err})") from err
    if metadata.get("format") != FORMAT:
        raise ShardlabError(f"not a shardlab checkpoint (no '{FORMAT}' metadata): {path}")
    return metadata, tensors


def _template(metadata: dict[str, str], config: agent_.AgentConfig, path: Path) -> Any:
    """The structure (shapes and dtypes) an AgentState for `config` would have."""
    if "agent" not in metadata:
        raise ShardlabError(
            f"checkpoint {path} does not hold an AgentState; pass like= a template pytree"
        )
    sizes = json.loads(metadata["agent"])
    single = jax.eval_shape(
        lambda: agent_.init(jax.random.key(0), config, sizes["obs_size"], sizes["n_actions"],
                            held=tuple(sizes.get("held", ())))
    )  # fmt: skip
    batch = tuple(sizes["batch"])
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(batch + s.shape, s.dtype), single)


def load(path: str | os.PathLike[str], config: agent_.AgentConfig, *, like: Any = None) -> Any:
    """Read a checkpoint written by `save` for `config`; returns the pytree of jax arrays.

    The structure comes from `like` if given, else from `agent.init` for `config` (with the
    sizes recorded at save time). Every key, shape and dtype is checked against it."""
    path = Path(path)
    metadata, tensors = _read(path)
    stored, expected = json.loads(metadata.get("config", "null")), json.loads(_config_json(config))
    if stored != expected:
        diff = _first_difference(stored, expected)
        raise ShardlabError(f"checkpoint {path} was saved with a different agent config ({diff})")
    template = like if like is not None else _template(metadata, config, path)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
    keys = [jax.tree_util.keystr(p) for p, _ in leaves]
    missing = [k for k in keys if k not in tensors]
    extra = sorted(set(tensors) - set(keys))
    if missing or extra:
        raise ShardlabError(
            f"checkpoint {path} does not match the agent's structure "
            f"(missing: {missing[:3] or 'none'}; unexpected: {extra[:3] or 'none'})"
        )
    out = []
    for key, (_, leaf) in zip(keys, leaves, strict=True):
        shape, dtype = _shape_dtype(leaf)
        array = tensors[key]
        if array.shape != shape or array.dtype != dtype:
            raise ShardlabError(
                f"checkpoint {path}: {key} is {array.dtype}{list(array.shape)}, "
                f"expected {dtype}{list(shape)}"
            )
        out.append(jax.numpy.asarray(array))
    return jax.tree_util.tree_unflatten(treedef, out)


def _first_difference(stored: Any, expected: Any, where: str = "") -> str:
    if isinstance(stored, dict) and isinstance(expected, dict):
        for key in sorted(set(stored) | set(expected)):
            if stored.get(key) != expected.get(key):
                return _first_difference(stored.get(key), expected.get(key), f"{where}.{key}")
    return f"{where.lstrip('.') or 'config'}: saved {stored!r}, given {expected!r}"
