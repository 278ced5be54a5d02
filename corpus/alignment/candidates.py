"""Candidate pairs for document alignment: which files of other languages each file is
compared with.

Each file's document vector (mean of its sentence embeddings, centred per language) is
compared with the files of every other language, in row blocks, and the nearest are kept
(``neighbours.nearest``, FAISS); beside them, the files its sentences vote for
(``sentence_candidates``: each sentence's nearest sentences of the other language). No work
is quadratic in the number of files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from corpus.alignment.neighbours import nearest
from corpus.embedding.backend import normalise
from corpus.records import ArticleFile

# Candidates from sentences (``sentence_candidates``): each sentence's SENTENCE_NEIGHBOURS
# nearest sentences of the other language vote for their files, and each file keeps its
# VOTED_CANDIDATES best-voted files. On a real crawl (Army, 6,019 articles, weak e5 vectors
# for Sinhala and Tamil) document vectors alone missed 6-13% of the gold pairs at 10
# neighbours (and 4-9% at 20); with the votes 1-2% (scripts/bench_crawl.py).
SENTENCE_NEIGHBOURS = 8
VOTED_CANDIDATES = 5


def vector_candidates(doc: np.ndarray, left: np.ndarray, right: np.ndarray, k: int) -> set[tuple]:
    """Pairs (i, j), i from ``left`` and j from ``right``, where either is among the other's
    ``k`` nearest by document vector (``neighbours.nearest``: exact up to 20,000 files of a
    language, an inverted-file index above, so the search stays near-linear)."""
    pairs: set[tuple[int, int]] = set()
    for rows, cols, flip in ((left, right, False), (right, left, True)):
        _, top = nearest(doc[cols], doc[rows], k)
        for r, row_top in zip(rows, top, strict=True):
            for c in cols[row_top[row_top >= 0]]:
                pairs.add((int(c), int(r)) if flip else (int(r), int(c)))
    return pairs


def sentence_candidates(
    files: Sequence[ArticleFile], left: np.ndarray, right: np.ndarray
) -> set[tuple[int, int]]:
    """Pairs (i, j), i from ``left`` and j from ``right``, voted for by their sentences.

    Every sentence of either side looks up its ``SENTENCE_NEIGHBOURS`` nearest sentences
    of the other (``neighbours.nearest``); a hit votes for the two files with its margin,
    cos(x, y) - (knn(x) + knn(y)) / 2 (Artetxe and Schwenk 2019: hub sentences, close to
    everything, vote for nothing), when positive. Each file keeps its ``VOTED_CANDIDATES``
    best-voted partners. A rewritten headline or an added paragraph moves a file's mean
    vector but leaves most of its sentences' nearest neighbours in the translation.
    """
    pools = []
    for members in (left, right):
        sizes = [len(files[i].embeddings) for i in members]
        if not sum(sizes):
            return set()
        pools.append(
            (
                np.concatenate([files[i].embeddings for i in members]).astype(np.float32),
                np.repeat(members, sizes),
            )
        )
    (emb_a, owner_a), (emb_b, owner_b) = pools
    cos_ab, hit_ab = nearest(emb_b, emb_a, min(SENTENCE_NEIGHBOURS, len(emb_b)))
    cos_ba, hit_ba = nearest(emb_a, emb_b, min(SENTENCE_NEIGHBOURS, len(emb_a)))
    knn_a, knn_b = cos_ab.mean(1), cos_ba.mean(1)
    votes: dict[tuple[int, int], float] = defaultdict(float)
    for cos, hit, knn_q, knn_t, owner_q, owner_t, flip in (
        (cos_ab, hit_ab, knn_a, knn_b, owner_a, owner_b, False),
        (cos_ba, hit_ba, knn_b, knn_a, owner_b, owner_a, True),
    ):
        rows, cols = np.nonzero(hit >= 0)
        margin = cos[rows, cols] - (knn_q[rows] + knn_t[hit[rows, cols]]) / 2
        keep = margin > 0
        for q, t, m in zip(
            owner_q[rows[keep]], owner_t[hit[rows, cols][keep]], margin[keep], strict=True
        ):
            votes[(int(t), int(q)) if flip else (int(q), int(t))] += float(m)
    ranked: dict[int, list[tuple[float, tuple[int, int]]]] = defaultdict(list)
    for pair, v in votes.items():
        for end in pair:
            ranked[end].append((v, pair))
    return {pair for found in ranked.values() for _, pair in sorted(found)[-VOTED_CANDIDATES:]}


def document_vectors(files: Sequence[ArticleFile]) -> np.ndarray:
    """Each file's mean sentence embedding, centred on its language's mean, as unit rows.

    Raw means share a large per-language component, and how a file's topic happens to lean
    toward the other language's component decides its rank more than what it says: on 1,500
    Bible files (300 chapters x 5 languages), a file's translation was the other language's
    nearest file for 58% of the 6,000 file-language pairs and not among the 10 nearest for
    856; centred, 96% and 19. A language of one file centres to zero, which is harmless:
    candidates take every file of a language that has at most ``candidates`` files.
    """
    doc = normalise(
        np.stack(
            [
                f.embeddings.mean(0) if len(f.embeddings) else np.zeros(f.embeddings.shape[1])
                for f in files
            ]
        ).astype(np.float32)
    )
    for members in files_by_lang(files).values():
        doc[members] -= doc[members].mean(0)
    return normalise(doc)


def files_by_lang(files: Sequence[ArticleFile]) -> dict[str, list[int]]:
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(files):
        by_lang[f.lang].append(i)
    return by_lang
