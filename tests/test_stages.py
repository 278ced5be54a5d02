"""Tests for the stages of the graph (corpus.graph): each stage over a small Arrow table."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from corpus.alignment.article_alignment import align_articles, article_pairs, pair_beads
from corpus.embedding.backend import normalise
from corpus.inputs.reading import read_files
from corpus.tables import READ_SCHEMA, align_input_schema
from corpus.text.identification import identify_languages
from corpus.text.segmentation import MAX_SENTENCES_PER_FILE, segment_files


def article(
    seed: int,
    article_id: str = "a1",
    langs: tuple[str, ...] = ("ar", "hi", "sv"),
    variants: int = 0,
) -> pa.Table:
    """Files of 12 sentences each, noisy copies of the same meanings; the last ``variants``
    of ``langs`` are variants (a second file in a language of the members)."""
    rng = np.random.default_rng(seed)
    meaning = rng.normal(size=(12, 32))
    embeddings = [
        normalise(meaning + 0.3 * rng.normal(size=meaning.shape)).astype(np.float32) for _ in langs
    ]
    schema = align_input_schema(32)
    return pa.table(
        [
            pa.array([article_id] * len(langs)),
            pa.array(langs),
            pa.array([k >= len(langs) - variants for k in range(len(langs))]),
            pa.array([list(e) for e in embeddings], schema.field("embeddings").type),
            pa.array([[40] * 12] * len(langs), pa.list_(pa.int32())),
        ],
        schema=schema,
    )


def test_align_articles_aligns_every_language_pair_of_each_article():
    beads = align_articles(pa.concat_tables([article(0, "a1"), article(1, "a2")]))
    assert beads.column("article_id").unique().to_pylist() == ["a1", "a2"]
    first = pair_beads(beads.filter(pa.compute.equal(beads.column("article_id"), "a1")))
    assert sorted(first) == [(0, 1), (0, 2), (1, 2)]  # ar-hi, ar-sv, hi-sv
    for pair in first.values():
        assert [(b.src, b.tgt) for b in pair] == [((k,), (k,)) for k in range(12)]


def test_a_variant_pairs_with_the_members_of_other_languages_only():
    # Members hr, en, sv (sorted: en, hr, sv), then a variant in hr (a second rendering).
    langs, variant = ["en", "hr", "sv", "hr"], [False, False, False, True]
    assert article_pairs(langs, variant) == [(0, 1), (0, 2), (1, 2), (0, 3), (3, 2)]
    beads = pair_beads(align_articles(article(2, langs=("en", "hr", "sv", "hr"), variants=1)))
    assert sorted(beads) == [(0, 1), (0, 2), (0, 3), (1, 2), (3, 2)]
    assert [(b.src, b.tgt) for b in beads[(3, 2)]] == [((k,), (k,)) for k in range(12)]


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


def test_identification_is_read_back_from_the_language_store(tmp_path, monkeypatch):
    from corpus.text import identification as stages

    cases = Path(__file__).parent / "cases" / "mixed-paragraphs"
    names = sorted(p.name for p in cases.iterdir() if p.suffix == ".txt")
    files = read_files(pa.table({"file": names}), root=str(cases))
    first = identify_languages(files, cache_dir=tmp_path / "cache")
    assert any(path.endswith("#de") for path in first.column("path").to_pylist())  # cut

    def fail(document):
        raise AssertionError(f"{document.path} identified again")

    monkeypatch.setattr(stages, "identification_of", fail)
    again = identify_languages(files, cache_dir=tmp_path / "cache")
    assert again.equals(first)
    with pytest.raises(AssertionError, match="identified again"):
        identify_languages(files, cache_dir=tmp_path / "other")


def test_sentence_languages_are_read_back_from_the_language_store(tmp_path, monkeypatch):
    from corpus.text import identification as stages

    texts = ["Det regnade hela natten i Göteborg.", "It rained all night in Gothenburg."]
    first = stages.SentenceLanguages(tmp_path)
    found = [first(t) for t in texts]
    assert [lang for lang, _ in found] == ["sv", "en"]
    first.flush()

    def fail(text):
        raise AssertionError(f"{text!r} identified again")

    monkeypatch.setattr(stages, "detect_text", fail)
    again = stages.SentenceLanguages(tmp_path)
    again.prefetch(texts)
    assert [again(t) for t in texts] == found
