"""End to end, through the CLI: inputs that are not what a folder of articles should hold
(issue 23; fixtures under tests/cases, right outcomes from shared/cases/README.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from corpus.cli import app
from corpus.reading import list_inputs

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
