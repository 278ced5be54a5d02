"""Shared fixtures: the bundled sample corpus, embedded once, and one CLI build of it."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.embedding.encoder import Encoder, load_encoder
from corpus.inputs.reading import read_inputs
from corpus.text.langid import identify
from corpus.text.segmentation import Sentence, segment

# Tests never reach a model hub: everything they load ships in an installed package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# A private datasets cache: a shared one can return rows cached from another build at the same path.
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="corpus-tests-hf-"))

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "news"
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"


@dataclass
class SampleFile:
    path: str
    lang: str
    sentences: list[Sentence]
    embeddings: np.ndarray


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return load_encoder()


@pytest.fixture(scope="session")
def sample_files(encoder: Encoder) -> dict[str, SampleFile]:
    """The sample articles keyed by their three-digit prefix ("000" .. "004")."""
    files = {}
    for doc in read_inputs(SAMPLE).documents:
        lang = identify(doc.text, doc.paragraphs).lang
        sentences = segment(doc.text, lang, doc.paragraphs)
        emb = encoder.encode([s.text for s in sentences])
        files[doc.path[:3]] = SampleFile(doc.path, lang, sentences, emb)
    return files


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample corpus built once through the CLI."""
    out = tmp_path_factory.mktemp("build") / "sample"
    result = CliRunner().invoke(app, ["build", str(SAMPLE), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out
