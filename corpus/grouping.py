"""Discover which files are renderings of the same article.

1. Candidates: each file's document vector (mean of its sentence embeddings,
   centred per language) is compared with the files of every other language, in
   row blocks, and the ``candidates`` nearest are kept. No sentence-level work is
   quadratic in the number of files.
2. Verification: a candidate pair is a translation when many of its sentences
   are mutual best matches (by margin, see ``translation_score``) that also
   keep their order. Related articles share names and topics, so they have
   some mutual best matches, but few of them form one monotone chain.
3. Assembly: verified pairs that are each other's best in the respective
   language are joined greedily, best first, never putting two files of one
   language into one article.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from corpus.embedding import normalise

MIN_TRANSLATION_SCORE = 0.5  # share of the shorter file in a monotone chain of mutual matches
# The same score within one language: two different articles share few ordered matches, a
# copy with small edits shares nearly all.
NEAR_DUPLICATE_SCORE = 0.9
# Share of the shorter text's word trigrams found in the other text. Short texts of one
# genre (psalms, briefs) match sentence by sentence in meaning without being copies.
NEAR_DUPLICATE_OVERLAP = 0.5
_TIE = 0.01  # margins this close to a sentence's best count as ties (good matches: 0.05-0.2)


@dataclass(frozen=True)
class ArticleFile:
    key: str  # stable identity of the file content (sha256)
    lang: str
    embeddings: np.ndarray  # (n_sentences, dim), unit rows
    text: str = ""  # the document text; near-duplicate checks compare it word by word


@dataclass(frozen=True)
class Link:
    a: int  # index into the files
    b: int
    score: float  # translation_score of the pair


@dataclass(frozen=True)
class Grouping:
    article_ids: list[str | None]  # per file; None when the file stays alone
    links: list[Link]  # the verified links that formed the articles


def _longest_increasing(values: Sequence[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    for v in values:
        k = int(np.searchsorted(tails, v))
        if k == len(tails):
            tails.append(v)
        else:
            tails[k] = v
    return len(tails)


def translation_score(a: np.ndarray, b: np.ndarray, k: int = 4) -> float:
    """Share of the shorter document's sentences in an ordered chain of mutual best matches.

    Matches are ranked by margin, cos(x, y) - (knn(x) + knn(y)) / 2, which removes
    the hubness of sentences that are close to everything. The share is taken of the
    shorter document, or of half the longer one where that is more: an abridged
    rendering still scores high, but a three-sentence text cannot "match" a long one on
    the same topic (on 1,500 Bible files, short psalms joined other chapters).
    """
    if len(a) == 0 or len(b) == 0:
        return 0.0
    sim = a @ b.T
    knn_a = np.sort(sim, axis=1)[:, ::-1][:, :k].mean(1)
    knn_b = np.sort(sim, axis=0)[::-1][:k].mean(0)
    margin = sim - (knn_a[:, None] + knn_b[None, :]) / 2
    # Mutual best matches, where "best" admits near ties: a verse or line repeated in a
    # document matches each repeat about equally, and a strict argmax picks one at random.
    tie = (margin >= margin.max(1, keepdims=True) - _TIE) & (
        margin >= margin.max(0, keepdims=True) - _TIE
    )
    rows, cols = np.nonzero(tie & (margin > 0))
    # Longest chain increasing in both: rows ascending, columns descending within a row.
    order = np.lexsort((-cols, rows))
    chain = _longest_increasing(cols[order].tolist())
    return chain / max(min(len(a), len(b)), max(len(a), len(b)) / 2)


def _candidates(doc: np.ndarray, left: np.ndarray, right: np.ndarray, k: int) -> set[tuple]:
    """Pairs (i, j), i from ``left`` and j from ``right``, where either is in the other's top k."""
    pairs: set[tuple[int, int]] = set()
    for rows, cols, flip in ((left, right, False), (right, left, True)):
        kk = min(k, len(cols))
        for start in range(0, len(rows), 1024):
            block = rows[start : start + 1024]
            sim = doc[block] @ doc[cols].T
            top = np.argpartition(-sim, kk - 1, axis=1)[:, :kk]
            for r, row_top in zip(block, top, strict=True):
                for c in cols[row_top]:
                    pairs.add((int(c), int(r)) if flip else (int(r), int(c)))
    return pairs


