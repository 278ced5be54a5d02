"""Tests for corpus.stages: each stage over a small Arrow table."""

import numpy as np
import pyarrow as pa

from corpus.embedding import normalise
from corpus.stages import (
    MAX_SENTENCES_PER_FILE,
    READ_SCHEMA,
    align_articles,
    align_input_schema,
    identify_languages,
    pair_beads,
    read_files,
    segment_files,
)


def article(seed: int, article_id: str = "a1") -> pa.Table:
    """Three languages, 12 sentences each: noisy copies of the same meanings."""
    rng = np.random.default_rng(seed)
    meaning = rng.normal(size=(12, 32))
    embeddings = [
        normalise(meaning + 0.3 * rng.normal(size=meaning.shape)).astype(np.float32)
        for _ in range(3)
    ]
    schema = align_input_schema(32)
    return pa.table(
        [
            pa.array([article_id] * 3),
            pa.array(["sv", "ar", "hi"]),  # not sorted: the stage sorts by language
            pa.array([list(e) for e in embeddings], schema.field("embeddings").type),
            pa.array([[40] * 12] * 3, pa.list_(pa.int32())),
        ],
        schema=schema,
    )


def test_align_articles_aligns_every_language_pair_of_each_article():
    beads = align_articles(pa.concat_tables([article(0, "a1"), article(1, "a2")]))
    assert beads.column("article_id").unique().to_pylist() == ["a1", "a2"]
    first = pair_beads(beads.filter(pa.compute.equal(beads.column("article_id"), "a1")))
    assert sorted(first) == [("ar", "hi"), ("ar", "sv"), ("hi", "sv")]
    for pair in first.values():
        assert [(b.src, b.tgt) for b in pair] == [((k,), (k,)) for k in range(12)]


def test_read_identify_segment_widen_one_files_table(tmp_path):
    (tmp_path / "en.txt").write_text("The council met on Monday. It approved the budget.\n")
    (tmp_path / "bad.bin").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    files = read_files(pa.table({"file": ["bad.bin", "en.txt"]}), root=str(tmp_path))
    assert files.schema.equals(READ_SCHEMA)
    paths, reasons = files.column("path").to_pylist(), files.column("skipped").to_pylist()
    skipped = dict(zip(paths, reasons, strict=True))
    assert skipped["en.txt"] is None and "PNG" in skipped["bad.bin"]
    files = segment_files(identify_languages(files))
    row = files.filter(pa.compute.equal(files.column("path"), "en.txt")).to_pylist()[0]
    assert row["lang"] == "en"
    assert [s["text"] for s in row["sentences"]] == [
        "The council met on Monday.",
        "It approved the budget.",
    ]
    assert all(row["text"][s["start"] : s["end"]] == s["text"] for s in row["sentences"])


def test_a_file_of_too_many_sentences_is_skipped_with_the_reason(tmp_path):
    text = " ".join(f"Sentence number {k} is here." for k in range(MAX_SENTENCES_PER_FILE + 1))
    (tmp_path / "dump.txt").write_text(text + "\n")
    files = segment_files(
        identify_languages(read_files(pa.table({"file": ["dump.txt"]}), root=str(tmp_path)))
    )
    assert files.column("skipped").to_pylist() == [
        f"too many sentences ({MAX_SENTENCES_PER_FILE + 1} > {MAX_SENTENCES_PER_FILE}); "
        "split it into articles"
    ]
