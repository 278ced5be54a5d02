"""Embedding store: Parquet parts keyed by sha256 of (model id, text), shared by processes.

Layout under the cache folder (default ``<parent of OUT>/.cache/``, beside the output folder,
which every build replaces atomically)::

    embeddings/<model digest>/part-<time>-<uuid>.parquet   key, embedding
    alignments/<model digest>/part-<time>-<uuid>.parquet   key, beads

``key`` is ``fixed_size_binary(32)``: sha256 of the model id and the exact text for an
embedding, the caller's article key for beads. ``embedding`` is a ``fixed_size_list`` of
``dim`` float32 (a unit vector). Every part records the model id and the dimension in its
schema metadata. Plain Parquet files, so pyarrow, DuckDB (``SELECT count(*) FROM
'embeddings/**/*.parquet'``) or a cluster's workers read the same store on a shared file
system, and several processes write into it at once without a lock:

- A part is never changed once written. It is written under a hidden temporary name
  (``.part-*.tmp``, ignored by every reader and by ``*.parquet`` globs) and renamed into place,
  so a reader sees a whole part or none; names are unique (time, uuid4), so writers never
  collide; a killed writer loses only the part it was writing.
- ``encode_cached`` appends a part every ``STORE_EVERY`` embedded texts, so a killed build
  keeps what it embedded and the next one embeds only the rest.
- The anti-join is one scan of the key column per call (``pyarrow.dataset`` with an
  ``is_in`` filter). A lookup reads the key column of every part, then only the row groups
  (``ROW_GROUP_ROWS`` rows) that hold a key asked for: memory follows the rows asked for,
  not the store, and a lookup of a few keys reads a few row groups.
- Compaction merges the small parts into parts of ``COMPACT_ROWS`` rows, writing the new
  parts before removing the old: a concurrent reader that listed an old part which has
  meanwhile gone lists the folder again and finds its rows in the new one.
- A part that cannot be read, belongs to another model or dimension, or holds rows that are
  not unit vectors (beads that do not cover their article) is never trusted: one warning
  naming the file, then it is ignored; compaction removes the broken ones (a part of another
  model, dimension or schema version stays: another release may share the folder).

The beads of aligned articles live apart (``AlignmentStore``), in the same kind of Parquet
parts rather than SQLite: one format that needs no locking, which SQLite cannot rely on over
NFS and similar shared file systems.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from corpus.embedding.encoder import Encoder
from corpus.stores import (
    COMPACT_ROWS,
    SCHEMA_VERSION,
    Parts,
    model_digest,
    one_line,
)

STORE_EVERY = 2048  # texts embedded between two parts appended to the store
_UNIT_TOLERANCE = 1e-3  # |norm - 1| allowed for a stored embedding


def default_cache_dir(out: Path) -> Path:
    return out.absolute().parent / ".cache"


def model_id(encoder: Encoder) -> str:
    """What the embeddings depend on, the cache key's model part (built here only): the
    model name, its runtime version (a new release may embed differently) and the digest of
    its files (a model replaced at the same path embeds differently)."""
    weights = f"; weights sha256 {encoder.weights}" if encoder.weights else ""
    return f"{encoder.name} ({encoder.version}{weights})"


def text_keys(model: str, texts: Sequence[str]) -> list[bytes]:
    """The store keys of ``texts``: sha256 of the model id, a NUL and the exact text (32 bytes
    each, in order). The same key the SQLite cache used."""
    return [hashlib.sha256(f"{model}\0{t}".encode()).digest() for t in texts]


class EmbeddingStore:
    """Unit-vector embeddings of exact texts for one model: Parquet parts under
    ``folder/embeddings/<model digest>/`` (see the module docstring)."""

    def __init__(self, folder: Path, model: str, dim: int) -> None:
        self.model, self.dim = model, dim
        self.path = folder / "embeddings" / model_digest(model)
        self.warnings: list[str] = []
        schema = pa.schema(
            [("key", pa.binary(32)), ("embedding", pa.list_(pa.float32(), dim))],
            metadata={
                "corpus.schema": SCHEMA_VERSION,
                "corpus.model": model,
                "corpus.dim": str(dim),
            },
        )
        self._parts = Parts(self.path, schema, "embedding cache", self.warnings)
        self._import_sqlite(folder / f"embeddings-{model_digest(model)}.sqlite")
        self._parts.compact_when_many(self._check)

    def _import_sqlite(self, old: Path) -> None:
        """Move the embeddings of an earlier release's SQLite cache for this model (same keys)
        into the store, then remove that file: upgrading never re-embeds a corpus."""
        if not old.exists():
            return
        try:
            with closing(sqlite3.connect(f"file:{old}?mode=ro", uri=True)) as db:
                meta = dict(db.execute("SELECT name, value FROM meta"))
                if meta.get("model") != self.model or meta.get("dim") != str(self.dim):
                    return  # another model's file under a colliding name: not ours to move
                n = 0
                rows = db.execute("SELECT key, vec FROM emb")
                while chunk := rows.fetchmany(STORE_EVERY * 8):
                    vectors = np.frombuffer(b"".join(v for _, v in chunk), np.float32)
                    keys = [k for k, _ in chunk]
                    if self.append(keys, vectors.reshape(len(chunk), self.dim)) is None:
                        return  # the store cannot be written (warned): keep the old file
                    n += len(chunk)
        except (sqlite3.Error, ValueError) as exc:
            self.warnings.append(
                f"{old}: embedding cache of an earlier release (SQLite) unreadable "
                f"({one_line(exc)}); not imported, delete it"
            )
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{old}{suffix}").unlink(missing_ok=True)
        self.warnings.append(
            f"{old}: {n} embeddings of an earlier release's cache (SQLite) moved into {self.path}"
        )

    def keys(self, texts: Sequence[str]) -> list[bytes]:
        """The keys of ``texts`` under this store's model (``text_keys``)."""
        return text_keys(self.model, texts)

    def missing(self, keys: Sequence[bytes]) -> np.ndarray:
        """Anti-join: a bool array, True where ``keys[i]`` is in no usable part.

        One scan of the key column (``is_in`` filter). A key found here may still prove
        unusable in ``lookup`` (a part whose rows are not unit vectors)."""
        wanted = pa.array(keys, pa.binary(32))
        found = self._parts.scan(["key"], pc.field("key").isin(wanted))["key"]
        return ~pc.is_in(wanted, value_set=found.combine_chunks()).to_numpy(zero_copy_only=False)

    def lookup(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """The (n, dim) float32 rows of ``keys`` in the order asked, and a bool mask of those
        found (other rows are undefined). Reads the key column and the row groups holding a
        key asked for (``Parts.take``); a part holding a row that is not a unit
        vector of this dimension is warned about and its rows are not returned."""
        wanted = pa.array(keys, pa.binary(32))
        rows = np.empty((len(keys), self.dim), dtype=np.float32)
        table = self._parts.take(wanted, "embedding")
        vectors = _matrix(table["embedding"], self.dim)
        off_unit = np.abs(np.linalg.norm(vectors, axis=1) - 1.0) >= _UNIT_TOLERANCE
        if off_unit.any():
            names = table["__filename"].to_numpy(zero_copy_only=False)
            for name in sorted(set(names[off_unit])):
                self._parts.reject(Path(name), self._not_unit)
            keep = ~np.isin(names, [str(p) for p in self._parts.bad])
            table, vectors = table.filter(pa.array(keep)), vectors[keep]
        at = pc.index_in(wanted, value_set=table["key"].combine_chunks())
        found = at.is_valid().to_numpy(zero_copy_only=False)
        rows[found] = vectors[at.drop_null().to_numpy()]
        return rows, found

    @property
    def _not_unit(self) -> str:
        return f"holds rows that are not unit vectors of dimension {self.dim}"

    def _check(self, table: pa.Table) -> str | None:
        norms = np.linalg.norm(_matrix(table["embedding"], self.dim), axis=1)
        return self._not_unit if np.any(np.abs(norms - 1.0) >= _UNIT_TOLERANCE) else None

    def append(self, keys: Sequence[bytes], embeddings: np.ndarray) -> Path | None:
        """Store ``embeddings`` ((n, dim) unit vectors) under ``keys`` as one new part; returns
        its path (None for no rows, or when the folder cannot be written: one warning, and
        the build goes on without storing). ValueError for rows of another shape or norm."""
        rows = np.ascontiguousarray(embeddings, dtype=np.float32)
        if rows.shape != (len(keys), self.dim):
            raise ValueError(f"{rows.shape} rows for {len(keys)} keys of dimension {self.dim}")
        if np.any(np.abs(np.linalg.norm(rows, axis=1) - 1.0) >= _UNIT_TOLERANCE):
            raise ValueError("embeddings to store must be unit vectors")
        if not len(keys):
            return None
        table = pa.table(
            {
                "key": pa.array(keys, pa.binary(32)),
                "embedding": pa.FixedSizeListArray.from_arrays(pa.array(rows.ravel()), self.dim),
            }
        )
        try:
            return self._parts.write(table)
        except OSError as exc:
            if not any("cannot write" in w for w in self.warnings):
                self.warnings.append(
                    f"{self.path}: embedding cache cannot write ({one_line(exc)}); "
                    "new embeddings not stored"
                )
            return None

    def compact(self, rows: int = COMPACT_ROWS) -> int:
        """Merge the parts of fewer than ``rows`` rows into parts of ``rows`` rows (each key
        once) and remove unusable parts; returns how many parts were removed. Safe while
        other processes read or append (new parts are written before old ones go)."""
        return self._parts.compact(rows, self._check)

    @property
    def parts(self) -> list[Path]:
        """The usable part files, oldest first."""
        return self._parts.paths()

    def __len__(self) -> int:
        """Distinct keys in the usable parts (one scan of the key column)."""
        return pc.count_distinct(self._parts.scan(["key"], None)["key"]).as_py()


def _matrix(column: pa.ChunkedArray, dim: int) -> np.ndarray:
    """A fixed_size_list<float32>[dim] column as an (n, dim) float32 array."""
    if column.num_chunks == 0 or len(column) == 0:
        return np.empty((0, dim), dtype=np.float32)
    flat = pc.list_flatten(column.combine_chunks())
    return flat.to_numpy(zero_copy_only=False).reshape(-1, dim)


def encode_cached(
    encoder: Encoder,
    texts: Sequence[str],
    store: EmbeddingStore | None,
    *,
    batch_size: int = 32,
    show_progress_bar: bool = False,
    store_every: int = STORE_EVERY,
) -> tuple[np.ndarray, int]:
    """Embed ``texts`` like ``Encoder.encode``; only texts neither stored nor repeated reach
    the model. Returns the (n, dim) rows and how many distinct texts came from the store.

    The distinct texts are anti-joined against the store; the missing ones are embedded,
    shortest first (``Encoder.encode``'s padding economy), and appended as a part every
    ``store_every`` texts, so an interrupted build keeps them; then the stored ones are
    looked up (any found unusable there are embedded too).
    """
    first: dict[str, int] = {}  # text -> position of its first occurrence
    for k, t in enumerate(texts):
        first.setdefault(t, k)
    distinct = list(first.values())
    out = np.empty((len(texts), encoder.dim), np.float32)
    keys = store.keys([texts[k] for k in distinct]) if store is not None else []
    missing = store.missing(keys) if store is not None else np.ones(len(distinct), bool)
    n_cached = int((~missing).sum())
    with tqdm(
        total=int(missing.sum()),
        desc="embedding",
        unit="sent",
        disable=not show_progress_bar,
        leave=False,
    ) as bar:

        def embed(todo: list[int]) -> None:
            todo.sort(key=lambda i: len(texts[distinct[i]]))
            for start in range(0, len(todo), store_every):
                chunk = todo[start : start + store_every]
                at = [distinct[i] for i in chunk]
                # The bar moves per encoder batch (seconds), not per chunk (minutes).
                out[at] = encoder.encode(
                    [texts[k] for k in at], batch_size=batch_size, on_batch=bar.update
                )
                if store is not None:
                    store.append([keys[i] for i in chunk], out[at])

        embed(np.flatnonzero(missing).tolist())
        if store is not None and n_cached:
            stored = np.flatnonzero(~missing)
            rows, found = store.lookup([keys[i] for i in stored])
            out[[distinct[i] for i in stored[found]]] = rows[found]
            unusable = stored[~found].tolist()
            n_cached -= len(unusable)
            bar.total += len(unusable)
            embed(unusable)
    # A repeated text takes the row of its first occurrence.
    repeats = [k for k, t in enumerate(texts) if first[t] != k]
    out[repeats] = out[[first[texts[k]] for k in repeats]]
    return out, n_cached