def _document_vectors(files: Sequence[ArticleFile]) -> np.ndarray:
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
    for members in _by_lang(files).values():
        doc[members] -= doc[members].mean(0)
    return normalise(doc)


def _by_lang(files: Sequence[ArticleFile]) -> dict[str, list[int]]:
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(files):
        by_lang[f.lang].append(i)
    return by_lang


def _overlap(a: str, b: str) -> float:
    """Share of the smaller set of word trigrams of ``a`` and ``b`` that both contain."""
    grams = []
    for text in (a, b):
        words = text.split()
        grams.append({tuple(words[k : k + 3]) for k in range(max(1, len(words) - 2))})
    small = min(len(g) for g in grams)
    return len(grams[0] & grams[1]) / small if small else 0.0


def near_duplicates(
    files: Sequence[ArticleFile],
    *,
    candidates: int = 5,
    min_score: float = NEAR_DUPLICATE_SCORE,
) -> list[Link]:
    """Same-language files that are copies of an earlier file with small edits.

    Returns links (a: the copy, b: the earlier file that is kept); the same candidate
    search and ``translation_score`` as for translations, applied within each language,
    and most word trigrams of the shorter text must recur in the other.
    """
    if not files:
        return []
    doc = _document_vectors(files)
    copies: list[Link] = []
    dropped: set[int] = set()
    for members in _by_lang(files).values():
        if len(members) < 2:
            continue
        idx = np.array(members)
        # Each file is its own nearest neighbour, hence one candidate more.
        pairs = {(min(i, j), max(i, j)) for i, j in _candidates(doc, idx, idx, candidates + 1)}
        for kept, copy in sorted(pairs):
            if kept == copy or kept in dropped or copy in dropped:
                continue
            score = translation_score(files[kept].embeddings, files[copy].embeddings)
            if score >= min_score and _overlap(files[kept].text, files[copy].text) >= (
                NEAR_DUPLICATE_OVERLAP
            ):
                copies.append(Link(copy, kept, score))
                dropped.add(copy)
    return copies


def group_articles(
    files: Sequence[ArticleFile],
    *,
    candidates: int = 10,
    min_score: float = MIN_TRANSLATION_SCORE,
) -> Grouping:
    """Assign an article id to every file that has a convincing translation."""
    if not files:
        return Grouping([], [])
    doc = _document_vectors(files)
    by_lang = _by_lang(files)
    links: list[Link] = []
    for la, lb in combinations(sorted(by_lang), 2):
        left, right = np.array(by_lang[la]), np.array(by_lang[lb])
        verified = [
            Link(i, j, translation_score(files[i].embeddings, files[j].embeddings))
            for i, j in sorted(_candidates(doc, left, right, candidates))
        ]
        verified = [link for link in verified if link.score >= min_score]
        # Keep a link only when each file is the other's best in that language.
        best: dict[int, Link] = {}
        for link in verified:
            for end in (link.a, link.b):
                if end not in best or link.score > best[end].score:
                    best[end] = link
        links += [link for link in verified if best[link.a] is link and best[link.b] is link]

    # Greedy union, best links first, at most one file per language in an article.
    parent = list(range(len(files)))
    langs: dict[int, set[str]] = {i: {f.lang} for i, f in enumerate(files)}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    used: list[Link] = []
    for link in sorted(links, key=lambda x: (-x.score, x.a, x.b)):
        ra, rb = root(link.a), root(link.b)
        if ra == rb:
            used.append(link)
        elif not langs[ra] & langs[rb]:
            parent[rb] = ra
            langs[ra] |= langs.pop(rb)
            used.append(link)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(files)):
        members[root(i)].append(i)
    article_ids: list[str | None] = [None] * len(files)
    for group in members.values():
        if len(group) < 2:
            continue
        # Named by content, so an article keeps its id when unrelated files change.
        digest = hashlib.sha256("\n".join(sorted(files[i].key for i in group)).encode())
        for i in group:
            article_ids[i] = digest.hexdigest()[:16]
    return Grouping(article_ids, used)
