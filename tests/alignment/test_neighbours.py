"""FAISS nearest-neighbour search: exact and IVF agree on clustered document vectors."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.alignment.neighbours import nearest


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_exact_search_matches_brute_force():
    rng = np.random.default_rng(0)
    docs, queries = unit(rng.standard_normal((300, 32))), unit(rng.standard_normal((50, 32)))
    sims, idx = nearest(docs, queries, 5)
    expected = np.argsort(-(queries @ docs.T), axis=1)[:, :5]
    assert (idx == expected).all()
    assert np.allclose(sims, np.take_along_axis(queries @ docs.T, expected, 1), atol=1e-5)


def test_ivf_finds_the_true_nearest_neighbour_of_translations():
    rng = np.random.default_rng(1)
    topics = unit(rng.standard_normal((40, 64)))
    docs = unit(topics[rng.integers(0, 40, 8000)] + rng.standard_normal((8000, 64)) / 8)
    queries = unit(docs + rng.standard_normal(docs.shape) / 16)
    _, ivf = nearest(docs, queries, 3, exact=False)
    _, flat = nearest(docs, queries, 3, exact=True)
    assert np.mean(ivf[:, 0] == flat[:, 0]) >= 0.99
    assert np.mean(ivf[:, 0] == np.arange(8000)) >= 0.99  # each translation finds its source


def test_k_larger_than_the_index_and_empty_inputs():
    docs = unit(np.eye(3, 8))
    _, idx = nearest(docs, docs, 10)
    assert idx.shape == (3, 3) and (idx[:, 0] == np.arange(3)).all()
    assert nearest(docs, np.zeros((0, 8), np.float32), 2)[1].shape == (0, 2)
    with pytest.raises(ValueError, match="dimensions"):
        nearest(docs, np.zeros((1, 4), np.float32), 1)
