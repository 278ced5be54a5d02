"""Tests for corpus.outputs.writing: Parquet files and config shards."""

import re

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.outputs.writing import write_config


def test_write_config_shards_and_compresses(tmp_path, monkeypatch):
    monkeypatch.setattr("corpus.outputs.writing.ROWS_PER_SHARD", 2)
    table = pa.table({"x": [1, 2, 3, 4, 5]})
    names = write_config(table, tmp_path / "cfg")
    assert [
        re.fullmatch(r"train-0000(\d)-of-00003-[0-9a-f]{16}\.parquet", n)[1] for n in names
    ] == [
        "0",
        "1",
        "2",
    ]
    assert sorted(p.name for p in (tmp_path / "cfg").iterdir()) == names  # no temporary left
    # The name changes with the content, so a rebuild is never mistaken for the previous one.
    assert write_config(table, tmp_path / "again") == names
    assert write_config(pa.table({"x": [1, 2, 3, 4, 6]}), tmp_path / "other")[2] != names[2]
    back = pa.concat_tables(pq.read_table(tmp_path / "cfg" / n) for n in names)
    assert back.column("x").to_pylist() == [1, 2, 3, 4, 5]
    meta = pq.ParquetFile(tmp_path / "cfg" / names[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
