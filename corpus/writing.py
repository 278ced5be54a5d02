"""Write the dataset: Parquet tables plus a dataset card, atomically.

Layout (the output contract)::

    OUT/README.md                                  dataset card with a YAML ``configs:`` block
    OUT/data/<a>-<b>/train-0000i-of-0000n.parquet  one config per language pair (codes sorted)
    OUT/data/multiway/train-00000-of-00001.parquet
    OUT/articles.parquet                           one row per input file
    OUT/sentences.parquet                          one row per sentence

Everything is written into a hidden sibling folder that replaces OUT only when
complete, so a crash never leaves a half-written dataset behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.errors import CorpusError

MARKER = ".corpus-build"  # identifies a folder this tool wrote, so it may replace it
ROWS_PER_SHARD = 500_000

SENTENCES_SCHEMA = pa.schema(
    [
        ("sentence_id", pa.int32()),
        ("path", pa.string()),
        ("article_id", pa.string()),
        ("lang", pa.string()),
        ("text", pa.string()),
        ("char_start", pa.int32()),
        ("char_end", pa.int32()),
    ]
)

ARTICLES_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("lang", pa.string()),
        ("lang_confidence", pa.float32()),
        ("lang_mixed", pa.bool_()),
        ("article_id", pa.string()),
        ("n_sentences", pa.int32()),
    ]
)


def bead_schema(langs: Sequence[str]) -> pa.Schema:
    """Schema of a pair config (two languages) or of the multiway config (all languages)."""
    return pa.schema(
        [
            ("translation", pa.struct([(lang, pa.string()) for lang in langs])),
            ("score", pa.float32()),
            ("article_id", pa.string()),
            ("align_type", pa.string()),
            ("sentence_ids", pa.struct([(lang, pa.list_(pa.int32())) for lang in langs])),
        ]
    )


def write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def write_config(table: pa.Table, folder: Path) -> list[str]:
    """Write one config as train shards of at most ROWS_PER_SHARD rows; returns file names."""
    n_shards = max(1, -(-table.num_rows // ROWS_PER_SHARD))
    names = []
    for k in range(n_shards):
        name = f"train-{k:05d}-of-{n_shards:05d}.parquet"
        write_table(table.slice(k * ROWS_PER_SHARD, ROWS_PER_SHARD), folder / name)
        names.append(name)
    return names


def _is_replaceable(out: Path) -> bool:
    return not out.exists() or (out / MARKER).exists() or (out.is_dir() and not any(out.iterdir()))


@contextmanager
def atomic_output(out: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out``, on failure it is removed.

    An existing ``out`` is replaced only when an earlier build wrote it (or it is
    empty), unless ``force``: a typo in ``--out`` must not delete someone's data.
    """
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise CorpusError(f"{out}: exists and is not a folder")
    if not force and not _is_replaceable(out):
        raise CorpusError(
            f"{out}: folder exists and was not written by corpus build; "
            "choose another --out or pass --force to replace it"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    except OSError as exc:
        raise CorpusError(f"{out.parent}: cannot write output ({exc.strerror})") from exc
    try:
        yield staging
        (staging / MARKER).write_text("written by corpus build\n")
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise CorpusError(f"{out}: cannot write output ({exc.strerror or exc})") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
