"""Write the dataset's Parquet files: one file per table, one config as hashed train shards.

Layout (the output contract)::

    OUT/README.md                                  dataset card with a YAML ``configs:`` block
    OUT/data/<a>-<b>/train-0000i-of-0000n-<hash>.parquet  one config per language pair (sorted)
    OUT/data/multiway/train-00000-of-00001-<hash>.parquet

``<hash>`` is the start of the shard's sha256, so a rebuild that changes the rows changes the
file names; the card lists them by name (Hugging Face ``datasets`` caches a local dataset by
its configs' file patterns, so under fixed names it would serve the previous build's rows).
    OUT/articles.parquet                           one row per input file
    OUT/sentences.parquet                          one row per sentence

``output_folder`` makes the whole folder appear at once, complete.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_SHARD = 500_000


def write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def write_split(table: pa.Table, out: Path, name: str, split: str = "train") -> list[str]:
    """Write ``split`` of config ``name`` into the output folder ``out``
    (``write_config``); returns its files as the card lists them, ``data/<name>/<file>``."""
    return [f"data/{name}/{file}" for file in write_config(table, out / "data" / name, split)]


def write_config(table: pa.Table, folder: Path, split: str = "train") -> list[str]:
    """Write one config's ``split`` as shards of at most ROWS_PER_SHARD rows; returns file
    names, ``<split>-<k>-of-<n>-<first 16 hex digits of the shard's sha256>.parquet``.

    A table without rows still gets one (empty) shard, so pandas, pyarrow and DuckDB read the
    config with its schema.
    """
    n_shards = max(1, -(-table.num_rows // ROWS_PER_SHARD))
    names = []
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n_shards):
        temp = folder / f".{split}-{k}.tmp"
        write_table(table.slice(k * ROWS_PER_SHARD, ROWS_PER_SHARD), temp)
        with temp.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()[:16]
        name = f"{split}-{k:05d}-of-{n_shards:05d}-{digest}.parquet"
        temp.rename(folder / name)
        names.append(name)
    return names
