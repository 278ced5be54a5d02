"""Tests for corpus.outputs.contamination: rows of a build that hold a test set's sentence."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.errors import UsageError
from corpus.outputs.contamination import EvalSet, read_test_set

SENTENCE = "The committee will publish its report on Thursday morning."


def test_copies_match_whole_and_with_one_word_changed():
    test_set = EvalSet("t", [SENTENCE, "He is free.", "Jesus wept."])
    for copy in (
        SENTENCE,
        "the committee will publish its report on thursday morning",  # punctuation, case
        "The committee will publish its report on Friday morning.",  # one word replaced
        "The committee will publish its report on Thursday.",  # one word left out
        "The committee will now publish its report on Thursday morning.",  # one added
        "The committee will publish its report on Thursday morning 12.",  # a number added
    ):
        assert test_set.match(copy) == 0, copy
    assert test_set.match("he is FREE") == 1  # a short sentence, whole
    assert test_set.match("He is not free.") is None  # short ones only match whole
    assert test_set.match("The committee will publish its budget next Thursday.") is None
    assert test_set.match("An unrelated line about the weather in Lund.") is None
    assert test_set.match("ok") is None


def test_test_sets_are_read_from_text_tsv_jsonl_and_parquet(tmp_path):
    (tmp_path / "t.txt").write_text(f"{SENTENCE}\n\nHe is free.\n", encoding="utf-8")
    (tmp_path / "t.tsv").write_text(f"id\ttext\n1\t{SENTENCE}\n", encoding="utf-8")
    (tmp_path / "t.jsonl").write_text(json.dumps({"id": 1, "text": SENTENCE}) + "\n")
    pq.write_table(pa.table({"id": [1], "sentence": [SENTENCE]}), tmp_path / "t.parquet")
    assert read_test_set(tmp_path / "t.txt").sentences == [SENTENCE, "He is free."]
    for name in ("t.tsv", "t.jsonl", "t.parquet"):
        assert read_test_set(tmp_path / name).sentences == [SENTENCE], name
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(UsageError, match="no sentences"):
        read_test_set(tmp_path / "empty.txt")
    with pytest.raises(UsageError, match="cannot read"):
        read_test_set(tmp_path / "missing.txt")


@pytest.mark.slow
def test_check_finds_the_rows_holding_a_test_sentence(sample_build, tmp_path):
    rows = pq.read_table(sample_build / "data" / "ar-sv").to_pylist()
    swedish = [r["translation"]["sv"] for r in rows[:5]]
    changed = [s.upper().replace(".", "") for s in swedish]  # case and punctuation
    (tmp_path / "test.sv").write_text("\n".join([*changed, "En rad som inte finns."]) + "\n")
    result = CliRunner().invoke(
        app, ["check", str(sample_build), "--against", str(tmp_path / "test.sv")]
    )
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert line.startswith("test.sv: 5 of 6 sentences in the build"), line
    assert "ar-sv 5" in line and "hi-sv 5" in line and "ar-hi" not in line


@pytest.mark.slow
def test_remove_rewrites_the_build_without_the_rows_and_records_it(sample_build, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(sample_build, out)
    before = {n: pq.read_table(out / "data" / n).num_rows for n in ("ar-sv", "hi-sv", "ar-hi")}
    swedish = [r["translation"]["sv"] for r in pq.read_table(out / "data" / "ar-sv").to_pylist()]
    (tmp_path / "t.txt").write_text("\n".join(swedish[:3]) + "\n")
    args = ["check", str(out), "--against", str(tmp_path / "t.txt")]
    removed = CliRunner().invoke(app, [*args, "--remove"])
    assert removed.exit_code == 0, removed.output
    assert "rows holding one (removed): ar-sv 3, hi-sv 3, multiway 3" in removed.output
    after = {n: pq.read_table(out / "data" / n).num_rows for n in before}
    assert after == {
        "ar-sv": before["ar-sv"] - 3,
        "hi-sv": before["hi-sv"] - 3,
        "ar-hi": before["ar-hi"],
    }
    card = (out / "README.md").read_text()
    assert (
        "## Test-set overlap" in card
        and "| t.txt | 3 of 3 | ar-sv 3, hi-sv 3, multiway 3 |" in card
    )
    again = CliRunner().invoke(app, args)
    assert "0 of 3 sentences in the build" in again.output
    from datasets import load_dataset

    rows = load_dataset(str(out), "ar-sv", split="train", cache_dir=str(tmp_path / "hf"))
    assert rows.num_rows == after["ar-sv"]
