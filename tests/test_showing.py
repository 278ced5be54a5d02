"""`corpus show`: text is shown literally, whatever brackets it holds."""

import pyarrow as pa
from typer.testing import CliRunner

from corpus.cli import app
from corpus.writing import bead_schema, write_config

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
