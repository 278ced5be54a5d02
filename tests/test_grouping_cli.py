"""End to end: the translation decision through the CLI, on our own small folders."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from corpus.cli import app
from corpus.outputs.exports import export
from tests.conftest import ROOT

runner = CliRunner()
CASES = ROOT / "tests" / "cases"
DATA = ROOT / "tests" / "data"


def build(src: Path, out: Path, *extra: str):
    return runner.invoke(app, ["build", str(src), "--out", str(out), "--quiet", *extra])


def test_two_unrelated_stories_are_not_an_article(tmp_path):
    # An English story about a library budget, a Swedish one about a museum.
    out = tmp_path / "out"
    result = build(CASES / "unrelated-two-files", out)
    assert result.exit_code == 1
    assert "no two files are translations" in result.output
    assert "best candidate" in result.output
    assert not out.exists()


def test_comparable_stories_never_group(tmp_path):
    # 24 events, each reported independently in two languages (48 files, 902 pairs of
    # files in different languages): none translates another.
    out = tmp_path / "out"
    result = build(DATA / "comparable", out)
    assert result.exit_code == 1, result.output
    assert "no two files are translations" in result.output
    assert not out.exists()


def test_one_sentence_files_group_with_their_translations(tmp_path):
    out = tmp_path / "out"
    result = build(DATA / "one-sentence", out)
    assert result.exit_code == 0, result.output
    rows = [r for r in pq.read_table(out / "articles.parquet").to_pylist()]
    by_path = {r["path"]: r for r in rows if r["path"].endswith(".txt")}
    for path, row in by_path.items():
        item = path.split("-")[0]
        partners = {
            p for p, r in by_path.items() if r["article_id"] == row["article_id"] and p != path
        }
        assert row["article_id"] is not None, path
        assert [p.split("-")[0] for p in partners] == [item], (path, partners)
        assert row["article_score"] >= 0.5
        assert row["alone_reason"] is None


def test_mixed_copy_never_replaces_the_clean_file(tmp_path):
    # lakeview-es.txt is Spanish; lakeview-es-sv-mixed.txt is the same article with three
    # of its paragraphs in Swedish. The clean one must be used.
    out = tmp_path / "out"
    result = build(CASES / "mixed-file", out)
    assert result.exit_code == 0, result.output
    rows = {r["path"]: r for r in pq.read_table(out / "articles.parquet").to_pylist()}
    clean, en = rows["lakeview-es.txt"], rows["lakeview-en.txt"]
    assert clean["article_id"] is not None and clean["article_id"] == en["article_id"]
    mixed = rows.get("lakeview-es-sv-mixed.txt")
    assert mixed is None or mixed["article_id"] != en["article_id"]
    clean_text = " ".join((CASES / "mixed-file" / "lakeview-es.txt").read_text().split())
    pairs = pq.read_table(out / "data" / "en-es").to_pylist()
    assert len(pairs) >= 10
    for row in pairs:
        assert row["translation"]["es"] in clean_text


def test_articles_record_the_evidence_and_the_card_shows_it(sample_build):
    rows = pq.read_table(sample_build / "articles.parquet").to_pylist()
    grouped = [r for r in rows if r["article_id"] is not None]
    alone = [r for r in rows if r["article_id"] is None]
    assert grouped and alone
    assert all(r["article_score"] >= 0.5 and r["alone_reason"] is None for r in grouped)
    for r in alone:
        assert r["article_score"] is None
        assert r["alone_reason"].startswith("best candidate ")
        assert float(r["alone_reason"].split("scored ")[1].split()[0]) < 0.5
    card = (sample_build / "README.md").read_text()
    assert "## Document alignment" in card
    assert f"| alone | {len(alone)} |" in card


def test_a_second_rendering_in_a_language_is_recorded_as_its_articles_variant(tmp_path):
    # The Norwegian rendering of the close-languages case declared Danish by its dump (as a
    # Bosnian article may be tagged Croatian): two files of a code the article holds.
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a_sv.txt", "c_da.txt"):
        (src / name).write_text((CASES / "close-languages" / name).read_text())
    norwegian = (CASES / "close-languages" / "b_no.txt").read_text()
    (src / "dump.jsonl").write_text(json.dumps({"id": "no", "text": norwegian, "lang": "da"}))
    result = build(src, tmp_path / "out")
    assert result.exit_code == 0, result.output
    articles = {r["path"]: r for r in pq.read_table(tmp_path / "out/articles.parquet").to_pylist()}
    article = articles["a_sv.txt"]["article_id"]
    danish = ("c_da.txt", "dump.jsonl#no")
    assert article is not None and all(articles[p]["lang"] == "da" for p in danish)
    member, variant = sorted(danish, key=lambda p: articles[p]["article_id"] is None)
    assert articles[member]["article_id"] == article and articles[member]["variant_of"] is None
    assert articles[variant]["article_id"] is None
    assert articles[variant]["variant_of"] == article
    assert articles[variant]["alone_reason"].startswith("a second da rendering of the article")
    assert articles["a_sv.txt"]["variant_of"] is None
    # Both Danish files have pairs with the Swedish one, under the article's id.
    sentences = pq.read_table(tmp_path / "out/sentences.parquet").to_pylist()
    path_of = {s["sentence_id"]: s["path"] for s in sentences}
    rows = pq.read_table(tmp_path / "out/data/da-sv").to_pylist()
    assert {r["article_id"] for r in rows} == {article}
    assert {path_of[r["sentence_ids"]["da"][0]] for r in rows} == set(danish)
    # Exports name each side's own file: a variant's links form a document pair of their own.
    xces = export(tmp_path / "out", "da-sv", "xces", tmp_path / "da-sv.xml")[0]
    groups = list(ET.parse(xces).getroot().iter("linkGrp"))
    assert sorted(g.get("fromDoc") for g in groups) == sorted(danish)
    assert all(g.get("toDoc") == "a_sv.txt" for g in groups)
    for group in groups:
        seen: list[int] = []
        for link in group.iter("link"):
            da, sv = (side.split() for side in link.get("xtargets").split(";"))
            assert {path_of[int(s[1:])] for s in da} == {group.get("fromDoc")}
            assert {path_of[int(s[1:])] for s in sv} == {"a_sv.txt"}
            seen += [int(s[1:]) for s in da]
        assert len(seen) == len(set(seen))  # no sentence linked twice
    tsv = export(tmp_path / "out", "da-sv", "bicleaner", tmp_path / "da-sv.tsv")[0]
    lines = [x.split("\t") for x in tsv.read_text(encoding="utf-8").splitlines()]
    assert {x[0] for x in lines} == set(danish) and {x[1] for x in lines} == {"a_sv.txt"}
