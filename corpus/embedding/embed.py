"""The embed stage: every sentence of a files table embedded, through the embedding store.

Takes ``tables.SEGMENTED_SCHEMA`` files tables and gives ``tables.embedded_schema(dim)``;
the encoder is ``corpus.embedding.encoder``, the store ``corpus.embedding.store``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from corpus.embedding.encoder import Encoder, load_encoder
from corpus.embedding.store import EmbeddingStore, encode_cached, model_id
from corpus.tables import embeddings_type


@dataclass(frozen=True)
class EmbedOptions:
    """The encoder of a build or of ``corpus align``: the embed stage's settings."""

    model: str | None = None  # None: the bundled multilingual-e5-small
    precision: str = "auto"  # encoder.PRECISIONS: the machine's best, or one forced
    batch_size: int = 32
    threads: int | None = None  # torch threads; None: the library's default


class EmbedSentences:
    """Embed stage: adds ``embeddings`` (one unit row per sentence, float32) and
    ``n_encoded`` (the batch's count of texts passed to the model, on its first row).

    ``setup()`` loads the encoder and opens the embedding store once per process (an actor
    in Ray); texts the store holds are not embedded again. Each row also names the model
    (``embedded_by``); what the store warned of goes into the batch's first row.
    """

    def __init__(self, options: EmbedOptions, cache_dir: Path | None = None) -> None:
        self.options = options
        self.cache_dir = cache_dir  # the embedding store's folder; None: embed everything
        self.encoder: Encoder | None = None
        self.store: EmbeddingStore | None = None
        self.warnings: list[str] = []

    def setup(self) -> None:
        if self.encoder is not None:
            return
        if self.options.threads:
            import torch

            torch.set_num_threads(self.options.threads)
        self.encoder = load_encoder(self.options.model, self.options.precision)
        folder = self.cache_dir
        if folder is not None:
            try:
                self.store = EmbeddingStore(folder, model_id(self.encoder), self.encoder.dim)
            except OSError as exc:
                self.warnings.append(
                    f"{folder}: embedding cache unusable ({exc.strerror or exc}); "
                    "embedding everything"
                )

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        encoder = self.encoder
        sentences = batch.column("sentences").to_pylist()
        texts = [s["text"] for row in sentences if row for s in row]
        before = encoder.n_encoded
        vectors, _ = encode_cached(
            encoder,
            texts,
            self.store,
            batch_size=self.options.batch_size,
        )
        counts = [len(row) if row else 0 for row in sentences]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        rows = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), encoder.dim)
        nulls = pa.array([row is None for row in sentences])
        embeddings = pa.ListArray.from_arrays(pa.array(offsets), rows, mask=nulls)
        n_encoded = [encoder.n_encoded - before] + [0] * (batch.num_rows - 1)
        if self.store is not None and self.store.warnings:
            self.warnings += self.store.warnings
            self.store.warnings.clear()
        if self.warnings and batch.num_rows:  # reported once, on the batch's first row
            warnings = batch.column("warnings").to_pylist()
            warnings[0] = [*warnings[0], *self.warnings]
            self.warnings = []
            batch = batch.set_column(
                batch.schema.get_field_index("warnings"), "warnings", pa.array(warnings)
            )
        return (
            batch.append_column(pa.field("embeddings", embeddings_type(encoder.dim)), embeddings)
            .append_column(pa.field("n_encoded", pa.int32()), pa.array(n_encoded, pa.int32()))
            .append_column("embedded_by", pa.array([model_id(encoder)] * batch.num_rows))
        )


def file_embeddings(column: pa.ListArray, index: int, dim: int) -> np.ndarray:
    """One file's sentence embeddings, (n_sentences, dim) float32, from an ``embeddings``
    column without converting it to Python lists."""
    vectors = column[index].values
    if vectors is None or len(vectors) == 0:
        return np.zeros((0, dim), np.float32)
    return vectors.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
