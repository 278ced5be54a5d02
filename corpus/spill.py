"""Files tables of a build kept on disk, read back one file at a time.

The embed stage's output (texts, sentences, embeddings) is what makes a build's memory grow
with its corpus: about 1.5 KB of float32 per sentence plus its text. The driver appends each
embedded batch here, as one Arrow IPC record batch per file, and keeps in memory only the
small per-file facts (``FileFacts``). Grouping, alignment and writing then read the one or
two files they need (``FileSpill.file``) with plain reads, not a memory map, so the pages
they touched do not stay in the process's resident set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from corpus.records import ArticleFile, Document


@dataclass(frozen=True)
class FileFacts:
    """What the driver keeps in memory about one embedded file."""

    path: str
    sha256: str
    lang: str
    lang_confidence: float
    lang_mixed: bool
    n_sentences: int
    url: str | None
    title: str | None
    date: str | None
    hreflang: tuple[tuple[str, str], ...]
    n_not_text: int
    # sha256 of the sentence texts (joined by U+001F): an alignment's cache key is computed
    # from the facts, without reading the file back.
    sentences_sha256: bytes = b""


@dataclass(frozen=True)
class SpilledFile:
    """One file read back from the spill."""

    facts: FileFacts
    text: str
    sentences: list[tuple[str, int, int]]  # (text, start, end) in ``text``
    embeddings: np.ndarray  # (n_sentences, dim) float32 unit rows

    def span_text(self, ids: Sequence[int]) -> str:
        """Text from the first to the last of consecutive sentences, whitespace collapsed."""
        start, end = self.sentences[ids[0]][1], self.sentences[ids[-1]][2]
        return " ".join(self.text[start:end].split())

    def lengths(self) -> list[int]:
        """Characters per sentence."""
        return [len(text) for text, _, _ in self.sentences]

    def grouping_view(self) -> ArticleFile:
        """What grouping sees of the file."""
        return ArticleFile(
            self.facts.sha256,
            self.facts.lang,
            self.embeddings,
            self.text,
            np.array(self.lengths()),
            self.facts.path,
            self.facts.lang_mixed,
            tuple(text for text, _, _ in self.sentences),
        )


def facts_of(document: Document, row: dict) -> FileFacts:
    """The facts of an embedded file: what its ``document`` (``records.document_of(row)``)
    says of it, and the language and sentences its files-table ``row`` adds."""
    return FileFacts(
        document.path,
        document.sha256,
        row["lang"],
        row["lang_confidence"],
        row["lang_mixed"],
        len(row["sentences"]),
        document.url,
        document.title,
        document.date,
        document.hreflang,
        document.n_not_text,
        hashlib.sha256("\x1f".join(x["text"] for x in row["sentences"]).encode()).digest(),
    )


_KEPT = ("path", "text", "sentences", "embeddings")


class FileSpill:
    """Append-only store of embedded files (``tables.embedded_schema`` rows), one record
    batch each, in ``path`` (an Arrow IPC file). ``append`` while writing, ``close`` once,
    then ``file(k)`` reads the k-th appended file."""

    def __init__(self, path: Path, read_cache: int = 256) -> None:
        self.path = path
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._sink: pa.OSFile | None = None
        self._reader: pa.ipc.RecordBatchFileReader | None = None
        self._count = 0
        # Grouping asks for the same few files many times (each candidate pair's two sides).
        self.file = lru_cache(maxsize=read_cache)(self._read)

    def __len__(self) -> int:
        return self._count

    def append(self, table: pa.Table) -> int:
        """Add every row of ``table`` (embedded files, none skipped); returns the index
        of the first."""
        table = table.select(list(_KEPT)).combine_chunks()
        if self._writer is None:
            self._sink = pa.OSFile(str(self.path), "wb")
            self._writer = pa.ipc.new_file(self._sink, table.schema)
        first = self._count
        for k in range(table.num_rows):
            self._writer.write_batch(table.slice(k, 1).to_batches()[0])
        self._count += table.num_rows
        return first

    def close_writing(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._sink.close()
            self._writer = None
        if self._count:
            self._reader = pa.ipc.open_file(pa.OSFile(str(self.path), "rb"))

    def _read(self, k: int) -> tuple[str, list[tuple[str, int, int]], np.ndarray]:
        """Text, sentences and embeddings of the k-th file."""
        batch = self._reader.get_batch(k)
        text = batch.column(1)[0].as_py()
        sentences = [(s["text"], s["start"], s["end"]) for s in batch.column(2)[0].as_py()]
        vectors = batch.column(3)[0].values
        dim = batch.schema.field(3).type.value_type.list_size
        embeddings = vectors.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
        return text, sentences, embeddings

    def close(self) -> None:
        self.close_writing()
        self._reader = None
        self.file.cache_clear()


class SpilledFiles(Sequence[ArticleFile]):
    """The grouping's view of the spilled files, read on demand: ``files[i]`` is the
    ArticleFile of ``facts[i]``, whose rows sit at ``positions[i]`` in the spill."""

    def __init__(self, spill: FileSpill, facts: list[FileFacts], positions: list[int]) -> None:
        self.spill, self.facts, self.positions = spill, facts, positions

    def __len__(self) -> int:
        return len(self.facts)

    def __getitem__(self, i: int) -> ArticleFile:  # type: ignore[override]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self.read(i).grouping_view()

    def read(self, i: int) -> SpilledFile:
        text, sentences, embeddings = self.spill.file(self.positions[i])
        return SpilledFile(self.facts[i], text, sentences, embeddings)
