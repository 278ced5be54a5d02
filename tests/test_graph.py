"""Tests for corpus.graph: the stage graph stated once, run by the engines, printed by
``corpus build --explain``."""

from contextlib import nullcontext

import pyarrow as pa
from typer.testing import CliRunner

from corpus import graph
from corpus.cli import app
from corpus.embedding.embed import EmbedOptions
from corpus.engines.embedded import EmbeddedEngine
from corpus.graph import FILE_STAGES, STAGES, FileSettings, Stage
from corpus.inputs.extraction import DEFAULT_FIELDS
from corpus.options import BuildOptions


def test_every_stage_resolves_and_the_file_stages_are_in_order():
    for stage in STAGES:
        assert callable(stage.load()), stage.name
    assert [s.name for s in FILE_STAGES] == ["read", "identify", "segment", "embed"]
    assert [s.name for s in STAGES if s.setup] == ["embed"]
    assert graph.ARTICLE_STAGE.load().__name__ == "align_articles"


def test_build_explain_prints_the_graph_without_an_input_folder():
    result = CliRunner().invoke(app, ["build", "--explain"])
    assert result.exit_code == 0
    assert result.output == graph.explain() + "\n"
    names = [line.split()[0] for line in result.output.splitlines() if not line.startswith(" ")]
    assert names == [s.name for s in STAGES]


def mark_files(batch: pa.Table, *, root: str) -> pa.Table:
    """A per-file stage for the test below: adds a column naming the folder."""
    return batch.append_column("marked", pa.array([root] * batch.num_rows))


def test_a_new_file_stage_is_one_entry_in_the_graph(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("Eine kurze Geschichte über den Hafen.\n", encoding="utf-8")
    read = next(s for s in FILE_STAGES if s.name == "read")
    mark = Stage("mark", "test_graph:mark_files", graph.ENGINE, "batch of files", "", "", ("root",))
    monkeypatch.setattr("corpus.engines.embedded.FILE_STAGES", (read, mark))
    settings = FileSettings(str(tmp_path), DEFAULT_FIELDS, True, None, EmbedOptions())
    timed: list[str] = []
    engine = EmbeddedEngine(BuildOptions(), lambda name: timed.append(name) or nullcontext())
    (table,) = engine.files([["a.txt"]], settings)
    assert table.column("marked").to_pylist() == [str(tmp_path)]
    assert table.column("path").to_pylist() == ["a.txt"]
    assert timed == ["load model", "read", "mark"]
