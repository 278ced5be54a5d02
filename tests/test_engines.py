"""Tests for corpus.engines: the embedded engine's parallel map, and the Ray Data engine
against the embedded one (Ray started locally once per session)."""

import logging
import shutil
import sys

import pytest
from conftest import SAMPLE
from test_cli import parquet_data
from test_stages import article
from typer.testing import CliRunner

from corpus.alignment.article_alignment import align_articles
from corpus.cli import app
from corpus.engines.embedded import MIN_ARTICLES_PER_WORKER, map_ordered
from corpus.options import BuildOptions
from corpus.pipeline import build


def test_worker_processes_return_the_serial_results_in_order():
    articles = [article(seed, f"a{seed}") for seed in range(2 * MIN_ARTICLES_PER_WORKER + 3)]
    parallel = list(map_ordered(align_articles, iter(articles), len(articles)))
    assert parallel == [align_articles(a) for a in articles]


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray for the session (starting it costs 5 to 10 s); builds find it running
    and leave it running."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


def test_ray_engine_writes_exactly_what_the_embedded_engine_writes(local_ray, tmp_path):
    """Cold builds (no cache: each engine embeds and aligns everything itself) of the sample
    plus what gets skipped (a binary file, an exact duplicate)."""
    src = tmp_path / "in"
    shutil.copytree(SAMPLE, src)
    (src / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    first = sorted(src.iterdir())[0]
    shutil.copy(first, src / f"copy-of-{first.name}")
    summaries = {}
    for engine in ("embedded", "ray"):
        options = BuildOptions(progress=False, cache=False, engine=engine)
        summaries[engine] = build(src, tmp_path / engine, options)
    embedded, ray = (parquet_data(tmp_path / engine) for engine in ("embedded", "ray"))
    assert ray == embedded  # same file names (their content hashes), same rows in order
    assert len([name for name in ray if name.startswith("data/")]) == 4
    assert summaries["ray"].skipped == summaries["embedded"].skipped
    assert [s.path for s in summaries["ray"].skipped] == ["copy-of-" + first.name, "logo.png"]
    assert summaries["ray"].engine == "ray" and local_ray.is_initialized()


def test_cli_builds_with_the_ray_engine(local_ray, sample_build, tmp_path):
    """From the embedding cache the sample build fills, as a rebuild on a cluster would."""
    out = tmp_path / "out"
    cache = sample_build.parent / ".cache"
    args = ["build", str(SAMPLE), "--out", str(out), "--quiet", "--engine", "ray"]
    result = CliRunner().invoke(app, [*args, "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    assert parquet_data(out) == parquet_data(sample_build)
    assert "- Engine: ray (Ray 2." in (out / "README.md").read_text()


def test_ray_engine_without_ray_installed_is_one_usage_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    args = ["build", str(SAMPLE), "--out", str(tmp_path / "out"), "--engine", "ray", "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output == "error: --engine ray needs Ray Data: pip install 'corpus[ray]'\n"
    assert not (tmp_path / "out").exists()
