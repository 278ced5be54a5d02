"""Tests for corpus.pipeline's own share of the work (the build as a whole: test_cli)."""

import shutil

from conftest import SAMPLE
from test_cli import parquet_data
from typer.testing import CliRunner

from corpus.alignment import article_alignment
from corpus.alignment.article_alignment import fold_pair_probability
from corpus.cli import app
from corpus.options import BuildOptions
from corpus.pipeline import build
from corpus.records import Bead


def test_bead_scores_fold_in_the_probability_of_the_two_files():
    beads = {(0, 1): [Bead((0,), (0,), 0.97), Bead((1,), (), 0.0)]}
    folded = fold_pair_probability(beads, [3, 1], {(1, 3): 0.4})  # files 3 and 1
    assert [b.score for b in folded[(0, 1)]] == [0.97 * 0.4, 0.0]
    assert [(b.src, b.tgt) for b in folded[(0, 1)]] == [((0,), (0,)), ((1,), ())]


def test_a_batch_of_files_that_are_all_skipped_builds(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(SAMPLE, src)
    for name in ("zz1.png", "zz2.png"):  # together in the last batch of two
        (src / name).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    options = BuildOptions(progress=False, cache=False, files_per_batch=2)
    summary = build(src, tmp_path / "out", options)
    assert [s.path for s in summary.skipped] == ["zz1.png", "zz2.png"]
    assert summary.n_files == 5 and summary.pairs


def test_input_given_as_a_pyarrow_fs_uri_builds_the_same_corpus(sample_build, tmp_path):
    out = tmp_path / "out"
    cache = sample_build.parent / ".cache"
    args = ["build", SAMPLE.as_uri(), "--out", str(out), "--quiet", "--cache-dir", str(cache)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert parquet_data(out) == parquet_data(sample_build)
    missing = CliRunner().invoke(app, ["build", (tmp_path / "nope").as_uri(), "-q"])
    assert missing.exit_code == 1
    assert missing.output == f"error: {(tmp_path / 'nope').as_uri()}: input path is not a folder\n"


def test_a_rebuild_takes_every_alignment_from_the_store(tmp_path, monkeypatch):
    options = BuildOptions(progress=False, cache_dir=tmp_path / "cache")
    build(SAMPLE, tmp_path / "first", options)
    aligned = []
    real = article_alignment.align_articles  # the align stage, as the engine loads it
    monkeypatch.setattr(article_alignment, "align_articles", lambda t: aligned.append(t) or real(t))
    build(SAMPLE, tmp_path / "again", options)
    assert aligned == []  # the store's key is found from the files' facts alone
    assert parquet_data(tmp_path / "again") == parquet_data(tmp_path / "first")
    # A changed sentence changes the key: that article is aligned again.
    src = tmp_path / "in"
    shutil.copytree(SAMPLE, src)
    sv = next(src.glob("003_*"))
    sv.write_text(sv.read_text().replace("delegationen", "delegationen nu", 1))
    build(src, tmp_path / "changed", options)
    assert len(aligned) == 1


def test_the_progress_bar_names_each_stage_as_it_runs(sample_build, tmp_path, capfd):
    options = BuildOptions(cache_dir=sample_build.parent / ".cache")  # progress on, warm
    build(SAMPLE, tmp_path / "out", options)
    shown = capfd.readouterr().err.replace("\r", "\n")
    said = [line.split(":")[0] for line in shown.splitlines() if "file/s" in line]
    order = ["reading", "identifying languages", "segmenting", "embedding"]
    assert [s for s in dict.fromkeys(said) if s in order] == order, said
    assert "aligning" in shown
