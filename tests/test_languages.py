"""End to end, through the CLI: languages and scripts that rules written for space-separated
words and a fixed punctuation list lost (fixtures under tests/cases, right outcomes from
shared/cases/README.md)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.cli import app

CASES = Path(__file__).parent / "cases"


def build(case: str, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(
        app, ["build", str(CASES / case), "--out", str(out), "--quiet", "--no-cache", *extra]
    )
    assert result.exit_code == 0, result.output
    return out


def rows(out: Path, pair: str) -> list[dict]:
    return pq.read_table(out / "data" / pair).to_pylist()


def beads(src: Path, tgt: Path) -> list[str]:
    result = CliRunner().invoke(app, ["align", str(src), str(tgt), "--quiet"])
    assert result.exit_code == 0, result.output
    return result.stdout.split()


def test_chinese_and_japanese_keep_every_row(tmp_path):
    out = build("cjk", tmp_path / "cjk")
    for pair in ("en-ja", "en-zh_Hans", "ja-zh_Hans"):
        kept = rows(out, pair)
        assert len(kept) == 8, pair
        assert all(r["align_type"] == "1-1" for r in kept)
    # The title has no final punctuation but is a sentence in every language.
    titles = {r["translation"]["en"] for r in rows(out, "en-zh_Hans")}
    assert "City Council Approves New Library Budget" in titles
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "en-zh_Hans rows removed: none; length ratio [" in card


def test_urdu_short_sentences_are_kept_like_hindi(tmp_path):
    out = build("urdu", tmp_path / "urdu")
    for pair in ("en-hi", "en-ur", "hi-ur"):
        assert len(rows(out, pair)) == 8, pair
    urdu = {r["translation"]["ur"] for r in rows(out, "en-ur")}
    assert {"امدادی کام جاری ہے۔", "سڑکیں بند ہیں۔"} <= urdu


def test_thai_sentences_without_punctuation(tmp_path):
    th, en = CASES / "thai" / "b_th.txt", CASES / "thai" / "a_en.txt"
    aligned = beads(th, en)
    assert [b.rsplit(":", 1)[0] for b in aligned] == [f"[{k}]:[{k}]" for k in range(7)]
    out = build("thai", tmp_path / "thai")
    kept = rows(out, "en-th")
    assert len(kept) == 7 and all(r["align_type"] == "1-1" for r in kept)
    assert kept[-1]["translation"]["th"] == "ชาวนากลัวว่าผลผลิตข้าวจะเสียหาย"


def test_close_languages_keep_their_pairs(tmp_path):
    out = build("close-languages", tmp_path / "close")
    langs = {r["path"]: r["lang"] for r in pq.read_table(out / "articles.parquet").to_pylist()}
    # Bokmål is identified as Bokmål (nb), not Danish or the macrolanguage "no".
    assert langs == {"a_sv.txt": "sv", "b_no.txt": "nb", "c_da.txt": "da"}
    for pair in ("da-nb", "da-sv", "nb-sv"):
        assert len(rows(out, pair)) == 6, pair
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "da-nb rows removed: none; length ratio" in card
    assert "sentence-level language identification not used" in card


@pytest.mark.parametrize(("src", "tgt"), [("fa.txt", "fa_en.txt"), ("hi.txt", "hi_en.txt")])
def test_section_numbers_and_honorifics_do_not_end_sentences(src, tgt):
    aligned = beads(CASES / "oversplit" / src, CASES / "oversplit" / tgt)
    assert [b.rsplit(":", 1)[0] for b in aligned] == [f"[{k}]:[{k}]" for k in range(4)]
