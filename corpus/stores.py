"""Parquet-part stores shared by processes: the folder of parts (``Parts``: write, scan,
look up, compact, distrust broken parts) and the keyed stores of strings built on it for the
identify stage (``LanguageStore``) and the align stage (``AlignmentStore``).

A part is never changed once written: it is written under a hidden temporary name and
renamed into place, so several processes (a cluster's workers on a shared file system)
write into one store without a lock. ``corpus.embedding.store`` keeps embeddings the same
way; its docstring describes the layout and the guarantees.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from corpus.atomic import atomic_file
from corpus.records import Bead

SCHEMA_VERSION = "2"  # "1" was the SQLite cache (embeddings-<model digest>.sqlite)
COMPACT_ROWS = 65_536  # rows per compacted part: 96 MiB of float32 at dim 384
# Rows per Parquet row group, the unit a lookup reads (1.5 MiB at dim 384): decoding the
# list column ran at 585 MB/s in groups of 1,024 rows against 118 MB/s in one group of
# 65,536 (measured here), and a lookup of a few keys reads only the groups that hold them.
ROW_GROUP_ROWS = 1024
MAX_SMALL_PARTS = 32  # a store opened with more parts below COMPACT_ROWS rows is compacted
_STALE_TMP_S = 3600  # a temporary part this old belongs to a killed writer


def model_digest(model: str) -> str:
    """The folder name of one model's parts: 16 hex digits of sha256(model id)."""
    return hashlib.sha256(model.encode()).hexdigest()[:16]


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Parts:
    """The immutable Parquet parts of one folder: atomic appends, validated scans, compaction.

    ``schema`` holds the columns and, as metadata, what every part must declare (model id,
    dimension, schema version); ``what`` names the store in warnings.
    """

    def __init__(self, folder: Path, schema: pa.Schema, what: str, warnings: list[str]) -> None:
        self.folder, self.schema, self.what, self.warnings = folder, schema, what, warnings
        self.columns = schema.remove_metadata()
        self.bad: set[Path] = set()  # parts warned about, ignored from then on
        # Of those, the parts written for another model, dimension or schema version: left
        # on disk (an older or newer release may share the folder), never removed here.
        self.foreign: set[Path] = set()
        self._checked: dict[Path, tuple[int, int]] = {}  # part -> (size, mtime) of its check
        self._rows: dict[Path, int] = {}  # rows per checked part (from its footer)
        folder.mkdir(parents=True, exist_ok=True)

    def reject(self, part: Path, why: str) -> None:
        if part not in self.bad:
            self.bad.add(part)
            self.warnings.append(f"{part}: {self.what} part {why}; ignored")

    def paths(self) -> list[Path]:
        """The usable parts on disk now, by name (time order); each footer is checked once."""
        usable = []
        for part in sorted(self.folder.glob("part-*.parquet")):
            if part in self.bad:
                continue
            try:
                stat = part.stat()
                if self._checked.get(part) != (stat.st_size, stat.st_mtime_ns):
                    problem = self._check(part)
                    if problem is not None:
                        why, foreign = problem
                        self.reject(part, why)
                        if foreign:
                            self.foreign.add(part)
                        continue
                    self._checked[part] = (stat.st_size, stat.st_mtime_ns)
            except FileNotFoundError:
                continue  # removed by a compaction since the folder was listed
            usable.append(part)
        return usable

    def _check(self, part: Path) -> tuple[str, bool] | None:
        """None for a usable part, else why not and whether it is another model's, dimension's
        or schema version's (a part to keep) rather than a broken one."""
        try:
            meta = pq.read_metadata(part)
            schema = meta.schema.to_arrow_schema()
        except FileNotFoundError:
            raise
        except (OSError, pa.ArrowException) as exc:
            return f"unreadable ({one_line(exc)})", False
        declared = schema.metadata or {}
        want = self.schema.metadata
        if any(declared.get(k) != v for k, v in want.items()):
            model = declared.get(b"corpus.model", b"?").decode(errors="replace")
            dim = declared.get(b"corpus.dim", b"?").decode(errors="replace")
            return f"written for {model} dim {dim}", True
        if not schema.remove_metadata().equals(self.columns):
            got, want = (" ".join(str(s).split()) for s in (schema.remove_metadata(), self.columns))
            return f"has columns {got} instead of {want}", False
        self._rows[part] = meta.num_rows
        return None

    def write(self, table: pa.Table) -> Path:
        """Write ``table`` as a new part (temporary name, then rename); returns its path."""
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex}.parquet"
        with atomic_file(self.folder / name, self.folder / f".{name}.tmp") as tmp:
            # Keys and unit vectors do not compress: plain pages read fastest.
            pq.write_table(
                table.cast(self.schema),
                tmp,
                row_group_size=ROW_GROUP_ROWS,
                compression="none",
                use_dictionary=False,
            )
        return self.folder / name

    def scan(self, columns: list[str], where: pc.Expression | None) -> pa.Table:
        """One scan of every usable part: the rows matching ``where``, with ``__filename``.

        A part removed by a concurrent compaction makes the folder be listed again (the
        compaction wrote its rows into a new part first). A part whose footer reads but whose
        data does not is found part by part, warned about and left out.
        """
        for _ in range(8):
            paths = self.paths()
            try:
                return self._table(paths, [*columns, "__filename"], where)
            except FileNotFoundError:
                continue
            except (OSError, pa.ArrowException):
                for part in paths:
                    try:
                        self._table([part], columns, where)
                    except FileNotFoundError:
                        continue
                    except (OSError, pa.ArrowException) as exc:
                        self.reject(part, f"unreadable ({one_line(exc)})")
        raise OSError(f"{self.folder}: parts keep changing while read")

    def take(self, wanted: pa.Array, column: str) -> pa.Table:
        """The rows whose key is in ``wanted``: ``key``, ``column`` and ``__filename``. Reads
        the key column of every usable part, then ``column`` in the row groups holding a match
        only; vanished and unreadable parts are handled as in ``scan``."""
        for _ in range(8):
            tables = []
            try:
                for part in self.paths():
                    try:
                        tables.append(self._take_one(part, wanted, column))
                    except FileNotFoundError:
                        raise
                    except (OSError, pa.ArrowException) as exc:
                        self.reject(part, f"unreadable ({one_line(exc)})")
            except FileNotFoundError:
                continue  # removed by a compaction: list again
            empty = self.columns.empty_table().select(["key", column])
            empty = empty.append_column("__filename", pa.array([], pa.string()))
            return pa.concat_tables([empty, *tables])
        raise OSError(f"{self.folder}: parts keep changing while read")

    def _take_one(self, part: Path, wanted: pa.Array, column: str) -> pa.Table:
        with pq.ParquetFile(part) as parquet:
            keys = parquet.read(columns=["key"]).column("key")
            hits = np.flatnonzero(pc.is_in(keys, value_set=wanted).to_numpy(zero_copy_only=False))
            meta = parquet.metadata
            sizes = np.array([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
            starts = np.cumsum(sizes) - sizes
            groups = np.searchsorted(starts, hits, side="right") - 1
            values = [
                parquet.read_row_group(int(g), columns=[column])
                .column(column)
                .take(hits[groups == g] - starts[g])
                for g in np.unique(groups)
            ]
        return pa.table(
            {
                "key": keys.take(hits),
                # The chunks themselves: chunked arrays given whole are converted row by row.
                column: pa.chunked_array(
                    [chunk for value in values for chunk in value.chunks],
                    self.columns.field(column).type,
                ),
                "__filename": pa.array([str(part)] * len(hits), pa.string()),
            }
        )

    def _table(self, paths: list[Path], columns: list[str], where: pc.Expression | None):
        dataset = ds.dataset([str(p) for p in paths], schema=self.columns, format="parquet")
        return dataset.to_table(columns=columns, filter=where)

    def small_parts(self, rows: int) -> list[Path]:
        return [p for p in self.paths() if self._rows[p] < rows]

    def compact_when_many(self, check: Callable[[pa.Table], str | None]) -> None:
        """Compact when more than MAX_SMALL_PARTS parts hold fewer than COMPACT_ROWS rows; a
        folder that cannot be written (a read-only shared store) is warned about and used."""
        if len(self.small_parts(COMPACT_ROWS)) > MAX_SMALL_PARTS:
            try:
                self.compact(COMPACT_ROWS, check)
            except OSError as exc:
                self.warnings.append(f"{self.folder}: {self.what} not compacted ({one_line(exc)})")

    def compact(self, rows: int, check: Callable[[pa.Table], str | None]) -> int:
        """Merge the parts of fewer than ``rows`` rows into parts of ``rows`` rows (a key kept
        once), then remove them and every part found unusable; returns how many parts were
        removed. ``check`` says why a part's table cannot be trusted (None when it can).
        Parts of another model, dimension or schema version are left alone.
        Memory: one part and one output part at a time, and the set of merged keys."""
        small = self.small_parts(rows)
        bad = [p for p in self.bad - self.foreign if p.exists()]
        if len(small) < 2 and not bad:
            return 0
        seen: set[bytes] = set()
        pending: list[pa.Table] = []
        n_pending = 0
        merged = []
        for part in small:
            try:
                table = pq.read_table(part, schema=self.columns)
            except FileNotFoundError:
                continue  # merged by another compaction: its rows are in that one's part
            except (OSError, pa.ArrowException) as exc:
                self.reject(part, f"unreadable ({one_line(exc)})")
                bad.append(part)
                continue
            why = check(table)
            if why is not None:
                self.reject(part, why)
                bad.append(part)
                continue
            merged.append(part)
            keys = table["key"].to_pylist()
            new = [k not in seen for k in keys]
            seen.update(keys)
            table = table.filter(pa.array(new))
            pending.append(table)
            n_pending += table.num_rows
            while n_pending >= rows:
                whole = pa.concat_tables(pending)
                self.write(whole.slice(0, rows))
                pending, n_pending = [whole.slice(rows)], whole.num_rows - rows
        if n_pending:
            self.write(pa.concat_tables(pending))
        for part in merged + bad:
            part.unlink(missing_ok=True)
        now = time.time()
        for tmp in self.folder.glob(".part-*.tmp"):
            try:
                if now - tmp.stat().st_mtime > _STALE_TMP_S:
                    tmp.unlink()
            except FileNotFoundError:
                continue
        return len(merged) + len(bad)


class KeyedStore:
    """Strings keyed by 32-byte keys, for one model or identifier: Parquet parts under
    ``folder/<kind>/<digest of what>/`` (columns ``key`` and ``value``, the value column
    named for what it holds), written and checked like the embedding parts."""

    def __init__(self, folder: Path, kind: str, value: str, what: str, model: str) -> None:
        self.path = folder / kind / model_digest(model)
        self.warnings: list[str] = []
        self.value, self.what = value, what
        schema = pa.schema(
            [("key", pa.binary(32)), (value, pa.string())],
            metadata={"corpus.schema": SCHEMA_VERSION, "corpus.model": model},
        )
        self._parts = Parts(self.path, schema, what, self.warnings)
        self._parts.compact_when_many(lambda table: None)

    def _write(self, items: dict[bytes, str]) -> None:
        """Store ``items`` (key -> value) as one new part; a failed write is a warning."""
        if not items:
            return
        table = pa.table(
            {
                "key": pa.array(list(items), pa.binary(32)),
                self.value: pa.array(list(items.values()), pa.string()),
            }
        )
        try:
            self._parts.write(table)
        except OSError as exc:
            self.warnings.append(
                f"{self.path}: {self.what} cannot write ({one_line(exc)}); not stored"
            )


class AlignmentStore(KeyedStore):
    """The beads of aligned articles, keyed by the caller's article key (32 bytes: everything
    the alignment depends on besides the embeddings), for one model: Parquet parts under
    ``folder/alignments/<model digest>/`` written and checked like the embedding parts."""

    def __init__(self, folder: Path, model: str) -> None:
        super().__init__(folder, "alignments", "beads", "alignment cache", model)

    def stored(self, keys: Sequence[bytes]) -> set[bytes]:
        """Which of ``keys`` the store holds (one scan of the key column): a build learns
        which articles to align without loading any beads."""
        wanted = pa.array(list(keys), pa.binary(32))
        return set(self._parts.scan(["key"], pc.field("key").isin(wanted))["key"].to_pylist())

    def get(
        self, keys: Sequence[bytes], sizes: Sequence[dict[str, int]]
    ) -> dict[bytes, dict[tuple[str, str], list[Bead]]]:
        """Stored article alignments among ``keys``; ``sizes`` gives each article's sentence
        count per language, which the beads must cover exactly, in order. A part holding
        beads that do not is warned about and ignored."""
        expected = dict(zip(keys, sizes, strict=True))
        wanted = pa.array(list(expected), pa.binary(32))
        table = self._parts.scan(["key", "beads"], pc.field("key").isin(wanted))
        found: dict[bytes, dict[tuple[str, str], list[Bead]]] = {}
        bad: set[str] = set()
        for key, value, name in zip(
            table["key"].to_pylist(),
            table["beads"].to_pylist(),
            table["__filename"].to_pylist(),
            strict=True,
        ):
            try:
                found[key] = _decode_beads(value, expected[key])
            except (ValueError, KeyError, TypeError) as exc:
                self._parts.reject(Path(name), f"holds unusable alignments ({type(exc).__name__})")
                bad.add(name)
        if bad:  # an article found in a bad part and a good one keeps the good one's beads
            return self.get(keys, sizes)
        return found

    def put(self, items: dict[bytes, dict[tuple[str, str], list[Bead]]]) -> None:
        """Store the beads of articles (key -> language pair -> beads) as one new part."""
        self._write({key: _encode_beads(pairs) for key, pairs in items.items()})


class LanguageStore(KeyedStore):
    """What the identify stage found in documents (JSON, ``identification.Identification``),
    keyed by the caller's document key (32 bytes: the text, its paragraphs and what identification
    depends on): Parquet parts under ``folder/languages/<identifier digest>/`` written and
    checked like the embedding parts. A rebuild loads no language identifier for the
    documents it has seen (lingua's models of one script take seconds to load)."""

    def __init__(self, folder: Path, identifier: str) -> None:
        super().__init__(folder, "languages", "found", "language cache", identifier)

    def get(self, keys: Sequence[bytes]) -> dict[bytes, str]:
        """The stored findings among ``keys``."""
        wanted = pa.array(list(keys), pa.binary(32))
        table = self._parts.scan(["key", "found"], pc.field("key").isin(wanted))
        return dict(zip(table["key"].to_pylist(), table["found"].to_pylist(), strict=True))

    def put(self, items: dict[bytes, str]) -> None:
        """Store findings (key -> JSON) as one new part."""
        self._write(items)


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
