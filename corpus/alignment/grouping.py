"""Discover which files are renderings of the same article.

1. Candidates: each file's document vector (mean of its sentence embeddings,
   centred per language) is compared with the files of every other language, in
   row blocks, and the ``candidates`` nearest are kept; beside them, the files its
   sentences vote for (``_sentence_candidates``: each sentence's nearest sentences of
   the other language). No work is quadratic in the number of files.
2. Decision: ``pair_evidence`` turns what two files share
   (an ordered chain of mutual best sentence matches, that chain against the same
   two files with one side shuffled, how far the matched sentences stand above a
   null distribution of unrelated sentence pairs of the same two languages, length
   consistency, shared numbers and URLs) into a calibrated probability that they
   translate each other. A pair of at least 0.5 that is each file's most probable is
   linked. Below 0.5 (a model weak in the language), a pair is linked only when it wins a
   competition its numbers confirm (``_competition``): each file's clear best by
   BiMax and agreement of numbers, with more than half its numbers shared. Two unrelated
   files of one genre, or two stories of one event with other figures, stay apart.
3. Assembly: accepted pairs that are each other's best in the respective
   language are joined greedily, most probable first, never putting two files of
   one language into one article; the other candidates only decide among these.
   Two groups that share a language merge only when the links between them outnumber
   the files pushed out (``_assemble``), so one document with two files of one code
   stays whole; a file pushed out that translates the article is reported as its
   variant (``_variants``), not as a file without translation.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations, pairwise

import numpy as np
import regex
from threadpoolctl import threadpool_limits

from corpus.alignment.neighbours import nearest
from corpus.embedding.encoder import normalise

# A pair is linked when its calibrated probability of being a translation reaches this.
MIN_PAIR_PROBABILITY = 0.5
# The same chain score within one language: two different articles share few ordered
# matches, a copy with small edits shares nearly all.
NEAR_DUPLICATE_SCORE = 0.9
# Share of the shorter text's word trigrams found in the other text. Short texts of one
# genre (psalms, briefs) match sentence by sentence in meaning without being copies.
NEAR_DUPLICATE_OVERLAP = 0.5
# A damaged copy (words shuffled, letters noised by a machine) holds the other file's words,
# spelling slips of one letter included, but few of its word pairs (``word_overlap``). On
# ntrex-world's close languages (bs/hr/sr-Latn, da/nb/nn, id/ms) a text holding 80% or more
# of its twin's words shares at least 35% of its word pairs (20% from 70%); the shuffled
# copy of the damaged-copies case holds 90% and shares 8%, sentences of a dozen words
# shuffled at random share 10-16% by chance.
DAMAGED_WORD_SHARE = 0.8
DAMAGED_PAIR_SHARE = 0.2
_TIE = 0.01  # margins this close to a sentence's best count as ties (good matches: 0.05-0.2)
# A null distribution needs this many unrelated sentence pairs; below it the pooled
# cross-language null of the folder is used, and without that the pair cannot be judged.
MIN_NULL_CELLS = 12
# Below this many, a folder null is mostly the pair's own cells (see ``pair_probability``);
# the pair's cells outside its chain then stand in when there are at least MIN_OWN_CELLS.
SMALL_NULL_CELLS = 48
MIN_OWN_CELLS = 6
_NULL_SAMPLE = 4000  # sentence pairs drawn per language pair for its null distribution
_SHUFFLES = 8  # column permutations that give a pair its own chance-level chain length
STRONG_Z = 3.0  # a match this many null scales above the null centre counts as confident
# Candidates from sentences (``_sentence_candidates``): each sentence's SENTENCE_NEIGHBOURS
# nearest sentences of the other language vote for their files, and each file keeps its
# VOTED_CANDIDATES best-voted files. On a real crawl (Army, 6,019 articles, weak e5 vectors
# for Sinhala and Tamil) document vectors alone missed 6-13% of the gold pairs at 10
# neighbours (and 4-9% at 20); with the votes 1-2% (scripts/bench_crawl.py).
SENTENCE_NEIGHBOURS = 8
VOTED_CANDIDATES = 5
# Competition (``_competition``): a pair's key is its BiMax plus agreement of numbers, the
# numbers weighing ANCHOR_WEIGHT robust scales of BiMax over the language pair's candidates.
# Each file keeps its best-keyed accepted pair; a pair whose absolute evidence is weak is
# accepted when its key stands at least STANDOUT robust scales above each file's runner-up
# and its numbers agree. Chosen on Army alone and checked on Hiru (scripts/bench_crawl.py;
# pair level, before assembly): Army recall 0.764/0.629/0.615 -> 0.938/0.872/0.865 (en-si,
# en-ta, si-ta), precision 0.993/0.977/0.956 -> 0.995/0.986/0.983; Hiru precision
# 0.887/0.697/0.784 -> 0.975/0.941/0.952 at the same recall; documents whose partners were
# removed still paired: Army 12 -> 8, Hiru 21 -> 7 of 100.
STANDOUT = 1.0
ANCHOR_WEIGHT = 4.0
# The probability given to a pair linked by competition: the precision of those links alone
# on Army (1,126 of 1,139 judged links right, 0.989), rounded down. Bead scores fold it in.
COMPETITION_PROBABILITY = 0.98
# Two groups that hold files of the same languages merge when at least this share of the
# pairs between them are translations (``_assemble``): one document split by shared codes.
WHOLE_SHARE = 0.8
# A file left alone is an article's variant only where the article's files rank it as a
# rendering (``_ranked_below``): by competition key, at least this many robust scales above
# their other candidates, and no lower than this share of the way down from the first
# rendering to them. ntrex-world's 113 variants (Bosnian, Croatian and Serbian files of one
# article sharing a code, with the English one) stand 2.3 to 87 scales up and at most 0.59
# of the way down; 192 of Hiru's 238 would-be variants that its gold lists call wrong
# (stories of the same event) fall under one or the other.
VARIANT_STANDOUT = 2.0
VARIANT_SHARE = 2 / 3

# Two logistic regressions of "these two files translate each other" on ``pair_features``,
# one for files of more than SHORT_SENTENCES sentences each, one for a pair with a shorter
# file (there the chain is too short to say much and the null distribution carries the
# decision). Each is fitted on its own examples by ``scripts/bench_grouping.py --fit``
# (numpy IRLS, L2 1e-3; each source and label weighted like the NTREX positives) on the fit
# half of: NTREX-world article pairs in the 46 languages the model covers, with the 3
# nearest other articles of each side as negatives; 300 Bible chapters (4 language pairs
# each) with the 3 nearest and the neighbouring chapters as negatives; Text+Berg de-fr
# documents and each other; one- to three-sentence NTREX pieces against their translation,
# the next piece and another article; our comparable stories (tests/data/comparable).
# Bundled e5-small (bf16), issue 13's segmentation. One model for both sizes traded the
# Bible's long chapters against the short pieces. On the held-out half (probability >= 0.5):
# NTREX precision 1.0 / recall 1.0 (360 positives, 2,160 negatives), Bible 1.0 / 0.988
# (600, 5,557), short pieces 0.900 / 0.976, Text+Berg 1 / 1, no false positive among 12
# comparable and 675 unrelated story pairs (scripts/bench_grouping.py --decision-only --fit
# --bible-chapters 300). Order: bias, then the features in ``FEATURES`` order.
FEATURES = (
    "share", "excess", "z_mean", "strong", "len_gap", "anchors", "short",
)  # fmt: skip
SHORT_SENTENCES = 3
DECISION_WEIGHTS = (-21.26, 10.46, 25.19, 1.178, 8.937, 4.228, 3.297, -25.78)
SHORT_DECISION_WEIGHTS = (-16.22, 13.61, -0.1529, 2.413, 0.1293, -22.32, 1.394, -3.331)


@dataclass(frozen=True)
class ArticleFile:
    key: str  # stable identity of the file content (sha256)
    lang: str
    embeddings: np.ndarray  # (n_sentences, dim), unit rows
    text: str = ""  # the document text: near-duplicate checks and shared numbers/URLs
    lengths: np.ndarray | None = None  # characters per sentence; None: length evidence unused
    name: str = ""  # how reasons name the file (its path)
    mixed: bool = False  # paragraphs in more than one language (langid)
    sentences: tuple[str, ...] = ()  # sentence texts; near-duplicate checks set boilerplate apart


@dataclass(frozen=True)
class Link:
    a: int  # index into the files
    b: int
    score: float  # translation_score (near duplicates) or pair probability (translations)
    damage: str | None = None  # near duplicates: why ``a`` is a damaged copy of ``b``


@dataclass(frozen=True)
class Grouping:
    article_ids: list[str | None]  # per file; None when the file stays alone
    links: list[Link]  # the accepted links that formed the articles
    article_scores: list[float | None]  # per grouped file: probability it belongs there
    alone_reasons: list[str | None]  # per file left alone: why
    # Probability of every two files of one article (a < b), and of each variant with the
    # files of its article in other languages: bead scores fold it in.
    pair_probabilities: dict[tuple[int, int], float] = field(default_factory=dict)
    # Files left alone that are a second rendering of an article in a language code it
    # already holds (``_variants``): file index -> that article's id. To be aligned with the
    # article's files of other languages; their pairs share the article's config names.
    variants: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SentenceNull:
    """Cosines of unrelated sentence pairs of one language pair: median and robust scale.

    The scale is 1.4826 times the median absolute deviation, which stays that of the
    unrelated pairs while translations are a minority of the sample (a few per cent in
    any folder of several articles). e5 cosines are compressed (about 0.8 for unrelated
    text), so matches are judged by how many null scales they stand above this centre,
    never by their raw value.
    """

    centre: float
    scale: float
    cells: int  # sentence pairs it was estimated from


def sentence_null(pool_a: np.ndarray, pool_b: np.ndarray, seed: int = 0) -> SentenceNull | None:
    """Null distribution of cosines between rows of ``pool_a`` (n, dim) and ``pool_b``
    (m, dim), from every pair when there are at most ``_NULL_SAMPLE``, else a random
    sample of that many; None below ``MIN_NULL_CELLS`` pairs."""
    n, m = len(pool_a), len(pool_b)
    if n * m <= _NULL_SAMPLE:
        cos = (pool_a @ pool_b.T).ravel()
    else:
        rng = np.random.default_rng(seed)
        i, j = rng.integers(0, n, _NULL_SAMPLE), rng.integers(0, m, _NULL_SAMPLE)
        cos = np.einsum("kd,kd->k", pool_a[i], pool_b[j])
    return _robust_null(cos)


def _robust_null(cos: np.ndarray) -> SentenceNull | None:
    """Median and 1.4826 * MAD of the cosines; None below ``MIN_NULL_CELLS`` of them."""
    if len(cos) < MIN_NULL_CELLS:
        return None
    return SentenceNull(float(np.median(cos)), _robust_scale(cos), len(cos))


def _sentence_pool(files: Sequence[ArticleFile], members: list[int]) -> np.ndarray:
    """The sentence embeddings of these files, or ``_NULL_SAMPLE`` of them drawn at random
    (a whole corpus is not copied to estimate a distribution)."""
    sizes = np.array([len(files[i].embeddings) for i in members])
    if sizes.sum() <= _NULL_SAMPLE:
        return np.concatenate([files[i].embeddings for i in members]).astype(np.float32)
    picks = np.sort(np.random.default_rng(int(sizes.sum())).integers(0, sizes.sum(), _NULL_SAMPLE))
    owner = np.searchsorted(np.cumsum(sizes), picks, side="right")
    rows = picks - np.concatenate([[0], np.cumsum(sizes)])[owner]
    return np.stack([files[members[o]].embeddings[r] for o, r in zip(owner, rows, strict=True)])


def language_nulls(files: Sequence[ArticleFile]) -> dict[tuple[str, str], SentenceNull | None]:
    """A ``SentenceNull`` per sorted language pair of ``files``, from all their sentences.

    Where a language pair has too few sentence pairs (two one-sentence files), the null of
    all cross-language sentence pairs of the folder stands in; None where that is too
    small as well.
    """
    by_lang = _by_lang(files)
    pools = {lang: _sentence_pool(files, members) for lang, members in by_lang.items()}
    nulls: dict[tuple[str, str], SentenceNull | None] = {}
    for k, (la, lb) in enumerate(combinations(sorted(by_lang), 2)):
        nulls[(la, lb)] = sentence_null(pools[la], pools[lb], seed=k)
    if any(v is None for v in nulls.values()):
        # Pooled: sentences against sentences of another language, all languages together.
        langs = sorted(pools)
        pooled = np.concatenate([pools[lang] for lang in langs])
        owner = np.repeat(np.arange(len(langs)), [len(pools[lang]) for lang in langs])
        if len(pooled) ** 2 <= 4 * _NULL_SAMPLE:
            i, j = np.nonzero(owner[:, None] != owner[None, :])
        else:
            rng = np.random.default_rng(len(pooled))
            i, j = rng.integers(0, len(pooled), (2, 4 * _NULL_SAMPLE))
            keep = owner[i] != owner[j]
            i, j = i[keep], j[keep]
        fallback = _robust_null(np.einsum("kd,kd->k", pooled[i], pooled[j]))
        nulls = {key: value or fallback for key, value in nulls.items()}
    return nulls


def _increasing_chain(values: Sequence[int]) -> list[int]:
    """Positions of a longest strictly increasing subsequence of ``values`` (patience
    sorting with back pointers)."""
    tails: list[int] = []  # value at the end of the best chain of each length
    ends: list[int] = []  # its position
    back = [-1] * len(values)
    for pos, v in enumerate(values):
        k = bisect_left(tails, v)
        back[pos] = ends[k - 1] if k else -1
        if k == len(tails):
            tails.append(v)
            ends.append(pos)
        else:
            tails[k], ends[k] = v, pos
    chain, pos = [], ends[-1] if ends else -1
    while pos >= 0:
        chain.append(pos)
        pos = back[pos]
    return chain[::-1]


def _mutual_matches(sim: np.ndarray, k: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells (rows, cols, margins) of ``sim`` that are mutual best matches by margin, near
    ties kept.

    The margin, cos(x, y) - (knn(x) + knn(y)) / 2, removes the hubness of sentences that
    are close to everything; a verse or line repeated in a document matches each repeat
    about equally, and a strict argmax would pick one at random.
    """
    ka, kb = min(k, sim.shape[1]), min(k, sim.shape[0])
    knn_a = np.sort(sim, axis=1)[:, ::-1][:, :ka].mean(1)
    knn_b = np.sort(sim, axis=0)[::-1][:kb].mean(0)
    margin = sim - (knn_a[:, None] + knn_b[None, :]) / 2
    tie = (margin >= margin.max(1, keepdims=True) - _TIE) & (
        margin >= margin.max(0, keepdims=True) - _TIE
    )
    rows, cols = np.nonzero(tie)
    return rows, cols, margin[rows, cols]


