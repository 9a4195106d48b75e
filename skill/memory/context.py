"""What every part of one open memory shares: the records store, the vector index and its
in-process cache, the embedding model (loaded on first use) and the warnings of the call."""

from __future__ import annotations

from skill.memory.embed import Embedder, EmbeddingUnavailable, shared_embedder
from skill.memory.store import RecordStore
from skill.memory.vector import VectorIndex
from skill.memory.vector_cache import VectorCache


class MemoryContext:
    def __init__(
        self, store: RecordStore, index: VectorIndex, *, url: str | None, embedder: Embedder | None
    ) -> None:
        self.store = store
        self.index = index
        self.url = url
        self.embedder = embedder
        self.cache = VectorCache()
        self.warnings: list[str] = []

    @property
    def team_mode(self) -> bool:
        return bool(self.url)

    def model(self) -> Embedder:
        if self.embedder is None:
            self.embedder = shared_embedder()
        return self.embedder

    def embed(self, texts: list[str]):
        """Vectors for ``texts``, or None (with a warning kept) when the model cannot be had."""
        try:
            return self.model().embed(texts)
        except EmbeddingUnavailable as exc:
            self.warn(f"embedding model unavailable, vector pending: {exc}")
            return None

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
