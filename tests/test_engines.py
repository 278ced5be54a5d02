"""Tests for corpus.engines: the embedded runner's parallel map."""

from test_stages import article

from corpus.engines.embedded import MIN_ARTICLES_PER_WORKER, map_ordered
from corpus.stages import align_articles


def test_worker_processes_return_the_serial_results_in_order():
    articles = [article(seed, f"a{seed}") for seed in range(2 * MIN_ARTICLES_PER_WORKER + 3)]
    parallel = list(map_ordered(align_articles, iter(articles), len(articles)))
    assert parallel == [align_articles(a) for a in articles]
