"""all-MiniLM-L6-v2 through onnxruntime + tokenizers, the same vectors as chromadb's default.

chromadb's default embedding function pads every text to 256 tokens and runs in fixed
batches of 32 in input order. Most operational notes are 15-60 tokens, so almost all of that
work is padding. Here texts are tokenized once, sorted by length, batched, and padded only to
the longest text of their batch; BERT with an attention mask gives the same hidden states for
real tokens whatever the padding, so mean pooling + L2 norm gives the same vectors.

Batches are cut by a token budget (rows x padded width <= ``token_budget``, at most
``max_batch`` rows) rather than a fixed row count: short memories go 20+ to a call, so the
per-call cost is shared, while paragraphs go a few at a time, so the attention and activations
of a batch stay in cache. 97% of the time is inside ``session.run``, so Python-side copies do
not matter; the speed-up ceiling against chromadb is its padded token count (256 per text) over
ours, which is ~11x for 23-token memories and ~5x for 54-token paragraphs.

The model files are read from where chromadb keeps them (``~/.cache/chroma/onnx_models/
all-MiniLM-L6-v2/onnx``, chromadb's ``ONNXMiniLM_L6_V2.DOWNLOAD_PATH / "onnx"``), or from
``$DEVOPS_MODEL_DIR``. onnxruntime/tokenizers/numpy are imported on first use only.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from skill.errors import DevopsError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256
REQUIRED_FILES = ("model.onnx", "tokenizer.json")
# chromadb checks these six before it considers its cache complete.
CHROMA_FILES = (
    "config.json",
    "model.onnx",
    "special_tokens_map.json",
    "tokenizer_config.json",
    "tokenizer.json",
    "vocab.txt",
)


class EmbeddingUnavailable(DevopsError):
    """The embedding model cannot be loaded (files missing, offline, broken runtime)."""


def chroma_model_dir() -> Path:
    """chromadb's own cache folder for the model (mirrors ONNXMiniLM_L6_V2.DOWNLOAD_PATH / 'onnx').

    Computed here rather than read from chromadb: importing chromadb costs ~1 s, which the
    recall path cannot afford. A test checks both agree.
    """
    return Path.home() / ".cache" / "chroma" / "onnx_models" / MODEL_NAME / "onnx"


def model_dir() -> Path:
    env = os.environ.get("DEVOPS_MODEL_DIR")
    return Path(env).expanduser() if env else chroma_model_dir()


def _try_chroma_download() -> bool:
    """Where the network allows, let chromadb fetch its model into its cache (first use)."""
    if os.environ.get("DEVOPS_MODEL_DIR") or os.environ.get("DEVOPS_NO_MODEL_DOWNLOAD"):
        return False
    try:
        from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

        ONNXMiniLM_L6_V2()._download_model_if_not_exists()  # noqa: SLF001 - chromadb's own fetch
    except Exception:  # noqa: BLE001 - offline: the caller falls back to "vector pending"
        return False
    return all((chroma_model_dir() / f).is_file() for f in REQUIRED_FILES)


class Embedder:
    """Thread-safe lazy embedder. ``embed(texts)`` -> float32 array (n, 384), rows L2-normalised."""

    model_id = f"{MODEL_NAME}/onnx-fp32"

    def __init__(
        self,
        directory: str | os.PathLike | None = None,
        *,
        token_budget: int = 512,
        max_batch: int = 64,
        threads: int = 0,
    ):
        self.directory = Path(directory) if directory else model_dir()
        self.token_budget = token_budget
        self.max_batch = max_batch
        self.threads = threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        try:
            self._load()
        except EmbeddingUnavailable:
            return False
        return True

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            missing = [f for f in REQUIRED_FILES if not (self.directory / f).is_file()]
            if missing and self.directory == chroma_model_dir() and _try_chroma_download():
                missing = []
            if missing:
                raise EmbeddingUnavailable(
                    f"embedding model not found in {self.directory} (missing {', '.join(missing)})",
                    hint="run ../shared/models/seed-chroma-cache.sh or set DEVOPS_MODEL_DIR",
                )
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer
            except ImportError as exc:  # pragma: no cover - both are dependencies
                raise EmbeddingUnavailable(f"embedding runtime missing: {exc}") from exc
            try:
                tok = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
                tok.enable_truncation(max_length=MAX_TOKENS)
                tok.no_padding()
                opts = ort.SessionOptions()
                opts.log_severity_level = 3
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                if self.threads:
                    opts.intra_op_num_threads = self.threads
                # Spinning worker threads burn CPU the other processes on a busy box need.
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = ort.InferenceSession(
                    str(self.directory / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # noqa: BLE001 - a corrupt model file is "unavailable", not a crash
                raise EmbeddingUnavailable(
                    f"cannot load embedding model from {self.directory}: {exc}"
                ) from exc
            self._tokenizer = tok
            self._session = session

    def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        self._load()
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encoded = self._tokenizer.encode_batch([t or "" for t in texts])
        lengths = [len(e.ids) for e in encoded]
        for idx in plan_batches(lengths, self.token_budget, self.max_batch):
            width = lengths[idx[-1]]
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = lengths[i]
                ids[row, :n] = encoded[i].ids
                mask[row, :n] = 1
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            norms[norms == 0] = 1e-12
            out[idx] = (pooled / norms).astype(np.float32)
        return out

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def plan_batches(lengths: list[int], token_budget: int, max_batch: int) -> list[list[int]]:
    """Indices grouped by ascending length; each group's rows x longest length <= token_budget.

    A text longer than the budget still gets a batch of its own.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and ((len(current) + 1) * lengths[i] > token_budget or len(current) >= max_batch):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


_SHARED: dict[str, Embedder] = {}


def shared_embedder() -> Embedder:
    """One embedder per process and model folder (loading the session costs ~0.2 s)."""
    key = str(model_dir())
    if key not in _SHARED:
        _SHARED[key] = Embedder()
    return _SHARED[key]
