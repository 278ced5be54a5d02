"""End to end, through the CLI: inputs that are not what a folder of articles should hold
(issue 23; fixtures under tests/cases, right outcomes from shared/cases/README.md)."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import DatasetCard
from typer.testing import CliRunner

from corpus.cli import app
from corpus.inputs.decoding import decode_bytes, not_running_text
from corpus.inputs.extraction import FieldNames
from corpus.inputs.listing import list_inputs
from corpus.inputs.reading import read_inputs
from corpus.tables import READ_SCHEMA
from corpus.text.identification import identify_languages

CASES = Path(__file__).parent / "cases"
runner = CliRunner()


def build(src: Path, out: Path, *extra: str):
    """The CLI build of ``src`` into ``out`` (summary off, skip and warning lines kept)."""
    return runner.invoke(app, ["build", str(src), "--out", str(out), "--quiet", *extra])


def test_an_earlier_build_inside_the_input_is_never_read(tmp_path):
    src = CASES / "previous-build-inside"
    result = build(src, tmp_path / "out")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    about = [x for x in lines if "prev_build" in x]
    assert len(about) == 1 and about[0].startswith("skipped prev_build: "), lines
    assert ".corpus-build" in about[0]
    articles = pq.read_table(tmp_path / "out" / "articles.parquet").to_pylist()
    assert sorted(a["path"] for a in articles) == ["de.txt", "en.txt"]
    assert articles[0]["article_id"] is not None
    assert articles[0]["article_id"] == articles[1]["article_id"]
    en = (src / "en.txt").read_text(encoding="utf-8")
    rows = pq.read_table(tmp_path / "out" / "data" / "de-en").to_pylist()
    assert rows
    for row in rows:
        assert row["translation"]["en"] in en
        assert not any(c in side for side in row["translation"].values() for c in "<>")


def test_an_input_folder_that_is_an_earlier_build_is_refused(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(CASES / "previous-build-inside" / "prev_build", src)
    result = build(src, tmp_path / "out")
    assert result.exit_code != 0
    assert result.output.startswith("error: ") and ".corpus-build" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_nested_earlier_build_is_listed_once_and_not_entered(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(CASES / "previous-build-inside", src)
    names, skipped = list_inputs(src)
    assert names == ["de.txt", "en.txt"]
    assert [s.path for s in skipped] == ["prev_build"]
    # The same through a pyarrow.fs URI.
    names, skipped = list_inputs(src.as_uri())
    assert names == ["de.txt", "en.txt"]
    assert [s.path for s in skipped] == ["prev_build"]


def test_a_dump_without_the_text_field_is_one_line_naming_the_right_one(tmp_path):
    src, out = CASES / "wrong-text-field", tmp_path / "out"
    result = build(src, out)
    assert result.exit_code == 0, result.output
    about = [x for x in result.output.splitlines() if "hf_dump" in x]
    assert len(about) == 1, about
    assert about[0].startswith("skipped hf_dump.parquet: ")
    assert "columns: id, lang, content" in about[0]
    assert "--text-field content" in about[0]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert card.count("hf_dump") == 1 and len(card.splitlines()) < 200
    assert pq.read_table(out / "data" / "de-en").num_rows > 0
    # Named, every row is read.
    fields = FieldNames(text=("content",))
    read = read_inputs(src, fields=fields)
    rows = [d for d in read.documents if d.path.startswith("hf_dump.parquet#")]
    skipped = [s.reason for s in read.skipped if s.path.startswith("hf_dump.parquet")]
    # Every row is read; a few short sentences repeat and are set apart as duplicates.
    assert len(rows) + len(skipped) == 2910 and len(skipped) < 10
    assert all(reason.startswith("exact duplicate of hf_dump.parquet#") for reason in skipped)
    assert {d.declared_lang for d in rows} == {"de", "en", "fr"}


def test_jsonl_and_arrow_dumps_without_the_text_field_are_one_line_too(tmp_path):
    table = pq.read_table(CASES / "wrong-text-field" / "hf_dump.parquet").slice(0, 150)
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    with (dumps / "dump.jsonl").open("w", encoding="utf-8") as jsonl:
        for row in table.to_pylist():
            jsonl.write(json.dumps(row, ensure_ascii=False) + "\n")
    with pa.ipc.new_stream(dumps / "dump.arrow", table.schema) as arrow:
        arrow.write_table(table)
    result = read_inputs(dumps)
    assert result.documents == []
    assert [(s.path, s.reason.split("; ")[-1]) for s in result.skipped] == [
        ("dump.arrow", "to read it: --text-field content"),
        ("dump.jsonl", "to read it: --text-field content"),
    ]
    # A dump whose text field is only missing from some rows still reads the others.
    rows = table.slice(0, 60).to_pylist()
    rows.insert(30, {"id": "x", "text": "Ein Satz."})
    (dumps / "dump.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = read_inputs(dumps)
    assert [d.path for d in result.documents] == ["dump.jsonl#x"]
    assert sum(s.path.startswith("dump.jsonl#") for s in result.skipped) == 60


def test_pages_without_an_article_and_lists_are_not_articles(tmp_path):
    out = tmp_path / "out"
    result = build(CASES / "not-articles", out)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in ("nav.html", "numbers.txt", "urls.txt"):
        about = [x for x in lines if name in x]
        assert len(about) == 1 and about[0].startswith(f"skipped {name}: "), (name, lines)
    assert any(x.startswith("skipped nav.html: no article in HTML page") for x in lines)
    assert any(x.startswith("skipped numbers.txt: not running text") for x in lines)
    assert any(x.startswith("skipped urls.txt: not running text") for x in lines)
    articles = pq.read_table(out / "articles.parquet").to_pylist()
    assert sorted(a["path"] for a in articles) == ["en.txt", "fr.txt"]
    assert pq.read_table(out / "data" / "en-fr").num_rows > 0
    card = DatasetCard.load(out / "README.md").data
    assert card.language == ["en", "fr"]


def test_running_text_is_judged_by_what_it_is_made_of():
    assert not_running_text("https://example.com/a\nhttps://news.example.org/world-europe\n")
    assert not_running_text("12345\n3.14159\n2024-01-01\n+49 30 1234567\n")
    # Prose in any script, with numbers and a link in it, is running text.
    for text in (
        "The budget rose 4.5% to $12.3 million in 2024, the council said on Tuesday. The "
        "plan is on the city's website (https://example.com/budget) and goes to a vote in May.",
        "城市议会批准了新的图书馆预算，这笔资金将用于2025年。",
        "ฝนตกหนักทำให้เกิดน้ำท่วมในสามอำเภอ",
        "བོད་ཀྱི་སྐད་ཡིག་ནི་བོད་མིའི་སྐད་ཡིག་ཡིན། ",
    ):
        assert not_running_text(text) is None, text


def test_a_language_guessed_with_negligible_confidence_never_labels_a_file():
    # The list of numbers of not-articles/, past the reader: it was labelled oc at 0.0013.
    text = (CASES / "not-articles" / "numbers.txt").read_text(encoding="utf-8")
    spans = [m.span() for m in re.finditer(r"\S(?:[^\n]*\S)?", text)]
    row = {"path": "numbers.txt", "text": text, "hreflang": [], "n_not_text": 0}
    row |= {"paragraph_start": [a for a, _ in spans], "paragraph_end": [b for _, b in spans]}
    row |= {"sha256": "", "encoding": "utf-8", "warnings": []}
    identified = identify_languages(pa.Table.from_pylist([row], READ_SCHEMA)).to_pylist()[0]
    assert identified["skipped"].startswith("language not identified (best guess ")
    assert identified["lang"] is None


def test_legacy_code_pages_are_decoded_right(tmp_path):
    out = tmp_path / "out"
    result = build(CASES / "legacy-encodings", out)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "warning: cs_cp1250.txt: decoded as cp1250 (no BOM, not UTF-8)" in lines
    assert any(x.startswith("warning: tr_cp1254.txt: decoded as ") for x in lines)
    articles = pq.read_table(out / "articles.parquet").to_pylist()
    assert sorted((a["path"], a["lang"]) for a in articles) == [
        ("cs_cp1250.txt", "cs"),
        ("de.txt", "de"),
        ("en.txt", "en"),
        ("tr_cp1254.txt", "tr"),
    ]
    assert len({a["article_id"] for a in articles}) == 1 and articles[0]["article_id"]
    turkish = [r["translation"]["tr"] for r in pq.read_table(out / "data" / "en-tr").to_pylist()]
    assert any(t.startswith("Rosa kasırgasından") for t in turkish)
    assert not any("ý" in t for t in turkish)  # the dotless i read as Latin-1
    cs_en = pq.read_table(out / "data" / "cs-en").to_pylist()
    czech = " ".join(r["translation"]["cs"] for r in cs_en)
    assert {"ě", "š", "č"} <= set(czech) and "ø" not in czech


def test_a_text_no_code_page_reads_names_its_closest_and_iconv(tmp_path):
    # Czech in cp1250 followed by Turkish in cp1254: read with either, one half is mojibake.
    case = CASES / "legacy-encodings"
    data = (case / "cs_cp1250.txt").read_bytes() + (case / "tr_cp1254.txt").read_bytes()
    (tmp_path / "two code pages.txt").write_bytes(data)
    [skipped] = read_inputs(tmp_path).skipped
    assert skipped.path == "two code pages.txt"
    assert skipped.reason.startswith("undecodable: not UTF-8, and its closest legacy encoding, ")
    assert skipped.reason.endswith(": iconv -f CP1250 -t UTF-8 'two code pages.txt'")


def test_a_multi_byte_legacy_code_page_is_decoded_too():
    # Simplified Chinese in GB2312: CLDR's names hold few of its Han characters, so a Han
    # character counts as Chinese by its script; GB18030 is the superset that reads it.
    text = (CASES / "cjk" / "b_zh.txt").read_text(encoding="utf-8")
    decoded = decode_bytes(text.encode("gb2312"), "zh.txt")
    assert decoded.text == unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    assert decoded.encoding == "gb18030"


def test_damaged_copies_are_skipped_and_never_aligned(tmp_path):
    src, out = CASES / "damaged-copies", tmp_path / "out"
    result = build(src, out)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "skipped de31_utf16.txt: exact duplicate of de31.txt" in lines
    # The mojibake copy is repaired, and then it is fr32.txt itself.
    assert "skipped fr32_mojibake.txt: exact duplicate of fr32.txt" in lines
    assert any(x.startswith("warning: fr32_mojibake.txt: mojibake repaired") for x in lines)
    garbled = [x for x in lines if x.startswith("skipped en31_garbled.txt: ")]
    assert len(garbled) == 1 and "damaged copy of en31.txt" in garbled[0], lines
    names = ("de31.txt", "en31.txt", "en32.txt", "fr32.txt")
    de, en31, en32, fr = ((src / n).read_text(encoding="utf-8") for n in names)
    de_en = pq.read_table(out / "data" / "de-en").to_pylist()
    en_fr = pq.read_table(out / "data" / "en-fr").to_pylist()
    assert len(de_en) >= 5 and len(en_fr) >= 15
    for row in de_en:
        assert row["translation"]["de"] in " ".join(de.split())
        assert row["translation"]["en"] in " ".join(en31.split())
    for row in en_fr:
        assert row["translation"]["en"] in " ".join(en32.split())
        assert row["translation"]["fr"] in " ".join(fr.split())
        assert not any(c in row["translation"]["fr"] for c in "Ãâ\u0080")


def test_a_file_of_alternating_languages_is_cut_into_its_languages(tmp_path):
    src, out = CASES / "mixed-paragraphs", tmp_path / "out"
    result = build(src, out)
    assert result.exit_code == 0, result.output
    assert any(
        x.startswith("warning: mixed_en_de.txt: paragraphs in more than one language: read as 2")
        for x in result.output.splitlines()
    )
    articles = {a["path"]: a for a in pq.read_table(out / "articles.parquet").to_pylist()}
    assert "mixed_en_de.txt" not in articles
    german = articles["mixed_en_de.txt#de"]
    assert german["lang"] == "de" and german["lang_mixed"]
    assert german["article_id"] == articles["en.txt"]["article_id"] is not None
    # Lines 2, 4, ... of the file are German, 1, 3, ... English.
    lines = (src / "mixed_en_de.txt").read_text(encoding="utf-8").splitlines()
    german_text, english_text = " ".join(lines[1::2]), " ".join(lines[0::2])
    sides = [
        row["translation"]["de"]
        for config in ("de-en", "de-fr", "multiway")
        for row in pq.read_table(out / "data" / config).to_pylist()
        if row["translation"]["de"] is not None  # a multi-way tuple may lack a language
    ]
    assert len(sides) >= 10
    for side in sides:
        assert side in german_text and side not in english_text, side


def test_a_language_no_identifier_knows_is_labelled_und_never_a_neighbour(tmp_path):
    # Hausa: fastText and lingua have no model of it and call it Ido or Swahili; heliport
    # has none either. It is und_Latn with a warning, never yo, io or sw.
    from corpus.inputs.reading import read_files
    from tests.text.test_langid import HAUSA

    (tmp_path / "b.txt").write_text(HAUSA + "\n")
    files = identify_languages(read_files(pa.table({"file": ["b.txt"]}), root=str(tmp_path)))
    [row] = files.to_pylist()
    assert row["lang"] == "und_Latn" and row["skipped"] is None
    assert row["warnings"] == [
        "b.txt: language not identified (no identifier here knows it, or they disagree): "
        "labelled und_Latn, undetermined in its script"
    ]