def _chain_cells(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Indices into (rows, cols) of a longest chain increasing in both."""
    # Rows ascending, columns descending within a row: at most one cell per row.
    order = np.lexsort((-cols, rows))
    return order[_increasing_chain(cols[order].tolist())]


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)


@lru_cache(maxsize=1 << 16)
def anchors(text: str) -> frozenset[str]:
    """Numbers (any script's decimal digits, read as ASCII, separators dropped) and URLs or
    e-mail addresses of a text: what translators copy rather than translate. Cached: each
    file is judged against tens of candidates, and this scan was most of that cost on a
    6,000-article crawl."""
    found = {
        "".join(str(unicodedata.digit(c, c)) if c.isdigit() else "" for c in m)
        for m in _NUMBER.findall(text)
    }
    found = {n.lstrip("0") or "0" for n in found if n}
    return frozenset(found | {u.rstrip(".,;:)").lower() for u in _URL.findall(text)})


def _anchor_agreement(a: str, b: str) -> float:
    """2 * Jaccard(anchors) - 1 in [-1, 1]; 0 (no evidence) with fewer than two anchors or
    none on one side (the CJK case: "twelve million" against "1200万" scored -1)."""
    x, y = anchors(a), anchors(b)
    union = len(x | y)
    # Numbers on one side only are no evidence: the other may spell them out in words.
    return 2 * len(x & y) / union - 1 if union >= 2 and x and y else 0.0


def pair_features(a: ArticleFile, b: ArticleFile, null: SentenceNull) -> np.ndarray:
    """Evidence that ``a`` and ``b`` translate each other, from the pair alone (``FEATURES``).

    - share: sentences in an ordered chain of mutual best matches, of the shorter side
      (or half the longer, so a short text cannot "match" a long one on its topic);
    - excess: the same minus the chain the same two files give with one side's
      sentence order shuffled (``_SHUFFLES`` permutations): the pair's own chance level;
    - z_mean: mean of (cos - null centre) / null scale over the chain, the null being
      unrelated sentence pairs of these two languages (``SentenceNull``); for one- to
      three-sentence files this carries the decision;
    - strong: share (same denominator) of chain matches at least ``STRONG_Z`` above the null;
    - len_gap: |log of the documents' length ratio - median log ratio along the chain|;
    - anchors: agreement of numbers and URLs (``_anchor_agreement``);
    - short: 1 / sentences of the shorter side.
    """
    n, m = len(a.embeddings), len(b.embeddings)
    sim = a.embeddings @ b.embeddings.T
    rows, cols, _ = _mutual_matches(sim)
    chain = _chain_cells(rows, cols)
    denom = max(min(n, m), max(n, m) / 2)
    rng = np.random.default_rng([n, m])
    shuffled = [len(_chain_cells(rows, rng.permutation(m)[cols])) for _ in range(_SHUFFLES)]
    r, c = rows[chain], cols[chain]
    z = np.clip((sim[r, c] - null.centre) / null.scale, -5.0, 20.0)
    gap = 0.0
    if a.lengths is not None and b.lengths is not None:
        ratios = np.log(np.maximum(a.lengths[r], 1) / np.maximum(b.lengths[c], 1))
        total = np.log(max(a.lengths.sum(), 1) / max(b.lengths.sum(), 1))
        gap = float(abs(total - np.median(ratios)))
    return np.array(
        [
            len(chain) / denom,
            (len(chain) - float(np.mean(shuffled))) / denom,
            float(z.mean()),
            float((z >= STRONG_Z).sum()) / denom,
            gap,
            _anchor_agreement(a.text, b.text),
            1.0 / min(n, m),
        ]
    )


def is_short(features: np.ndarray) -> np.ndarray:
    """For feature rows (..., len(FEATURES)): True where a file has at most
    ``SHORT_SENTENCES`` sentences (the ``short`` feature is 1 / the shorter side's count)."""
    return features[..., FEATURES.index("short")] * SHORT_SENTENCES >= 1 - 1e-9


def decision_probability(features: np.ndarray) -> np.ndarray:
    """P(translation) for feature rows (..., len(FEATURES)): ``SHORT_DECISION_WEIGHTS`` where
    a file is short (``is_short``), ``DECISION_WEIGHTS`` elsewhere."""
    w = np.where(
        is_short(features)[..., None],
        np.asarray(SHORT_DECISION_WEIGHTS),
        np.asarray(DECISION_WEIGHTS),
    )
    return 1.0 / (1.0 + np.exp(-(w[..., 0] + np.einsum("...f,...f->...", features, w[..., 1:]))))


def _own_null(a: ArticleFile, b: ArticleFile) -> SentenceNull | None:
    """The null of the pair's own cells outside its chain of mutual matches: unrelated
    sentence pairs by construction. None below ``MIN_OWN_CELLS`` such cells."""
    sim = a.embeddings @ b.embeddings.T
    rows, cols, _ = _mutual_matches(sim)
    chain = _chain_cells(rows, cols)
    outside = np.ones(sim.shape, bool)
    outside[rows[chain], cols[chain]] = False
    cos = sim[outside]
    if len(cos) < MIN_OWN_CELLS:
        return None
    return SentenceNull(float(np.median(cos)), _robust_scale(cos), len(cos))


def pair_probability(a: ArticleFile, b: ArticleFile, null: SentenceNull | None) -> float:
    """Calibrated probability that two files translate each other (0 for an empty file or
    without a null distribution: nothing to judge against).

    A folder null from fewer than ``SMALL_NULL_CELLS`` sentence pairs (two short files
    alone) holds the translations themselves (a third of the cells of two three-sentence
    files) and sits too high; there the pair's own cells outside its chain are the null.
    """
    if len(a.embeddings) == 0 or len(b.embeddings) == 0:
        return 0.0
    if null is None or null.cells < SMALL_NULL_CELLS:
        null = _own_null(a, b) or null
    if null is None:
        return 0.0
    return float(decision_probability(pair_features(a, b, null)))


def translation_score(a: np.ndarray, b: np.ndarray, k: int = 4) -> float:
    """Share of the shorter document's sentences in an ordered chain of mutual best matches.

    Matches (``_mutual_matches``) must have a positive margin. The share is taken of the
    shorter document, or of half the longer one where that is more: an abridged rendering
    still scores high, but a three-sentence text cannot "match" a long one on the same
    topic (on 1,500 Bible files, short psalms joined other chapters).
    """
    return _chain(a, b, k)[0]


def _chain(a: np.ndarray, b: np.ndarray, k: int = 4) -> tuple[float, float]:
    """``translation_score`` of two documents, and the sum of the cosines along its chain
    over the same denominator (a continuous version: it tells the closer of two texts
    that both match nearly every sentence)."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    sim = a @ b.T
    rows, cols, margin = _mutual_matches(sim, k)
    keep = margin > 0
    chain = _chain_cells(rows[keep], cols[keep])
    denom = max(min(len(a), len(b)), max(len(a), len(b)) / 2)
    return len(chain) / denom, float(sim[rows[keep][chain], cols[keep][chain]].sum()) / denom


def _candidates(doc: np.ndarray, left: np.ndarray, right: np.ndarray, k: int) -> set[tuple]:
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


def _sentence_candidates(
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


def bimax(a: np.ndarray, b: np.ndarray) -> float:
    """BiMax of two files' sentence embeddings (n, dim) and (m, dim), unit rows: the mean of
    each sentence's best cosine in the other file, averaged over both directions (Wang et
    al., "BiMax: Bidirectional MaxSim Score for Document-Level Alignment", Findings of
    EMNLP 2025). 0 for an empty file."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    sim = a @ b.T
    return float((sim.max(1).mean() + sim.max(0).mean()) / 2)


def _competition(files: Sequence[ArticleFile], judged: list[Link]) -> tuple[np.ndarray, np.ndarray]:
    """The competition key of each judged pair of one language pair, and whether it wins.

    On a real crawl the model's sentence cosines may not tell a translation from a story of
    the same kind (Sinhala and Tamil with e5-small: most gold pairs of the Army site score
    under 0.5 on their own), but ranking does: a translation stands far above its file's
    other candidates. The key is the pair's BiMax in robust scales (1.4826 x MAD) of the
    language pair's judged pairs, plus ``ANCHOR_WEIGHT`` times the agreement of numbers and
    URLs. A pair wins when it is each file's best by key, that key stands at least
    ``STANDOUT`` robust scales (of the file's candidates' keys) above the file's runner-up,
    and its numbers agree (more than half shared): a story of the same event with other
    figures, or without figures, never wins. Below ``MIN_NULL_CELLS`` judged pairs there is
    no field to compete in: the key is the probability and nothing wins.
    """
    scores = np.array([x.score for x in judged])
    if len(judged) < MIN_NULL_CELLS:
        return scores, np.zeros(len(judged), bool)
    raw = np.array([bimax(files[x.a].embeddings, files[x.b].embeddings) for x in judged])
    agree = np.array([_anchor_agreement(files[x.a].text, files[x.b].text) for x in judged])
    key = raw / _robust_scale(raw) + ANCHOR_WEIGHT * agree
    of_file: dict[int, list[int]] = defaultdict(list)
    for k, x in enumerate(judged):
        of_file[x.a].append(k)
        of_file[x.b].append(k)
    clear: dict[int, int] = {}  # file -> its best-keyed pair, where it stands out
    for end, ks in of_file.items():
        if len(ks) < 3:
            continue  # no field to stand out from
        values = key[ks]
        top = np.argsort(values)[::-1]
        if values[top[0]] - values[top[1]] >= STANDOUT * _robust_scale(values):
            clear[end] = ks[top[0]]
    won = np.array(
        [
            agree[k] > 0 and clear.get(x.a) == k and clear.get(x.b) == k
            for k, x in enumerate(judged)
        ],
        dtype=bool,
    )
    return key, won


def _robust_scale(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation (the standard deviation for normal data,
    unmoved by a minority of outliers), floored at 1e-4."""
    return max(1.4826 * float(np.median(np.abs(values - np.median(values)))), 1e-4)


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


def _normalised(sentence: str) -> str:
    return " ".join(sentence.casefold().split())


def _same_body(a: ArticleFile, b: ArticleFile) -> bool:
    """Whether two same-language files agree outside the sentences they share verbatim.

    Shared sentences are boilerplate for this comparison (a company footer, a standard
    disclaimer): two press releases that share a long footer match "in order" on it
    alone. What is left must be one text: nothing on one side (the other only adds or
    cuts sentences), small edits (most word trigrams shared), or the same sentences in
    other words or another language (an ordered chain of matches over at least two
    sentences each: a copy half translated into another language).
    """
    shared = {_normalised(x) for x in a.sentences} & {_normalised(x) for x in b.sentences}
    rest = [[k for k, x in enumerate(f.sentences) if _normalised(x) not in shared] for f in (a, b)]
    if not shared or min(len(r) for r in rest) == 0:
        return True
    texts = [" ".join(f.sentences[k] for k in r) for f, r in zip((a, b), rest, strict=True)]
    if _overlap(*texts) >= NEAR_DUPLICATE_OVERLAP:
        return True
    return (
        min(len(r) for r in rest) >= 2
        and translation_score(a.embeddings[rest[0]], b.embeddings[rest[1]]) >= NEAR_DUPLICATE_SCORE
    )


def near_duplicates(
    files: Sequence[ArticleFile],
    *,
    candidates: int = 5,
    min_score: float = NEAR_DUPLICATE_SCORE,
) -> list[Link]:
    """Same-language files that are copies of another file with small edits.

    Returns links (a: the copy, b: the file that is kept); the same candidate search and
    ``translation_score`` as for translations, applied within each language; most word
    trigrams of the shorter text must recur in the other, and the two must agree outside
    the sentences they share verbatim (``_same_body``; when ``sentences`` are given). Two
    files that each have their own translations in the folder (``_own_translations``) are
    not copies, however alike. Of two copies the one whose paragraphs are all in one
    language is kept, else the first.
    """
    with threadpool_limits(1, user_api="blas"):  # small products (``group_articles``)
        return _near_duplicates(files, candidates, min_score)


def _near_duplicates(files: Sequence[ArticleFile], candidates: int, min_score: float) -> list[Link]:
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
        for first, second in sorted(pairs):
            if first == second or first in dropped or second in dropped:
                continue
            kept, copy = (
                (second, first) if files[first].mixed > files[second].mixed else (first, second)
            )
            score = translation_score(files[kept].embeddings, files[copy].embeddings)
            if score < min_score:
                continue
            if _is_copy(files[kept], files[copy], score, min_score):
                if not _own_translations(files, doc, kept, copy, candidates):
                    copies.append(Link(copy, kept, score))
                    dropped.add(copy)
                continue
            # Same sentences in order but not the same text: a damaged copy, when one of the
            # two has lost its word order and its translations say which.
            damage = _word_damage(files[first].text, files[second].text)
            if damage is None:
                continue
            better = _better_translated(files, doc, first, second, candidates)
            if better is not None:
                copy = second if better == first else first
                copies.append(Link(copy, better, score, damage))
                dropped.add(copy)
    return copies


_WORD = regex.compile(r"\p{L}[\p{L}\p{M}]*")


def _one_letter_keys(word: str) -> set[str]:
    """The word and each of its one-letter deletions: two words one substitution, insertion
    or deletion apart share a key (the symmetric-delete idea of SymSpell, Garbe 2012)."""
    return {word} | {word[:k] + word[k + 1 :] for k in range(len(word))}


def word_overlap(a: str, b: str) -> tuple[float, float]:
    """(word share, word-pair share) of the text with fewer words in the other: the share of
    its words that are the other's and of its consecutive word pairs that the other has.

    Words are runs of letters and marks, case-folded; a word of three letters or more that
    is one letter away from one of the other's words (a spelling slip, a close language's
    form) stands for that word, in pairs too. Scripts written without spaces make whole
    clauses "words" and share few of them.
    """
    words = [[w.casefold() for w in _WORD.findall(text)] for text in (a, b)]
    x, y = sorted(words, key=len)
    if len(x) < 2:
        return 0.0, 0.0
    vocab = set(y)
    as_word: dict[str, str] = {}
    for w in vocab:
        if len(w) >= 3:
            for key in _one_letter_keys(w):
                as_word.setdefault(key, w)

    def theirs(w: str) -> str | None:
        if w in vocab:
            return w
        if len(w) < 3:
            return None
        return next((as_word[k] for k in _one_letter_keys(w) if k in as_word), None)

    found = {w: theirs(w) for w in set(x)}  # each distinct word looked up once
    mapped = [found[w] for w in x]
    pairs = set(pairwise(y))
    kept_pairs = sum(p in pairs for p in pairwise(mapped))
    return sum(w is not None for w in mapped) / len(x), kept_pairs / (len(x) - 1)


def _word_damage(a: str, b: str) -> str | None:
    """Why one of two same-language texts is the other's words with the word order lost
    (``word_overlap`` against ``DAMAGED_WORD_SHARE`` and ``DAMAGED_PAIR_SHARE``), or None.
    Symmetric: which of the two is damaged is for their translations to say
    (``_better_translated``)."""
    word_share, pair_share = word_overlap(a, b)
    if word_share < DAMAGED_WORD_SHARE or pair_share > DAMAGED_PAIR_SHARE:
        return None
    return (
        f"{word_share:.0%} of its words are the other's, spelling slips of one letter included, "
        f"but only {pair_share:.0%} of its word pairs: the words in another order"
    )


def _best_chains(
    files: Sequence[ArticleFile], doc: np.ndarray, x: int, y: int, candidates: int
) -> list[tuple[list[int], list[tuple[float, float]], list[tuple[float, float]]]]:
    """Per language other than theirs: the ``candidates`` files of that language nearest to
    ``x`` or ``y`` by document vector, and ``_chain`` of ``x`` and of ``y`` with each."""
    found = []
    for lang, members in _by_lang(files).items():
        if lang == files[x].lang:
            continue
        idx = np.array(members)
        _, top = nearest(doc[idx], doc[[x, y]], candidates)
        near = sorted({int(idx[c]) for c in top.ravel() if c >= 0})
        if near:
            found.append(
                (
                    near,
                    [_chain(files[x].embeddings, files[c].embeddings) for c in near],
                    [_chain(files[y].embeddings, files[c].embeddings) for c in near],
                )
            )
    return found


def _better_translated(
    files: Sequence[ArticleFile], doc: np.ndarray, x: int, y: int, candidates: int
) -> int | None:
    """Of two same-language files, the one whose best translation (``_chain``: chain share,
    then the cosines along it) is better in more of the other languages; None on a tie or
    with no other language. A text with its word order lost embeds farther from every
    rendering of it (the damaged-copies case: 0.73 against 0.90 along the German chain)."""
    votes = 0
    for _, sx, sy in _best_chains(files, doc, x, y, candidates):
        votes += (max(sx) > max(sy)) - (max(sy) > max(sx))
    return x if votes > 0 else y if votes < 0 else None


def _own_translations(
    files: Sequence[ArticleFile], doc: np.ndarray, x: int, y: int, candidates: int
) -> bool:
    """Whether two same-language files each have their own translation in the folder.

    Per other language, the best translation (``_chain``: chain share, then the cosines
    along it) of each among the ``candidates`` nearest files of that language by document
    vector: a copy and its original share it, two texts that merely say nearly the same
    thing (parallel passages: 1 Kings 22 and 2 Chronicles 18) each score higher with their
    own rendering than with the other's. True when more languages say "distinct" than
    "shared": a file with its own distinct translations is never dropped as a copy.
    """
    distinct = shared = 0
    for near, sx, sy in _best_chains(files, doc, x, y, candidates):
        bx, by = (
            max(range(len(near)), key=sx.__getitem__),
            max(range(len(near)), key=sy.__getitem__),
        )
        if bx != by and sx[bx] > sx[by] and sy[by] > sy[bx]:
            distinct += 1
        else:
            shared += 1
    return distinct > shared


def group_articles(
    files: Sequence[ArticleFile],
    *,
    candidates: int = 10,
    min_probability: float = MIN_PAIR_PROBABILITY,
    metadata_pairs: Collection[tuple[int, int]] = (),
) -> Grouping:
    """Assign an article id to every file that has a convincing translation.

    Every candidate pair is judged on its own (``pair_probability``); pairs that reach
    ``min_probability`` and are each other's most probable in that language are joined,
    most probable first. ``metadata_pairs`` (index pairs, e.g. from ``url_matching``) are
    judged beside the ``candidates`` nearest neighbours and the sentence-voted candidates
    (``_sentence_candidates``; ``candidates=0`` turns both searches off). Returns, per
    file, its article id and the probability of the best link that holds it there, or
    (alone) the reason, naming its best candidate.
    """
    # Tens of thousands of small (sentences x sentences) products: BLAS threads cost more
    # to wake than they save, and with another busy process they made grouping 20x slower.
    with threadpool_limits(1, user_api="blas"):
        return _group_articles(files, candidates, min_probability, metadata_pairs)


def _group_articles(
    files: Sequence[ArticleFile],
    candidates: int,
    min_probability: float,
    metadata_pairs: Collection[tuple[int, int]],
) -> Grouping:
    if not files:
        return Grouping([], [], [], [], {}, {})
    doc = _document_vectors(files)
    by_lang = _by_lang(files)
    nulls = language_nulls(files)
    # Candidates from URLs and hreflang links (``url_matching``) join the nearest
    # neighbours; they are judged like any other pair, so metadata never links texts alone.
    from_metadata: dict[tuple[str, str], set[tuple[int, int]]] = defaultdict(set)
    for i, j in metadata_pairs:
        (la, i), (lb, j) = sorted([(files[i].lang, i), (files[j].lang, j)])
        if la != lb:
            from_metadata[(la, lb)].add((i, j))
    links: list[Link] = []
    judged_all: list[Link] = []
    partners: dict[int, list[tuple[float, int]]] = defaultdict(list)  # every judged pair
    competition: set[tuple[int, int]] = set()  # pairs linked by ``_competition``
    # Competition key of every judged pair, from each end: keys[i][j].
    keys: dict[int, dict[int, float]] = defaultdict(dict)
    for la, lb in combinations(sorted(by_lang), 2):
        left, right = np.array(by_lang[la]), np.array(by_lang[lb])
        pairs = (
            _candidates(doc, left, right, candidates)
            | (_sentence_candidates(files, left, right) if candidates else set())
            | from_metadata[(la, lb)]
        )
        judged = [
            Link(i, j, pair_probability(files[i], files[j], nulls[(la, lb)]))
            for i, j in sorted(pairs)
        ]
        judged_all += judged
        for link in judged:
            for end, other in ((link.a, link.b), (link.b, link.a)):
                partners[end].append((link.score, other))
        key, won = _competition(files, judged)
        for k, x in enumerate(judged):
            keys[x.a][x.b] = keys[x.b][x.a] = float(key[k])
        # Accepted: probable on its own, or won by competition with agreeing numbers.
        accepted = [k for k, x in enumerate(judged) if x.score >= min_probability or won[k]]
        # Keep a link only when each file is the other's best in that language, by the
        # competition key: probabilities saturate near 1, and on a crawl a story of the same
        # kind often scores as high as the translation (Hiru: pair precision 0.70-0.89 when
        # ranked by probability, 0.94-0.98 by the key).
        best: dict[int, int] = {}
        for k in accepted:
            for end in (judged[k].a, judged[k].b):
                if end not in best or key[k] > key[best[end]]:
                    best[end] = k
        for k in accepted:
            x = judged[k]
            if best[x.a] == k and best[x.b] == k:
                links.append(x)
                if x.score < min_probability:
                    competition.add((min(x.a, x.b), max(x.a, x.b)))

    # A pair linked by competition is as likely right as such links were measured to be.
    judged_pairs = {(min(x.a, x.b), max(x.a, x.b)): x.score for x in judged_all} | dict.fromkeys(
        competition, COMPETITION_PROBABILITY
    )

    def probability(i: int, j: int) -> float:
        key = (min(i, j), max(i, j))
        if key not in judged_pairs:
            pair = tuple(sorted((files[i].lang, files[j].lang)))
            judged_pairs[key] = pair_probability(files[i], files[j], nulls[pair])
        return judged_pairs[key]

    # Each file's most probable candidate (the first of equals), named when it stays alone.
    best_seen = {end: max(found, key=lambda x: x[0]) for end, found in partners.items()}
    groups = _assemble(files, links, probability, min_probability)
    groups = _release_second_renderings(files, groups, probability, min_probability, partners)
    article_ids: list[str | None] = [None] * len(files)
    for group in groups:
        # Named by content, so an article keeps its id when unrelated files change.
        digest = hashlib.sha256("\n".join(sorted(files[i].key for i in group)).encode())
        for i in group:
            article_ids[i] = digest.hexdigest()[:16]
    used = [
        x for x in links if article_ids[x.a] is not None and article_ids[x.a] == article_ids[x.b]
    ]
    scores: list[float | None] = [None] * len(files)
    for link in used:
        for end in (link.a, link.b):
            scores[end] = max(scores[end] or 0.0, link.score)
    # Every two files of an article, linked directly or not: bead scores fold it in.
    pair_probabilities = {
        (i, j): probability(i, j) for group in groups for i, j in combinations(sorted(group), 2)
    }
    group_of = {article_ids[min(g)]: g for g in groups}
    variants, reasons = _variants(
        files, article_ids, group_of, partners, probability, min_probability, keys
    )
    for v, article in variants.items():
        for m in group_of[article]:
            if files[m].lang != files[v].lang:
                pair_probabilities[(min(v, m), max(v, m))] = probability(v, m)
    reasons = [
        None
        if article_ids[i] is not None
        else reasons.get(i) or _alone_reason(files, i, best_seen.get(i), nulls)
        for i in range(len(files))
    ]
    return Grouping(article_ids, used, scores, reasons, pair_probabilities, variants)


def _assemble(
    files: Sequence[ArticleFile],
    links: list[Link],
    probability: Callable[[int, int], float],
    min_probability: float,
) -> list[set[int]]:
    """Articles (sets of two or more file indices, one file per language) from accepted links.

    Greedy, best links first. Two groups merge only when each adds a language the other
    lacks (two groups of the same languages are two articles, even when they translate each
    other: parallel passages). A link between two groups that both hold a file of some
    language merges them only when neither end of the link is pushed out (per shared
    language the file with fewer links into the merged article, then the lower sum of
    their probabilities) and either the links between the groups outnumber the files
    pushed out, or at least ``WHOLE_SHARE`` of the pairs between what stays of the two
    groups reach ``min_probability`` (``probability``): one document whose files share
    language codes (Croatian and Bosnian both identified as hr, Nynorsk as nb) stays
    whole, while two articles joined by one wrong link stay apart. A pushed-out file
    starts again alone. Passes repeat until nothing changes (a link refused early may hold
    later).
    """
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    for x in links:
        neighbours[x.a][x.b] = neighbours[x.b][x.a] = x.score
    group = list(range(len(files)))  # file -> group id
    members: dict[int, set[int]] = {i: {i} for i in range(len(files))}
    fresh = len(files)
    order = sorted(links, key=lambda x: (-x.score, x.a, x.b))
    for _ in range(4):
        changed = False
        for link in order:
            ga, gb = group[link.a], group[link.b]
            if ga == gb:
                continue
            langs_a = {files[i].lang for i in members[ga]}
            langs_b = {files[i].lang for i in members[gb]}
            # A merge that adds no language only swaps files: two groups of the same
            # languages are two articles (parallel passages), never one document.
            if langs_a <= langs_b or langs_b <= langs_a:
                continue
            merged = members[ga] | members[gb]
            out = _pushed_out(files, members[ga], members[gb], merged, neighbours)
            if link.a in out or link.b in out:
                continue
            cross = sum(1 for i in members[ga] for j in neighbours[i] if j in members[gb])
            if cross <= len(out):
                pairs = [
                    probability(i, j) >= min_probability
                    for i in members[ga] - out
                    for j in members[gb] - out
                ]
                if np.mean(pairs) < WHOLE_SHARE:
                    continue
            del members[ga], members[gb]
            members[fresh] = merged - out
            for i in members[fresh]:
                group[i] = fresh
            fresh += 1
            for i in out:
                group[i] = fresh
                members[fresh] = {i}
                fresh += 1
            changed = True
        if not changed:
            break
    return [g for g in members.values() if len(g) > 1]


def _release_second_renderings(
    files: Sequence[ArticleFile],
    groups: list[set[int]],
    probability: Callable[[int, int], float],
    min_probability: float,
    partners: dict[int, list[tuple[float, int]]],
) -> list[set[int]]:
    """Dissolve a group that is a second rendering of a bigger one: the bigger group holds
    every language it holds and more, and at least ``WHOLE_SHARE`` of its pairs with the bigger
    group's files in other languages reach ``min_probability``. Both renderings of a
    document whose files share codes (two files identified ``hr``, two ``zh_Hant``) can
    each find their best links inside their own clique, so that no link joins the two and
    ``_assemble`` never weighs a merge. The released files gain the bigger group's files
    as judged partners (``partners``, updated), so that ``_variants`` judges them there.
    Only bigger groups holding a judged partner of one of its files are weighed: on a crawl
    of thousands of articles, weighing every bigger group was quadratic. Returns the groups
    that stay, biggest first."""
    kept: list[set[int]] = []
    kept_of: dict[int, int] = {}  # file -> index into kept
    for group in sorted(groups, key=lambda g: (-len(g), min(g))):
        langs = {files[i].lang for i in group}
        near = {kept_of[o] for v in group for _, o in partners.get(v, ()) if o in kept_of}
        for bigger in (kept[k] for k in sorted(near)):
            # Holding every language of the bigger group, it is an article of its own
            # (parallel passages: 1 Kings 22 and 2 Chronicles 18, each translated).
            if not langs < {files[i].lang for i in bigger}:
                continue
            pairs = [(v, m) for v in group for m in bigger if files[m].lang != files[v].lang]
            if np.mean([probability(v, m) >= min_probability for v, m in pairs]) >= WHOLE_SHARE:
                for v, m in pairs:
                    partners[v].append((probability(v, m), m))
                break
        else:
            kept_of.update((i, len(kept)) for i in group)
            kept.append(group)
    return kept


def _pushed_out(
    files: Sequence[ArticleFile],
    a: set[int],
    b: set[int],
    merged: set[int],
    neighbours: dict[int, dict[int, float]],
) -> set[int]:
    """Per language held by both groups, the file with less support in the merged article
    (fewer links into it, then a lower sum of their probabilities, then the later index)."""
    lang_a = {files[i].lang: i for i in a}
    out = set()
    for j in b:
        i = lang_a.get(files[j].lang)
        if i is None:
            continue
        support = {
            k: (
                sum(1 for n in neighbours[k] if n in merged),
                sum(p for n, p in neighbours[k].items() if n in merged),
                -k,
            )
            for k in (i, j)
        }
        out.add(min(support, key=support.__getitem__))
    return out


def _is_copy(
    a: ArticleFile, b: ArticleFile, score: float, min_score: float = NEAR_DUPLICATE_SCORE
) -> bool:
    """Same-language files that are one text with small edits: ``score`` (their
    ``translation_score``) reaches ``min_score``, most word trigrams of the shorter are
    shared, and they are one text outside shared boilerplate (``_same_body``)."""
    return (
        score >= min_score
        and _overlap(a.text, b.text) >= NEAR_DUPLICATE_OVERLAP
        and _same_body(a, b)
    )


def _variants(
    files: Sequence[ArticleFile],
    article_ids: list[str | None],
    group_of: dict[str, set[int]],
    partners: dict[int, list[tuple[float, int]]],
    probability: Callable[[int, int], float],
    min_probability: float,
    keys: dict[int, dict[int, float]],
) -> tuple[dict[int, str], dict[int, str]]:
    """Files left alone that are a second rendering of an article in a language it holds.

    An article holds one file per language code, but two files of one document can share
    a code: close languages the identifier does not tell apart (Croatian, Bosnian and
    Serbian in Latin script), or two independent translations into one language. A file
    left alone is judged against the article of its most probable judged partner
    (``partners``: every candidate pair, with probability) among those in an article with
    a file of its own language; it is a variant of that article when at least half of the
    article's files in other languages, and their mean, score at least
    ``min_probability`` with it, it is not a copy of that file (``_is_copy``), and the
    article's files do not rank it with their other candidates rather than with their own
    rendering (``_ranked_below``: on a crawl, a story of the same event scores as probable
    as a translation). ``keys`` holds the competition key of every judged pair from each
    end. ``group_of`` maps each article id to its files. Returns {file: article id} and
    {file: reason}.
    """
    variants: dict[int, str] = {}
    reasons: dict[int, str] = {}
    for v, f in enumerate(files):
        if article_ids[v] is not None:
            continue
        # Probabilities saturate near 1, so the single best partner may be another file
        # left alone (a second rendering too): every partner's article is considered.
        held = [
            (p, article_ids[o])
            for p, o in partners.get(v, ())
            if p >= min_probability
            and article_ids[o] is not None
            and any(files[i].lang == f.lang for i in group_of[article_ids[o]])
        ]
        if not held:
            continue
        article = max(held)[1]
        members = sorted(group_of[article])
        same = [i for i in members if files[i].lang == f.lang]
        others = [i for i in members if files[i].lang != f.lang]
        if not others:
            continue
        probs = np.array([probability(v, m) for m in others])
        if (
            (probs >= min_probability).mean() >= 0.5
            and probs.mean() >= min_probability
            and not _is_copy(
                files[same[0]], f, translation_score(files[same[0]].embeddings, f.embeddings)
            )
            and not _ranked_below(files, keys, v, same[0], others)
        ):
            variants[v] = article
            name = files[same[0]].name or files[same[0]].key[:12]
            reasons[v] = (
                f"a second {f.lang} rendering of the article of {name}: scored "
                f"{probs.mean():.2f} on average with its {len(others)} "
                f"file{'s' if len(others) > 1 else ''} in other languages (an article holds "
                "one file per language)"
            )
    return variants, reasons


def _ranked_below(
    files: Sequence[ArticleFile],
    keys: dict[int, dict[int, float]],
    v: int,
    s: int,
    others: list[int],
) -> bool:
    """Whether more than half of the files ``others`` that were judged against both ``v``
    and ``s`` (two files of one language) rank ``v`` with their other candidates of that
    language rather than with ``s``. By competition key (``_competition``), over the median
    of the rest: ``v`` stands under ``VARIANT_STANDOUT`` robust scales of the rest, or lower
    than ``1 - VARIANT_SHARE`` of ``s``'s height. Two renderings of one text both stand far
    above a file's other candidates; a story of the same event, written apart, stands in
    between. False without such files."""
    below = judged = 0
    for m in others:
        judged_by_m = keys.get(m, {})
        kv, ks = judged_by_m.get(v), judged_by_m.get(s)
        rest = [
            k for o, k in judged_by_m.items() if o not in (v, s) and files[o].lang == files[v].lang
        ]
        if kv is None or ks is None or not rest:
            continue
        judged += 1
        centre, scale = float(np.median(rest)), _robust_scale(np.array(rest))
        below += kv - centre < VARIANT_STANDOUT * scale or ks - kv > VARIANT_SHARE * (ks - centre)
    return judged > 0 and below > judged / 2


def _alone_reason(
    files: Sequence[ArticleFile],
    i: int,
    best: tuple[float, int] | None,
    nulls: dict[tuple[str, str], SentenceNull | None],
) -> str:
    """Why file ``i`` has no article: its best candidate and that pair's probability."""
    f = files[i]
    if not any(g.lang != f.lang for g in files):
        return f"no file in another language than {f.lang}"
    if len(f.embeddings) == 0:
        return "no sentences"
    if best is None:
        return "no candidate"
    p, other = best
    name = files[other].name or files[other].key[:12]
    pair = tuple(sorted((f.lang, files[other].lang)))
    if nulls.get(pair) is None:
        return f"too little text to judge: under {MIN_NULL_CELLS} sentence pairs to compare with"
    if p >= MIN_PAIR_PROBABILITY:
        return f"best candidate {name} scored {p:.2f} but is better matched in {f.lang}"
    return f"best candidate {name} scored {p:.2f}"
