import json
import xml.etree.ElementTree as ET

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.errors import UsageError
from corpus.exporting import export
from corpus.writing import bead_schema, write_config

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
