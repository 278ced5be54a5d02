"""Tests for corpus.outputs.splits: train, validation and test by article, without leakage."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.outputs import splits
from corpus.outputs.splits import _clusters, sentence_key
from tests.conftest import SAMPLE

# Appended to every article in its three languages: a site's template, near-identical in
# each (only the date differs).
TEMPLATE = {
    "ar": "تم نشر هذا التقرير من قبل مكتب الأخبار الإقليمي في {} مايو.",
    "hi": "यह रिपोर्ट क्षेत्रीय समाचार कार्यालय द्वारा {} मई को प्रकाशित की गई।",
    "sv": "Denna rapport publicerades av den regionala nyhetsbyrån den {} maj.",
}


def three_articles(root):
    """Three articles in Arabic, Hindi and Swedish (the sample's paragraphs 1-4, 5-8 and
    9-12 of one article), each ending with the template."""
    root.mkdir(parents=True)
    for key, lang in (("000", "ar"), ("004", "hi"), ("003", "sv")):
        lines = [x for x in next(SAMPLE.glob(f"{key}_*")).read_text().splitlines() if x.strip()]
        for part in range(3):
            paragraphs = [*lines[4 * part : 4 * part + 4], TEMPLATE[lang].format(10 + part)]
            (root / f"{lang}{part}.txt").write_text("\n\n".join(paragraphs) + "\n")
    return root


def test_near_duplicate_sentences_share_a_key():
    assert sentence_key("Colombo, 12 May: the report.") == sentence_key("colombo 13 MAY the report")
    assert sentence_key("Ａ１") == sentence_key("a1")  # NFKC
    assert sentence_key("Rapporten kom i dag.") != sentence_key("Rapporten kom i går.")
    # Vowel signs are combining marks, part of the word: these are different sentences.
    assert sentence_key("उसने किया") != sentence_key("उसने कौआ")
    assert sentence_key("ที่มา") != sentence_key("ทีมา")


def test_articles_sharing_a_rare_sentence_cluster_a_template_does_not_join_them():
    articles = ["a", "a", "b", "c", "d", "e", None]
    keys = ["shared" + "x" * 12, "template" * 2, "shared" + "x" * 12, *["template" * 2] * 3, ""]
    cluster = _clusters(articles, keys)
    assert cluster["a"] == cluster["b"] == "a"  # one repost: one cluster
    assert {cluster[x] for x in "cde"} == {"c", "d", "e"}  # four holders: no cluster


@pytest.mark.slow
def test_split_by_article_leaks_no_sentence_of_a_test_article_into_train(
    sample_build, tmp_path, monkeypatch
):
    src, out = three_articles(tmp_path / "in"), tmp_path / "out"
    cache = sample_build.parent / ".cache"
    build = ["build", str(src), "--out", str(out), "-q", "--cache-dir", str(cache)]
    assert CliRunner().invoke(app, build).exit_code == 0
    articles = set(pq.read_table(out / "articles.parquet").column("article_id").to_pylist())
    assert len(articles) == 3
    monkeypatch.setattr(splits, "MAX_CLUSTER_ARTICLES", 1)  # the template joins nothing
    result = CliRunner().invoke(app, ["split", str(out), "--test", "1"])
    assert result.exit_code == 0, result.output
    sentences = pq.read_table(out / "sentences.parquet").to_pylist()
    test_rows = pq.read_table(next((out / "data" / "ar-sv").glob("test-*.parquet"))).to_pylist()
    test_article = {r["article_id"] for r in test_rows}
    assert len(test_article) == 1
    test_keys = {sentence_key(s["text"]) for s in sentences if s["article_id"] in test_article} - {
        ""
    }
    by_id = {s["sentence_id"]: s["text"] for s in sentences}
    for name in ("ar-hi", "ar-sv", "hi-sv", "multiway"):
        for shard in (out / "data" / name).glob("train-*.parquet"):
            for row in pq.read_table(shard).to_pylist():
                assert row["article_id"] not in test_article
                texts = [by_id[i] for ids in row["sentence_ids"].values() if ids for i in ids]
                assert not {sentence_key(t) for t in texts} & test_keys, (name, texts)
    assert "removed from train:" in result.output  # the template rows of train articles
    card = (out / "README.md").read_text()
    assert "## Splits" in card and "| ar-sv |" in card


@pytest.mark.slow
def test_splits_load_in_datasets_and_the_same_seed_gives_the_same_split(
    sample_build, tmp_path, monkeypatch
):
    from datasets import load_dataset

    src = three_articles(tmp_path / "in")
    cache = sample_build.parent / ".cache"
    names = {}
    for copy in ("one", "two"):
        out = tmp_path / copy
        build = ["build", str(src), "--out", str(out), "-q", "--cache-dir", str(cache)]
        assert CliRunner().invoke(app, build).exit_code == 0
        # The template joins all three articles (held by 3): no test article can be cut out.
        together = CliRunner().invoke(app, ["split", str(out), "--test", "1"])
        assert together.exit_code == 2 and "share sentences stay together" in together.output
        with monkeypatch.context() as patch:
            patch.setattr(splits, "MAX_CLUSTER_ARTICLES", 1)
            split = CliRunner().invoke(app, ["split", str(out), "--test", "1", "--seed", "7"])
        assert split.exit_code == 0, split.output
        names[copy] = sorted(p.name for p in (out / "data" / "ar-sv").iterdir())
    assert names["one"] == names["two"]
    out = tmp_path / "one"
    loaded = load_dataset(str(out), "ar-sv", cache_dir=str(tmp_path / "hf"))
    assert set(loaded) <= {"train", "test"} and "test" in loaded
    for split, rows in loaded.items():
        on_disk = sum(
            pq.read_metadata(p).num_rows for p in (out / "data" / "ar-sv").glob(f"{split}-*")
        )
        assert rows.num_rows == on_disk
    monkeypatch.setattr(splits, "MAX_CLUSTER_ARTICLES", 1)
    too_many = CliRunner().invoke(app, ["split", str(out), "--dev", "2", "--test", "1"])
    assert too_many.exit_code == 2 and "would leave no train" in too_many.output
