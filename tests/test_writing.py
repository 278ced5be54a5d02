import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.errors import CorpusError
from corpus.writing import MARKER, atomic_output, bead_schema, write_config


def test_bead_schema_is_the_translation_layout():
    schema = bead_schema(["ar", "sv"])
    assert schema.field("translation").type == pa.struct([("ar", pa.string()), ("sv", pa.string())])
    assert schema.field("sentence_ids").type == pa.struct(
        [("ar", pa.list_(pa.int32())), ("sv", pa.list_(pa.int32()))]
    )
    assert schema.field("score").type == pa.float32()


def test_write_config_shards_and_compresses(tmp_path, monkeypatch):
    monkeypatch.setattr("corpus.writing.ROWS_PER_SHARD", 2)
    table = pa.table({"x": [1, 2, 3, 4, 5]})
    names = write_config(table, tmp_path / "cfg")
    assert names == [f"train-0000{k}-of-00003.parquet" for k in range(3)]
    back = pa.concat_tables(pq.read_table(tmp_path / "cfg" / n) for n in names)
    assert back.column("x").to_pylist() == [1, 2, 3, 4, 5]
    meta = pq.ParquetFile(tmp_path / "cfg" / names[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_atomic_output_replaces_a_previous_build(tmp_path):
    out = tmp_path / "out"
    with atomic_output(out) as staging:
        (staging / "a.txt").write_text("first")
    with atomic_output(out) as staging:
        assert not (staging / "a.txt").exists()
        (staging / "b.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old folder left


def test_failed_build_leaves_previous_output_untouched(tmp_path):
    out = tmp_path / "out"
    with atomic_output(out) as staging:
        (staging / "a.txt").write_text("first")
    with pytest.raises(RuntimeError), atomic_output(out) as staging:
        (staging / "half.parquet").write_text("partial")
        raise RuntimeError("crash in the middle")
    assert (out / "a.txt").read_text() == "first"
    assert not (out / "half.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    with pytest.raises(CorpusError, match="--force"), atomic_output(out):
        pass
    assert (out / "thesis.tex").exists()
    with atomic_output(out, force=True) as staging:
        (staging / "a.txt").write_text("x")
    assert not (out / "thesis.tex").exists()
