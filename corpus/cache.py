"""Embedding cache: one SQLite file per model, so rebuilds embed only new sentences.

Key: sha256 of the model id and the exact sentence text; value: the float32 row
as bytes. A ``meta`` table records the model id and the dimension. A file that
is not SQLite, was written for another model or dimension, or returns rows that
are not unit vectors is never trusted: it is reported in a warning and rebuilt.

The same file keeps the beads of aligned articles (table ``beads``), keyed by the
caller with everything the alignment depends on (the aligner's code and
parameters, the texts), so an unchanged article is not aligned again. Beads that
do not cover their article's sentences are treated like bad rows.

Default location: ``<parent of OUT>/.cache/`` (beside the output folder, which
every build replaces atomically), one ``embeddings-<model hash>.sqlite`` per model.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from corpus.embedding import Encoder
from corpus.records import Bead

SCHEMA_VERSION = "1"
_CHUNK = 500  # keys per SELECT ... IN (...), below SQLite's bound-parameter limit
_STORE_EVERY = 2048  # texts embedded between two commits to the cache


def default_cache_dir(out: Path) -> Path:
    return out.absolute().parent / ".cache"


def model_id(encoder: Encoder) -> str:
    """What the embeddings depend on, the cache key's model part (built here only): the
    model name, its runtime version (a new release may embed differently) and the digest of
    its files (a model replaced at the same path embeds differently)."""
    weights = f"; weights sha256 {encoder.weights}" if encoder.weights else ""
    return f"{encoder.name} ({encoder.version}{weights})"


def _key(model: str, text: str) -> bytes:
    return hashlib.sha256(f"{model}\0{text}".encode()).digest()


class EmbeddingCache:
    """Unit-vector embeddings of exact texts for one model, in one SQLite file."""

    def __init__(self, folder: Path, model: str, dim: int) -> None:
        self.model, self.dim = model, dim
        slug = hashlib.sha256(model.encode()).hexdigest()[:16]
        self.path = folder / f"embeddings-{slug}.sqlite"
        self.warnings: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            self._db = self._rebuild(f"unreadable ({exc})")

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS emb (key BLOB PRIMARY KEY, vec BLOB) WITHOUT ROWID")
        db.execute("CREATE TABLE IF NOT EXISTS beads (key BLOB PRIMARY KEY, value TEXT)")
        meta = dict(db.execute("SELECT name, value FROM meta"))
        want = {"schema": SCHEMA_VERSION, "model": self.model, "dim": str(self.dim)}
        if not meta:
            db.executemany("INSERT INTO meta VALUES (?, ?)", want.items())
            db.commit()
        elif meta != want:
            db.close()
            return self._rebuild(f"written for {meta.get('model')} dim {meta.get('dim')}")
        return db

    def _rebuild(self, why: str) -> sqlite3.Connection:
        self.warnings.append(f"{self.path}: embedding cache {why}; rebuilt from scratch")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return self._open()

    def get(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Rows for ``texts`` in order, and a mask of those found (other rows are undefined).

        Rows are written straight into one array, so a large build holds its embeddings
        once. A corrupt store is rebuilt and yields nothing.
        """
        rows = np.empty((len(texts), self.dim), dtype=np.float32)
        found = np.zeros(len(texts), dtype=bool)
        positions: dict[bytes, list[int]] = {}
        for k, t in enumerate(texts):
            positions.setdefault(_key(self.model, t), []).append(k)
        keys = list(positions)
        try:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i : i + _CHUNK]
                fetched = self._db.execute(
                    f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                at = [positions[key] for key, _ in fetched]
                vecs = [np.frombuffer(vec, dtype=np.float32) for _, vec in fetched]
                if vecs and not self._valid(vecs):
                    self._db.close()
                    why = f"holds rows that are not unit vectors of dimension {self.dim}"
                    self._db = self._rebuild(why)
                    return rows, np.zeros(len(texts), dtype=bool)
                for where, vec in zip(at, vecs, strict=True):
                    rows[where] = vec
                    found[where] = True
        except sqlite3.DatabaseError as exc:
            self._db = self._rebuild(f"unreadable ({exc})")
            return rows, np.zeros(len(texts), dtype=bool)
        return rows, found

    def _valid(self, vecs: list[np.ndarray]) -> bool:
        if any(v.shape != (self.dim,) for v in vecs):
            return False
        return bool(np.all(np.abs(np.linalg.norm(np.stack(vecs), axis=1) - 1.0) < 1e-3))

    def put(self, texts: Sequence[str], embeddings: np.ndarray) -> None:
        rows = np.ascontiguousarray(embeddings, dtype=np.float32)
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?)",
                ((_key(self.model, t), row.tobytes()) for t, row in zip(texts, rows, strict=True)),
            )

    def get_alignments(
        self, keys: Sequence[bytes], sizes: Sequence[dict[str, int]]
    ) -> dict[bytes, dict[tuple[str, str], list[Bead]]]:
        """Cached article alignments among ``keys``; ``sizes`` gives each article's sentence
        count per language, which the beads must cover exactly, in order."""
        found: dict[bytes, dict[tuple[str, str], list[Bead]]] = {}
        expected = dict(zip(keys, sizes, strict=True))
        try:
            for i in range(0, len(keys), _CHUNK):
                chunk = list(keys[i : i + _CHUNK])
                rows = self._db.execute(
                    f"SELECT key, value FROM beads WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for key, value in rows:
                    found[key] = _decode_beads(value, expected[key])
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError) as exc:
            self._db.close()
            self._db = self._rebuild(f"holds unusable alignments ({type(exc).__name__})")
            return {}
        return found

    def put_alignments(self, items: dict[bytes, dict[tuple[str, str], list[Bead]]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO beads VALUES (?, ?)",
                ((key, _encode_beads(value)) for key, value in items.items()),
            )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM emb").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def _first(ids: tuple[int, ...]) -> int:
    return ids[0] if ids else 0


def _encode_beads(pairs: dict[tuple[str, str], list[Bead]]) -> str:
    """JSON: per language pair "a|b", beads as [first src, n src, first tgt, n tgt, score]."""
    return json.dumps(
        {
            f"{la}|{lb}": [
                [_first(b.src), len(b.src), _first(b.tgt), len(b.tgt), b.score] for b in beads
            ]
            for (la, lb), beads in pairs.items()
        }
    )


def _decode_beads(value: str, sizes: dict[str, int]) -> dict[tuple[str, str], list[Bead]]:
    """Inverse of ``_encode_beads``; ValueError unless every pair covers both sides in order."""
    pairs = {}
    for name, rows in json.loads(value).items():
        la, lb = name.split("|")
        beads = [
            Bead(tuple(range(i, i + a)), tuple(range(j, j + b)), float(score))
            for i, a, j, b, score in rows
        ]
        for lang, side in ((la, 0), (lb, 1)):
            if [k for bead in beads for k in (bead.src, bead.tgt)[side]] != list(
                range(sizes[lang])
            ):
                raise ValueError(f"beads of {name} do not cover {lang}")
        pairs[(la, lb)] = beads
    return pairs


def encode_cached(
    encoder: Encoder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    batch_size: int = 32,
    show_progress_bar: bool = False,
) -> tuple[np.ndarray, int]:
    """Embed ``texts`` like ``Encoder.encode``; only texts neither cached nor repeated reach
    the model. Returns the (n, dim) rows and how many distinct texts came from the cache.

    New rows are stored every ``_STORE_EVERY`` texts, so an interrupted build keeps them.
    """
    if cache is not None:
        out, found = cache.get(texts)
    else:
        out, found = np.empty((len(texts), encoder.dim), np.float32), np.zeros(len(texts), bool)
    first: dict[str, int] = {}  # text -> position of its first occurrence
    for k, t in enumerate(texts):
        first.setdefault(t, k)
    # Sorted by length, the chunks keep Encoder.encode's padding economy.
    todo = sorted((k for k in first.values() if not found[k]), key=lambda k: len(texts[k]))
    with tqdm(
        total=len(todo), desc="embedding", unit="sent", disable=not show_progress_bar, leave=False
    ) as bar:
        for i in range(0, len(todo), _STORE_EVERY):
            chunk = todo[i : i + _STORE_EVERY]
            chunk_texts = [texts[k] for k in chunk]
            # The bar moves per encoder batch (seconds), not per chunk (minutes).
            out[chunk] = encoder.encode(chunk_texts, batch_size=batch_size, on_batch=bar.update)
            if cache is not None:
                cache.put(chunk_texts, out[chunk])
    # A repeated text takes the row of its first occurrence (cached rows are already there).
    repeats = [k for k, t in enumerate(texts) if first[t] != k and not found[k]]
    out[repeats] = out[[first[texts[k]] for k in repeats]]
    return out, len(first) - len(todo)
