"""Monotonic sentence alignment by dynamic programming over bead types.

Let x_1..x_n and y_1..y_m be unit sentence embeddings of the two sides. A bead
(a, b) joins a consecutive source sentences with b consecutive target
sentences; its span embedding is the length-weighted sum of its members,
normalised (no extra encoder calls). The aligner maximises

    D[i, j] = max_{(a, b)} D[i - a, j - b] + v(i - a:i, j - b:j)

over prefixes, where for a, b >= 1

    v = (a + b) / 2 * margin(S, T) - length_weight * (log(len S / (r len T)))^2 + prior(a, b)

    margin(S, T) = cos(S, T) - (knn(S) + knn(T)) / 2

knn(.) is the mean cosine of a sentence to its k best candidates on the other
side, so margin is high only when a pair stands out from its neighbourhood;
this matters for e5, whose cosines are compressed (about 0.8 for unrelated
text). r is the document's overall length ratio. An insertion or deletion
(0-1, 1-0) earns ``skip`` per sentence.

Cost stays linear in document length: when n * m is large, both sides are
downsampled by averaging neighbouring sentences, aligned recursively, and the
full-resolution DP only visits a band of cells around the projected coarse path
(as in Vecalign's coarse-to-fine search). Memory is O(band cells).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from corpus.embedding import Encoder, normalise

BeadType = tuple[int, int]


@dataclass(frozen=True)
class Bead:
    """Source and target sentence indices (0-based, consecutive) and a confidence in [0, 1]."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float

    @property
    def align_type(self) -> str:
        return f"{len(self.src)}-{len(self.tgt)}"


