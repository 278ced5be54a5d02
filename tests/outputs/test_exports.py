import json
import xml.etree.ElementTree as ET

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.errors import UsageError
from corpus.outputs.exports import export
from corpus.outputs.writing import write_config
from corpus.tables import bead_schema

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def pairs(out, name):
    la, lb = name.split("-")
    rows = pq.read_table(out / "data" / name).to_pylist()
    return [(r["translation"][la], r["translation"][lb]) for r in rows]


@pytest.mark.slow
def test_tmx_parses_back_to_the_pairs(sample_build, tmp_path):
    [path] = export(sample_build, "ar-sv", "tmx", tmp_path / "ar-sv.tmx")
    root = ET.parse(path).getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    units = root.findall("body/tu")
    back = []
    for tu in units:
        tuvs = tu.findall("tuv")
        assert [t.get(XML_LANG) for t in tuvs] == ["ar", "sv"]
        back.append(tuple(t.find("seg").text for t in tuvs))
    assert back == pairs(sample_build, "ar-sv")


@pytest.mark.slow
def test_moses_and_jsonl(sample_build, tmp_path):
    expected = pairs(sample_build, "hi-sv")
    hi, sv = export(sample_build, "hi-sv", "moses", tmp_path / "train")
    assert (hi.name, sv.name) == ("train.hi", "train.sv")
    lines = list(zip(hi.read_text().splitlines(), sv.read_text().splitlines(), strict=True))
    assert lines == [(" ".join(a.split()), " ".join(b.split())) for a, b in expected]
    [jsonl] = export(sample_build, "hi-sv", "jsonl", tmp_path / "hi-sv.jsonl")
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [(r["hi"], r["sv"]) for r in records] == expected
    assert all(0 <= r["score"] <= 1 and r["article_id"] for r in records)


def test_tmx_escapes_markup(tmp_path):
    row = {
        "translation": {"en": 'a < b & "c"', "sv": "x]]>y <tag/>"},
        "score": 0.5,
        "article_id": "id&1",
        "align_type": "1-1",
        "sentence_ids": {"en": [0], "sv": [1]},
    }
    write_config(pa.Table.from_pylist([row], bead_schema(["en", "sv"])), tmp_path / "data/en-sv")
    [path] = export(tmp_path, "en-sv", "tmx", tmp_path / "out.tmx")
    segs = [seg.text for seg in ET.parse(path).getroot().iter("seg")]
    assert segs == ['a < b & "c"', "x]]>y <tag/>"]
    assert not list(tmp_path.glob(".out.tmx.tmp-*"))


def test_unknown_pair_or_format(tmp_path):
    with pytest.raises(UsageError, match=r"not a corpus build \(no data/<pair> folders\)"):
        export(tmp_path, "ar-sv", "jsonl", tmp_path / "x.jsonl")
    for pair in ("en-sv", "ar-hi"):
        (tmp_path / "data" / pair).mkdir(parents=True)
    for pair in ("ar-sv", "arsv"):
        with pytest.raises(UsageError, match=rf"no pair {pair} \(available: ar-hi, en-sv\)"):
            export(tmp_path, pair, "jsonl", tmp_path / "x.jsonl")
    with pytest.raises(UsageError, match="unknown format"):
        export(tmp_path, "ar-hi", "csv", tmp_path / "x.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_tmx_is_well_formed_whatever_the_text(tmp_path):
    bad = "".join(chr(c) for c in [*range(0x20), 0x7F, 0x85, 0xFFFE, 0xFFFF])
    row = {
        "translation": {"en": f"a{bad}b", "sv": "\ufdd0ok\U0001f600"},
        "score": 0.5,
        "article_id": "x\x07",
        "align_type": "1-1",
        "sentence_ids": {"en": [0], "sv": [1]},
    }
    table = pa.Table.from_pylist([row], bead_schema(["en", "sv"]))
    write_config(table, tmp_path / "data/en-sv")
    [path] = export(tmp_path, "en-sv", "tmx", tmp_path / "out.tmx")
    segs = [seg.text for seg in ET.parse(path).getroot().iter("seg")]
    assert segs == ["a\t\n\n\x7f\x85b", "\ufdd0ok\U0001f600"]  # XML 1.0 reads \r as \n


@pytest.mark.slow
def test_bicleaner_tsv_has_five_columns_with_sources(sample_build, tmp_path):
    expected = pairs(sample_build, "ar-sv")
    [tsv] = export(sample_build, "ar-sv", "bicleaner", tmp_path / "ar-sv.tsv")
    lines = tsv.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expected)
    paths = set(pq.read_table(sample_build / "articles.parquet").column("path").to_pylist())
    for line, (ar, sv) in zip(lines, expected, strict=True):
        url_a, url_b, a, b, score = line.split("\t")
        assert {url_a, url_b} <= paths  # plain files: the input path stands in for a URL
        assert (a, b) == (" ".join(ar.split()), " ".join(sv.split()))
        assert 0 <= float(score) <= 1


