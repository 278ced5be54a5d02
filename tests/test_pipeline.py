from types import SimpleNamespace

import numpy as np

from corpus.embedding import normalise
from corpus.pipeline import (
    MIN_ARTICLES_PER_WORKER,
    ArticleInput,
    _align_all,
    _fold_pair_probability,
    align_article,
)
from corpus.records import Bead


def article(seed: int) -> ArticleInput:
    """Three languages, 12 sentences each: noisy copies of the same meanings."""
    rng = np.random.default_rng(seed)
    meaning = rng.normal(size=(12, 32))
    embeddings = [
        normalise(meaning + 0.3 * rng.normal(size=meaning.shape)).astype(np.float32)
        for _ in range(3)
    ]
    return ArticleInput(["ar", "hi", "sv"], embeddings, [[40] * 12] * 3)


def test_align_article_aligns_every_language_pair():
    beads = align_article(article(0))
    assert sorted(beads) == [("ar", "hi"), ("ar", "sv"), ("hi", "sv")]
    for pair in beads.values():
        assert [(b.src, b.tgt) for b in pair] == [((k,), (k,)) for k in range(12)]


def test_worker_processes_return_the_serial_results_in_order():
    articles = [article(seed) for seed in range(2 * MIN_ARTICLES_PER_WORKER + 3)]
    parallel = list(_align_all(iter(articles), len(articles)))
    assert parallel == [align_article(a) for a in articles]


def test_bead_scores_fold_in_the_probability_of_the_two_files():
    ar, sv = (
        SimpleNamespace(doc=SimpleNamespace(path="x.txt")),
        SimpleNamespace(doc=SimpleNamespace(path="a.txt")),
    )
    beads = {("ar", "sv"): [Bead((0,), (0,), 0.97), Bead((1,), (), 0.0)]}
    folded = _fold_pair_probability(beads, {"ar": ar, "sv": sv}, {("a.txt", "x.txt"): 0.4})
    assert [b.score for b in folded[("ar", "sv")]] == [0.97 * 0.4, 0.0]
    assert [(b.src, b.tgt) for b in folded[("ar", "sv")]] == [((0,), (0,)), ((1,), ())]