@dataclass(frozen=True)
class AlignParams:
    bead_types: tuple[BeadType, ...] = (
        (1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (3, 1), (1, 0), (0, 1),
    )  # fmt: skip
    skip: float = -0.02  # value per inserted or deleted sentence
    merge_prior: float = -0.02  # added once per bead that is not 1-1
    length_weight: float = 0.1
    knn: int = 4
    band: int = 6  # half-width, in sentences, of the search band around the coarse path
    max_full_cells: int = 250_000  # above this many DP cells, search coarse-to-fine
    # Confidence = sigmoid(score_bias + score_margin * margin + score_merge * [not 1-1]): a
    # logistic regression of strict correctness on these two features, fitted on the beads
    # of the Text+Berg dev document (de-fr, bundled e5-small, these defaults). Merges are
    # right less often than 1-1 beads of the same margin, hence their own term.
    score_bias: float = 1.43
    score_margin: float = 24.8
    score_merge: float = -2.21


class _Side:
    """One side of the alignment: embeddings, lengths and prefix sums for span lookups."""

    def __init__(self, emb: np.ndarray, lengths: np.ndarray) -> None:
        self.emb = emb.astype(np.float32, copy=False)
        self.lengths = lengths.astype(np.float64)
        self.n = len(emb)
        weighted = self.emb * self.lengths[:, None].astype(np.float32)
        self.cum_emb = np.vstack([np.zeros((1, emb.shape[1]), np.float32), np.cumsum(weighted, 0)])
        self.cum_len = np.concatenate([[0.0], np.cumsum(self.lengths)])
        self.knn = np.zeros(self.n)
        # size -> (has[end], vectors[end]): real embeddings of joined spans [end - size, end).
        self.joined: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def add_joined(self, spans: list[tuple[int, int]], vectors: np.ndarray) -> None:
        for (start, end), vec in zip(spans, vectors, strict=True):
            size = end - start
            if size not in self.joined:
                self.joined[size] = (
                    np.zeros(self.n + 1, bool),
                    np.zeros((self.n + 1, self.emb.shape[1]), np.float32),
                )
            has, table = self.joined[size]
            has[end], table[end] = True, vec

    def span(self, end: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Span embeddings (unnormalised), char lengths and knn of [end - size, end).

        A merged span is the real embedding of its joined text where one was computed,
        else the length-weighted sum of its members. A span's knn is its members'
        largest: with the mean, adding an unrelated sentence (low knn) to a bead would
        lower its margin penalty and make absorbing insertions into merges look cheap.
        """
        start = end - size
        vec = self.cum_emb[end] - self.cum_emb[start]
        if size in self.joined:
            has, table = self.joined[size]
            real = has[end]
            if np.ndim(end) == 0:
                vec = table[end] if real else vec
            elif real.any():
                vec = vec.copy()
                vec[real] = table[end[real]]
        length = self.cum_len[end] - self.cum_len[start]
        knn = np.max([self.knn[end - 1 - k] for k in range(size)], axis=0)
        return vec, length, knn


class _Band:
    """For each DP row i (0..n), the admissible columns j in [lo[i], hi[i]] (inclusive)."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.lo = lo.astype(np.int64)
        self.hi = hi.astype(np.int64)

    @classmethod
    def full(cls, n: int, m: int) -> _Band:
        return cls(np.zeros(n + 1), np.full(n + 1, m))

    @classmethod
    def around(cls, path: list[tuple[int, int]], n: int, m: int, width: int) -> _Band:
        """Cells within ``width`` sentences (in both directions) of a monotonic path of (i, j)."""
        lo = np.full(n + 1, m, dtype=np.int64)
        hi = np.zeros(n + 1, dtype=np.int64)
        for i, j in path:
            a, b = max(0, i - width), min(n, i + width)
            lo[a : b + 1] = np.minimum(lo[a : b + 1], max(0, j - width))
            hi[a : b + 1] = np.maximum(hi[a : b + 1], min(m, j + width))
        # Monotone bounds keep every row reachable from the previous one.
        lo = np.minimum.accumulate(lo[::-1])[::-1]
        hi = np.maximum.accumulate(hi)
        lo[0], hi[n] = 0, m
        return cls(lo, hi)

    def cells(self) -> int:
        return int((self.hi - self.lo + 1).sum())


def _knn_in_band(src: _Side, tgt: _Side, band: _Band, k: int) -> None:
    """Mean of the k best cosines of each sentence among the candidates of the band."""
    src_knn = np.zeros(src.n)
    rows, cols, vals = [], [], []
    for i in range(src.n):
        # Sentence i is row i + 1 of the DP (prefix length); its candidate targets are
        # the sentences ending inside the band on that row.
        lo, hi = max(band.lo[i + 1] - 1, 0), min(band.hi[i + 1], tgt.n)
        if hi <= lo:
            continue
        sims = tgt.emb[lo:hi] @ src.emb[i]
        top = np.sort(sims)[::-1][:k]
        src_knn[i] = top.mean()
        rows.append(np.full(hi - lo, i))
        cols.append(np.arange(lo, hi))
        vals.append(sims)
    tgt_knn = np.zeros(tgt.n)
    if cols:
        col, val = np.concatenate(cols), np.concatenate(vals)
        order = np.lexsort((-val, col))
        col, val = col[order], val[order]
        starts = np.searchsorted(col, np.arange(tgt.n))
        ends = np.searchsorted(col, np.arange(tgt.n), side="right")
        for j in range(tgt.n):
            if ends[j] > starts[j]:
                tgt_knn[j] = val[starts[j] : min(ends[j], starts[j] + k)].mean()
    src.knn, tgt.knn = src_knn, tgt_knn


def _dp(src: _Side, tgt: _Side, band: _Band, params: AlignParams, ratio: float):
    """Fill the banded DP and return the best path as (i, j, a, b) beads, in order."""
    n = src.n
    width = band.hi - band.lo + 1
    score = [np.full(w, -np.inf) for w in width]
    back = [np.full(w, -1, dtype=np.int8) for w in width]
    score[0][0] = 0.0  # band.lo[0] == 0
    types = params.bead_types
    insert = types.index((0, 1)) if (0, 1) in types else None
    for i in range(n + 1):
        lo, hi = band.lo[i], band.hi[i]
        j = np.arange(lo, hi + 1)
        best, arg = score[i], back[i]
        for t, (a, b) in enumerate(types):
            if a > i or a == 0:
                continue
            prev_j = j - b
            plo, phi = band.lo[i - a], band.hi[i - a]
            ok = (prev_j >= plo) & (prev_j <= phi)
            if not ok.any():
                continue
            cand = np.full(len(j), -np.inf)
            cand[ok] = score[i - a][prev_j[ok] - plo]
            if a == 0 or b == 0:
                value = params.skip * (a + b)
            else:
                s_vec, s_len, s_knn = src.span(np.array(i), a)
                t_vec, t_len, t_knn = tgt.span(j[ok], b)
                cos = (t_vec @ s_vec) / (
                    np.linalg.norm(t_vec, axis=1) * np.linalg.norm(s_vec) + 1e-12
                )
                margin = cos - (s_knn + t_knn) / 2
                length_pen = np.log((s_len + 1) / (ratio * t_len + 1))
                value = np.full(len(j), -np.inf)
                value[ok] = (
                    margin
                    - params.length_weight * length_pen**2
                    + (0.0 if (a, b) == (1, 1) else params.merge_prior)
                )
            cand = cand + value
            better = cand > best
            best[better] = cand[better]
            arg[better] = t
        if insert is not None:
            # Insertions stay in row i, so they chain: best[j] = max_{k < j} best[k] +
            # skip * (j - k), a running maximum of best[k] - skip * k. Comparing only
            # with k < j keeps rounding from turning a cell into its own predecessor.
            run = np.maximum.accumulate(best - params.skip * j) + params.skip * j
            chained = np.concatenate([[-np.inf], run[:-1] + params.skip])
            better = chained > best
            best[better] = chained[better]
            arg[better] = insert
    # Trace back from (n, m).
    beads = []
    i, j = n, tgt.n
    while i > 0 or j > 0:
        t = back[i][j - band.lo[i]]
        if t < 0:
            raise RuntimeError("alignment band does not reach the end")
        a, b = types[t]
        beads.append((i - a, j - b, a, b))
        i, j = i - a, j - b
    beads.reverse()
    return beads


def _coarse(side: _Side) -> _Side:
    """Halve the resolution: average neighbouring sentence pairs."""
    n = side.n
    pad = n % 2
    emb = side.emb * side.lengths[:, None].astype(np.float32)
    lengths = side.lengths
    if pad:
        emb = np.vstack([emb, np.zeros((1, emb.shape[1]), np.float32)])
        lengths = np.concatenate([lengths, [0.0]])
    emb = emb.reshape(-1, 2, emb.shape[1]).sum(1)
    return _Side(normalise(emb), lengths.reshape(-1, 2).sum(1))


def _search(src: _Side, tgt: _Side, params: AlignParams, ratio: float):
    if src.n * tgt.n <= params.max_full_cells or min(src.n, tgt.n) < 4:
        band = _Band.full(src.n, tgt.n)
    else:
        coarse = _search(_coarse(src), _coarse(tgt), params, ratio)
        path = [(2 * i, 2 * j) for i, j, _, _ in coarse] + [(src.n, tgt.n)]
        band = _Band.around(path, src.n, tgt.n, params.band)
    _knn_in_band(src, tgt, band, params.knn)
    return _dp(src, tgt, band, params, ratio)


JoinedEmbedder = Callable[[str, list[tuple[int, int]]], np.ndarray]
"""Embeds the joined text of sentence spans [start, end) of side "src" or "tgt"."""


def joined_embedder(
    encoder: Encoder, src_texts: Sequence[str], tgt_texts: Sequence[str], batch_size: int = 32
) -> JoinedEmbedder:
    """A JoinedEmbedder that encodes the sentences of a span joined by spaces."""
    texts = {"src": src_texts, "tgt": tgt_texts}

    def embed(side: str, spans: list[tuple[int, int]]) -> np.ndarray:
        joined = [" ".join(texts[side][start:end]) for start, end in spans]
        return encoder.encode(joined, batch_size=batch_size)

    return embed


def _merge_candidates(
    path: list[tuple[int, int, int, int]], side: int, n: int, params: AlignParams
) -> list[tuple[int, int]]:
    """Spans worth a real embedding on one side (side 0: source, 1: target).

    The first pass sees merges only through summed member embeddings, so it proposes
    where a merge is plausible: each of its own merges (the span itself and, for three
    or more sentences, its two shorter halves) and each sentence it left unaligned
    (often the missing part of a 1-2 bead), joined with either neighbour. About 0.3
    strings per sentence on Text+Berg.
    """
    spans: set[tuple[int, int]] = set()
    for bead in path:
        start, size, other = bead[side], bead[2 + side], bead[3 - side]
        if size >= 2:
            spans.add((start, start + size))
        if size >= 3:
            spans.update([(start, start + size - 1), (start + 1, start + size)])
        if size == 1 and other == 0:
            spans.update([(start - 1, start + 1), (start, start + 2)])
    return sorted((a, b) for a, b in spans if a >= 0 and b <= n)


def align(
    src_emb: np.ndarray,
    tgt_emb: np.ndarray,
    src_lengths: Sequence[int] | np.ndarray,
    tgt_lengths: Sequence[int] | np.ndarray,
    params: AlignParams | None = None,
    joined: JoinedEmbedder | None = None,
) -> list[Bead]:
    """Align two documents given unit sentence embeddings and sentence lengths in characters.

    With ``joined``, a second pass embeds the joined text of merge candidates near the
    first-pass path and aligns again with them. Returns beads covering every sentence of
    both sides exactly once, in order.
    """
    params = params or AlignParams()
    n, m = len(src_emb), len(tgt_emb)
    if n == 0 or m == 0:
        return [Bead((i,), (), 0.0) for i in range(n)] + [Bead((), (j,), 0.0) for j in range(m)]
    src = _Side(np.asarray(src_emb), np.asarray(src_lengths, dtype=np.float64))
    tgt = _Side(np.asarray(tgt_emb), np.asarray(tgt_lengths, dtype=np.float64))
    ratio = max(src.cum_len[-1], 1.0) / max(tgt.cum_len[-1], 1.0)
    path = _search(src, tgt, params, ratio)
    if joined is not None:
        for side, name, k in ((src, "src", 0), (tgt, "tgt", 1)):
            spans = _merge_candidates(path, k, side.n, params)
            if spans:
                side.add_joined(spans, joined(name, spans))
        corners = [(i, j) for i, j, _, _ in path] + [(n, m)]
        path = _dp(src, tgt, _Band.around(corners, n, m, params.band), params, ratio)
    beads = []
    for i, j, a, b in path:
        if a == 0 or b == 0:
            score = 0.0
        else:
            s_vec, _, s_knn = src.span(np.array(i + a), a)
            t_vec, _, t_knn = tgt.span(np.array([j + b]), b)
            cos = float((t_vec @ s_vec)[0] / (np.linalg.norm(t_vec) * np.linalg.norm(s_vec)))
            margin = cos - float(s_knn + t_knn[0]) / 2
            logit = params.score_bias + params.score_margin * margin
            if (a, b) != (1, 1):
                logit += params.score_merge
            score = 1.0 / (1.0 + math.exp(-logit))
        beads.append(Bead(tuple(range(i, i + a)), tuple(range(j, j + b)), score))
    return beads


@dataclass(frozen=True)
class MultiBead:
    """Sentences of several languages that the pairwise alignments tie together."""

    ids: dict[str, tuple[int, ...]]  # language -> sentence indices in that language's file
    score: float  # mean confidence of the pairwise beads inside the tuple


def multiway(pair_beads: dict[tuple[str, str], list[Bead]]) -> list[MultiBead]:
    """Join pairwise alignments of one article into multi-way tuples.

    Sentences linked by any pairwise bead form connected components. A component
    is kept when it is consistent: for every two of its languages, the beads
    between them inside the component cover exactly its sentences of both (for
    three languages, the triangle closes), so an error in one pair cannot chain
    unrelated sentences together.
    """
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def root(node: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for (la, lb), beads in pair_beads.items():
        for bead in beads:
            if not bead.src or not bead.tgt:
                continue
            nodes = [(la, i) for i in bead.src] + [(lb, j) for j in bead.tgt]
            for node in nodes[1:]:
                parent[root(node)] = root(nodes[0])
    components: dict[tuple[str, int], dict[str, list[int]]] = {}
    for node in sorted(parent):
        components.setdefault(root(node), {}).setdefault(node[0], []).append(node[1])
    # Per component and language pair: the sentences its beads cover, and their scores.
    covered: dict[tuple[str, int], dict[tuple[str, str], tuple[set, set, list[float]]]] = {}
    for (la, lb), beads in pair_beads.items():
        for bead in beads:
            if bead.src and bead.tgt:
                by_pair = covered.setdefault(root((la, bead.src[0])), {})
                src, tgt, scores = by_pair.setdefault((la, lb), (set(), set(), []))
                src.update(bead.src)
                tgt.update(bead.tgt)
                scores.append(bead.score)
    tuples = []
    for key, members in components.items():
        langs = sorted(members)
        pairs = covered.get(key, {})
        consistent = len(langs) >= 2 and all(
            pair in pairs
            and pairs[pair][0] == set(members[pair[0]])
            and pairs[pair][1] == set(members[pair[1]])
            for pair in combinations(langs, 2)
        )
        if not consistent:
            continue
        scores = [s for _, _, values in pairs.values() for s in values]
        tuples.append(
            MultiBead(
                {lang: tuple(sorted(members[lang])) for lang in langs}, float(np.mean(scores))
            )
        )
    # Document order: by first sentence in each language, languages alphabetically.
    all_langs = sorted({lang for pair in pair_beads for lang in pair})
    tuples.sort(key=lambda t: [t.ids.get(lang, (1 << 30,))[0] for lang in all_langs])
    return tuples
