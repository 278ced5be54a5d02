"""`corpus show`: a side-by-side table that fits the terminal in every script."""

from __future__ import annotations

import pyarrow as pa
import pytest
import wcwidth
from typer.testing import CliRunner

from corpus.cli import app
from corpus.errors import UsageError
from corpus.outputs.showing import show_text
from corpus.outputs.writing import write_config
from corpus.tables import bead_schema

HINDI = "प्रधानमंत्री ने मंगलवार को कहा कि सरकार अगले वर्ष स्वास्थ्य और शिक्षा पर खर्च बढ़ाएगी।"
ARABIC = "قال رئيس الوزراء يوم الثلاثاء إن الحكومة ستزيد الإنفاق على الصحة والتعليم."
CHINESE = "总理周二表示，政府明年将增加在卫生和教育方面的支出，并继续推进改革。"
THAI = "นายกรัฐมนตรีกล่าวเมื่อวันอังคารว่ารัฐบาลจะเพิ่มการใช้จ่ายด้านสุขภาพและการศึกษาในปีหน้า"
ENGLISH = "The prime minister said on Tuesday that the government would raise spending [sic]."


def build(tmp_path, pair: str, rows: list[tuple[str, str]]):
    la, lb = pair.split("-")
    table = pa.Table.from_pylist(
        [
            {"translation": {la: a * 2, lb: b * 2}, "score": 0.9, "article_id": "x",
             "align_type": "1-1", "sentence_ids": {la: [0], lb: [1]}}
            for a, b in rows
        ],
        bead_schema([la, lb]),
    )  # fmt: skip
    write_config(table, tmp_path / "data" / pair)


@pytest.mark.parametrize("width", [80, 120])
def test_rows_fit_the_width_in_every_script(tmp_path, width):
    build(tmp_path, "hi-zh", [(HINDI, CHINESE)])
    build(tmp_path, "ar-th", [(ARABIC, THAI)])
    build(tmp_path, "en-hi", [(ENGLISH, HINDI)])
    text = show_text(tmp_path, width=width)
    lines = text.splitlines()
    assert max(wcwidth.width(line) for line in lines) <= width
    for pair in ("ar-th", "en-hi", "hi-zh"):  # one table per pair without --pair
        assert f"{pair} (1 rows shown)" in text
    # Every wrapped piece of Arabic is isolated on its own line; nothing else is.
    arabic_lines = [line for line in lines if "ال" in line]
    assert len(arabic_lines) > 1
    assert all(line.count("\u2068") == line.count("\u2069") == 1 for line in arabic_lines)
    assert "\u2068" not in "".join(line for line in lines if "ال" not in line)
    # The words survive wrapping: joining the Hindi cells gives the text back.
    start = lines.index("en-hi (1 rows shown)")
    table = lines[start + 4 : lines.index("", start)]
    hindi = "".join(line.split(" │ ")[1].strip() for line in table if " │ " in line)
    assert hindi.replace(" ", "") == (HINDI * 2).replace(" ", "")


def test_text_is_printed_literally(tmp_path):
    build(tmp_path, "de-en", [("Er sagte [sic] und [/url] [bold]x[/bold].", ENGLISH)])
    text = show_text(tmp_path, "de-en", width=200)
    assert "[sic] und [/url] [bold]x[/bold]." in text and "[sic]." in text


def test_unknown_pair_lists_the_pairs_there_are(tmp_path):
    build(tmp_path, "de-en", [("Hallo.", "Hello.")])
    with pytest.raises(UsageError, match=r"no pair fr-sv \(available: de-en\)"):
        show_text(tmp_path, "fr-sv")


runner = CliRunner()
TRICKY = ["He said [sic] it was fine.", "See lakeview.example/plans[/url].", "[bold]x[/bold] [/]"]


def test_show_prints_text_literally(tmp_path):
    rows = [
        {
            "translation": {"de": text, "en": text},
            "score": 0.9,
            "article_id": "a",
            "align_type": "1-1",
            "sentence_ids": {"de": [k], "en": [k]},
        }
        for k, text in enumerate(TRICKY)
    ]
    write_config(pa.Table.from_pylist(rows, bead_schema(["de", "en"])), tmp_path / "data/de-en")
    result = runner.invoke(app, ["show", str(tmp_path), "--pair", "de-en"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    for text in TRICKY:
        assert result.output.count(text) == 2, text


def test_error_lines_print_paths_literally(tmp_path):
    odd = tmp_path / "in[/]put [bold]x"
    result = runner.invoke(app, ["build", str(odd), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output == f"error: {odd}: no such folder\n"
    result = runner.invoke(app, ["show", str(odd)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and result.output.startswith(f"error: {odd}: not a corpus build")


def test_show_lays_out_the_multiway_config_a_column_per_language(sample_build):
    text = show_text(sample_build, "multiway", limit=3, width=200)
    header = text.splitlines()[2]
    assert [cell.strip() for cell in header.split("│")] == ["ar", "hi", "sv", "score", "type"]
    assert text.startswith("multiway (3 rows shown)")
    swapped = show_text(sample_build, "sv-ar", limit=1, width=200).splitlines()[2]
    assert [cell.strip() for cell in swapped.split("│")][:2] == ["sv", "ar"]