@pytest.mark.slow
def test_xces_links_name_the_sentences_of_each_side(sample_build, tmp_path):
    [xml] = export(sample_build, "hi-sv", "xces", tmp_path / "hi-sv.xml")
    root = ET.parse(xml).getroot()
    assert root.tag == "cesAlign"
    sentences = pq.read_table(sample_build / "sentences.parquet").to_pylist()
    by_id = {s["sentence_id"]: s for s in sentences}
    rows = pq.read_table(sample_build / "data" / "hi-sv").to_pylist()
    links = [(group, link) for group in root.iter("linkGrp") for link in group.iter("link")]
    assert len(links) == len(rows)
    for (group, link), row in zip(links, rows, strict=True):
        src, tgt = link.get("xtargets").split(";")
        ids = [int(s[1:]) for s in src.split()], [int(s[1:]) for s in tgt.split()]
        assert ids == (row["sentence_ids"]["hi"], row["sentence_ids"]["sv"])
        assert {by_id[i]["path"] for i in ids[0]} == {group.get("fromDoc")}
        assert {by_id[i]["path"] for i in ids[1]} == {group.get("toDoc")}
        assert float(link.get("certainty")) == pytest.approx(row["score"], abs=1e-4)


@pytest.mark.slow
def test_min_score_keeps_only_the_rows_at_or_above_it(sample_build, tmp_path):
    scores = pq.read_table(sample_build / "data" / "ar-sv").column("score").to_pylist()
    threshold = sorted(scores)[len(scores) // 2]  # the median: about half the rows
    [path] = export(sample_build, "ar-sv", "jsonl", tmp_path / "x.jsonl", min_score=threshold)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == sum(s >= threshold for s in scores) < len(scores)
    assert all(r["score"] >= round(threshold, 4) for r in rows)


@pytest.mark.slow
def test_a_pair_named_the_other_way_round_swaps_the_sides(sample_build, tmp_path):
    expected = pairs(sample_build, "ar-sv")
    [tmx] = export(sample_build, "sv-ar", "tmx", tmp_path / "sv-ar.tmx")
    root = ET.parse(tmx).getroot()
    assert root.find("header").get("srclang") == "sv"
    units = [
        [(tuv.get(XML_LANG), tuv.findtext("seg")) for tuv in tu.findall("tuv")]
        for tu in root.iter("tu")
    ]
    assert units == [[("sv", sv), ("ar", ar)] for ar, sv in expected]
    moses = export(sample_build, "sv-ar", "moses", tmp_path / "m")
    assert [p.name for p in moses] == ["m.sv", "m.ar"]
    sv_lines = moses[0].read_text(encoding="utf-8").splitlines()
    assert sv_lines == [" ".join(sv.split()) for _, sv in expected]
    [tsv] = export(sample_build, "sv-ar", "bicleaner", tmp_path / "x.tsv")
    first = tsv.read_text(encoding="utf-8").splitlines()[0].split("\t")
    assert (first[2], first[3]) == (
        " ".join(expected[0][1].split()),
        " ".join(expected[0][0].split()),
    )


@pytest.mark.slow
def test_multiway_tuples_export_as_tmx_units_of_every_language_they_hold(sample_build, tmp_path):
    from lxml import etree

    table = pq.read_table(sample_build / "data" / "multiway").to_pylist()
    [tmx] = export(sample_build, "multiway", "tmx", tmp_path / "all.tmx", min_score=0.5)
    root = etree.parse(str(tmx)).getroot()
    assert root.find("header").get("srclang") == "*all*"
    kept = [r for r in table if r["score"] >= 0.5]
    units = root.findall("body/tu")
    assert len(units) == len(kept) > 0
    for tu, row in zip(units, kept, strict=True):
        sides = {tuv.get(XML_LANG): tuv.findtext("seg") for tuv in tu.findall("tuv")}
        assert sides == {lang: t for lang, t in row["translation"].items() if t is not None}
    [jsonl] = export(sample_build, "multiway", "jsonl", tmp_path / "all.jsonl")
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == len(table)
    with pytest.raises(UsageError, match="multiway: --format tmx or jsonl"):
        export(sample_build, "multiway", "moses", tmp_path / "m")
