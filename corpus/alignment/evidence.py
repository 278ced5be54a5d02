"""Pair evidence: how likely two files of two languages are to translate each other.

``pair_features`` turns what two files share (an ordered chain of mutual best sentence
matches, that chain against the same two files with one side shuffled, how far the
matched sentences stand above a null distribution of unrelated sentence pairs of the same
two languages, length consistency, shared numbers and URLs) into features, and
``decision_probability`` into a calibrated probability that they translate each other
(two logistic regressions, fitted by ``scripts/bench_grouping.py --fit``). ``bimax`` and
``translation_score`` are the similarity measures the grouping and the near-duplicate
check rank by.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

from corpus.alignment.candidates import files_by_lang
from corpus.records import ArticleFile, Link
from corpus.robust import robust_scale

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
# A scale below this is no spread at all (identical cosines): z-scores stay finite.
SCALE_FLOOR = 1e-4
STRONG_Z = 3.0  # a match this many null scales above the null centre counts as confident

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
class SentenceNull:
    """Cosines of unrelated sentence pairs of one language pair: median and robust scale.

    The scale is 1.4826 times the median absolute deviation (``robust.robust_scale``),
    which stays that of the unrelated pairs while translations are a minority of the
    sample (a few per cent in any folder of several articles). e5 cosines are compressed
    (about 0.8 for unrelated text), so matches are judged by how many null scales they
    stand above this centre, never by their raw value.
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


def _robust_null(cos: np.ndarray, min_cells: int = MIN_NULL_CELLS) -> SentenceNull | None:
    """Median and robust scale (``robust.robust_scale``) of the cosines; None below
    ``min_cells`` of them."""
    if len(cos) < min_cells:
        return None
    return SentenceNull(float(np.median(cos)), robust_scale(cos, SCALE_FLOOR), len(cos))


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
    by_lang = files_by_lang(files)
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


def anchor_agreement(a: str, b: str) -> float:
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
    - anchors: agreement of numbers and URLs (``anchor_agreement``);
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
            anchor_agreement(a.text, b.text),
            1.0 / min(n, m),
        ]
    )


def is_short(features: np.ndarray) -> np.ndarray:
    """For feature rows (..., len(FEATURES)): True where a file has at most
    ``SHORT_SENTENCES`` sentences (the ``short`` feature is 1 / the shorter side's count)."""
    return features[..., FEATURES.index("short")] * SHORT_SENTENCES >= 1 - 1e-9


@dataclass(frozen=True)
class DecisionWeights:
    """The two logistic regressions of ``decision_probability``, each the bias then one
    weight per feature in ``FEATURES`` order: for pairs of long files, and for a pair with
    a file of at most ``SHORT_SENTENCES`` sentences."""

    long: tuple[float, ...] = DECISION_WEIGHTS
    short: tuple[float, ...] = SHORT_DECISION_WEIGHTS


DECISION = DecisionWeights()  # the fitted weights above; bench_grouping.py --fit passes its own


def decision_probability(features: np.ndarray, weights: DecisionWeights = DECISION) -> np.ndarray:
    """P(translation) for feature rows (..., len(FEATURES)): ``weights.short`` where a file
    is short (``is_short``), ``weights.long`` elsewhere."""
    w = np.where(is_short(features)[..., None], np.asarray(weights.short), np.asarray(weights.long))
    return 1.0 / (1.0 + np.exp(-(w[..., 0] + np.einsum("...f,...f->...", features, w[..., 1:]))))


def _own_null(a: ArticleFile, b: ArticleFile) -> SentenceNull | None:
    """The null of the pair's own cells outside its chain of mutual matches: unrelated
    sentence pairs by construction. None below ``MIN_OWN_CELLS`` such cells."""
    sim = a.embeddings @ b.embeddings.T
    rows, cols, _ = _mutual_matches(sim)
    chain = _chain_cells(rows, cols)
    outside = np.ones(sim.shape, bool)
    outside[rows[chain], cols[chain]] = False
    return _robust_null(sim[outside], MIN_OWN_CELLS)


def pair_probability(
    a: ArticleFile, b: ArticleFile, null: SentenceNull | None, weights: DecisionWeights = DECISION
) -> float:
    """Calibrated probability that two files translate each other (0 for an empty file or
    without a null distribution: nothing to judge against), by ``weights``.

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
    return float(decision_probability(pair_features(a, b, null), weights))


def translation_score(a: np.ndarray, b: np.ndarray, k: int = 4) -> float:
    """Share of the shorter document's sentences in an ordered chain of mutual best matches.

    Matches (``_mutual_matches``) must have a positive margin. The share is taken of the
    shorter document, or of half the longer one where that is more: an abridged rendering
    still scores high, but a three-sentence text cannot "match" a long one on the same
    topic (on 1,500 Bible files, short psalms joined other chapters).
    """
    return ordered_chain(a, b, k)[0]


def ordered_chain(a: np.ndarray, b: np.ndarray, k: int = 4) -> tuple[float, float]:
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


def bimax(a: np.ndarray, b: np.ndarray) -> float:
    """BiMax of two files' sentence embeddings (n, dim) and (m, dim), unit rows: the mean of
    each sentence's best cosine in the other file, averaged over both directions (Wang et
    al., "BiMax: Bidirectional MaxSim Score for Document-Level Alignment", Findings of
    EMNLP 2025). 0 for an empty file."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    sim = a @ b.T
    return float((sim.max(1).mean() + sim.max(0).mean()) / 2)


# Competition (``competition``): a pair's key is its BiMax plus agreement of numbers, the
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


def competition(files: Sequence[ArticleFile], judged: list[Link]) -> tuple[np.ndarray, np.ndarray]:
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
    agree = np.array([anchor_agreement(files[x.a].text, files[x.b].text) for x in judged])
    key = raw / robust_scale(raw, SCALE_FLOOR) + ANCHOR_WEIGHT * agree
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
        if values[top[0]] - values[top[1]] >= STANDOUT * robust_scale(values, SCALE_FLOOR):
            clear[end] = ks[top[0]]
    won = np.array(
        [
            agree[k] > 0 and clear.get(x.a) == k and clear.get(x.b) == k
            for k, x in enumerate(judged)
        ],
        dtype=bool,
    )
    return key, won
