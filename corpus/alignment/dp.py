"""Monotonic sentence alignment by dynamic programming over bead types.

Let x_1..x_n and y_1..y_m be unit sentence embeddings of the two sides. A bead
(a, b) joins a consecutive source sentences S with b consecutive target
sentences T; a span's embedding is the length-weighted sum of its members,
normalised (no extra encoder calls), or the real embedding of its joined text
where one was computed. The aligner maximises the sum of bead values

    D[i, j] = max_{(a, b)} D[i - a, j - b] + v(i - a:i, j - b:j)

over prefixes, where for a, b >= 1 (as in Bertalign, one value per bead, so a
merge must beat the sum of the finer beads it replaces)

    v = margin(S, T) * log2(1 + min(|S|, r|T|) / max(|S|, r|T|))
    margin(S, T) = cos(S, T) - mean(nbr_S, nbr_T, knn_S, knn_T)

nbr_S is the mean cosine of T with the source spans of S's size just before and
after S, nbr_T likewise (the bead must beat its shifted neighbours: this decides
bead boundaries); knn_S is the mean cosine of S to its k best single sentences
on the other side (the bead must stand out globally: unrelated text scores
below zero). Neighbours that do not exist (at a document's edges) drop out of
the mean. Raw e5 cosines are compressed (about 0.8 for unrelated text), the
margin is not. |S| is a length in characters and r the characters of source per
character of target over mutual best sentence pairs. An insertion or deletion
(0-1, 1-0) earns ``skip``.

Cost stays linear in document length: when n * m is large, both sides are
downsampled by averaging neighbouring sentences, aligned recursively, and the
full-resolution DP only visits a band of cells around the projected coarse path
(as in Vecalign's coarse-to-fine search). Memory is O(band cells + n * dim) per
span size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpus.embedding.backend import normalise

BeadType = tuple[int, int]


@dataclass(frozen=True)
class AlignParams:
    # Every bead of at most five sentences (Bertalign's default), plus insertions/deletions.
    bead_types: tuple[BeadType, ...] = (
        (1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (3, 1),
        (1, 4), (4, 1), (2, 3), (3, 2), (1, 0), (0, 1),
    )  # fmt: skip
    skip: float = -0.01  # value per inserted or deleted sentence (good beads: 0.05-0.15)
    knn: int = 8
    band: int = 6  # half-width, in sentences, of the search band around the coarse path
    max_full_cells: int = 250_000  # above this many DP cells, search coarse-to-fine
    # Path probabilities are proportional to exp(path value / temperature); see ``band_dp``.
    temperature: float = 0.002
    # Confidence = sigmoid(score_bias + score_margin * margin + score_length * length factor
    # + score_doubt * log(1 - P)), P the bead's posterior: a logistic regression of strict
    # correctness fitted on the beads of the Text+Berg dev document (de-fr, bundled
    # e5-small, these defaults). Wrong beads are mostly length-unbalanced or nearly tied with
    # a shifted boundary; with these features the dev log loss is 0.318, against 0.416 for
    # margin and bead type alone (0.243 against 0.318 on the held-out test documents).
    score_bias: float = -8.73
    score_margin: float = 1.16
    score_length: float = 10.0
    score_doubt: float = -0.131

    @property
    def insertion(self) -> int | None:
        """Index of the insertion type (0, 1) in ``bead_types``; None if there is none."""
        return self.bead_types.index((0, 1)) if (0, 1) in self.bead_types else None


class Side:
    """One side of the alignment: span embeddings, lengths and knn per span size and end.

    ``vec[size][end]`` is the unit embedding of sentences [end - size, end) (zero rows
    where end < size); ``length`` and ``knn`` are indexed the same way.
    """

    def __init__(self, emb: np.ndarray, lengths: np.ndarray, sizes: Sequence[int]) -> None:
        emb = emb.astype(np.float32, copy=False)
        self.lengths = lengths.astype(np.float64)
        self.n = len(emb)
        self.dim = emb.shape[1]
        # float64 prefix sums: span sums are differences of large totals.
        cum_emb = np.vstack([np.zeros((1, self.dim)), np.cumsum(emb * self.lengths[:, None], 0)])
        cum_len = np.concatenate([[0.0], np.cumsum(self.lengths)])
        self.vec: dict[int, np.ndarray] = {}
        self.length: dict[int, np.ndarray] = {}
        self.knn: dict[int, np.ndarray] = {}
        for size in sorted(set(sizes)):
            vec = np.zeros((self.n + 1, self.dim), np.float32)
            length = np.zeros(self.n + 1)
            if size <= self.n:
                vec[size:] = normalise(cum_emb[size:] - cum_emb[:-size])
                length[size:] = cum_len[size:] - cum_len[:-size]
            self.vec[size], self.length[size] = vec, length
            self.knn[size] = np.zeros(self.n + 1)

    def add_joined(self, spans: list[tuple[int, int]], vectors: np.ndarray) -> None:
        """Use real embeddings of the joined text of these spans [start, end)."""
        for (start, end), vec in zip(spans, vectors, strict=True):
            if end - start in self.vec:
                self.vec[end - start][end] = vec


class Band:
    """For each DP row i (0..n), the admissible columns j in [lo[i], hi[i]] (inclusive)."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.lo = lo.astype(np.int64)
        self.hi = hi.astype(np.int64)

    @classmethod
    def full(cls, n: int, m: int) -> Band:
        return cls(np.zeros(n + 1), np.full(n + 1, m))

    @classmethod
    def around(cls, path: list[tuple[int, int]], n: int, m: int, width: int) -> Band:
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


def knn_in_band(src: Side, tgt: Side, band: Band, k: int) -> None:
    """Mean of the k best cosines of each span with the other side's single sentences.

    The candidates are those of the band: for the span ending at source sentence i
    (DP row i), the target sentences ending in columns lo[i]..hi[i]; for a target
    span ending at column j, the source sentences of the rows whose band holds j.
    """
    for size, vec in src.vec.items():
        for i in range(size, src.n + 1):
            lo, hi = max(band.lo[i] - 1, 0), min(band.hi[i], tgt.n)
            if hi > lo:
                sims = tgt.vec[1][lo + 1 : hi + 1] @ vec[i]
                src.knn[size][i] = np.sort(sims)[::-1][:k].mean()
    # Rows whose band holds column j: lo[i] <= j <= hi[i], both bounds monotone in i.
    first = np.searchsorted(band.hi, np.arange(tgt.n + 1), side="left")
    last = np.searchsorted(band.lo, np.arange(tgt.n + 1), side="right") - 1
    for size, vec in tgt.vec.items():
        for j in range(size, tgt.n + 1):
            lo, hi = max(first[j] - 1, 0), min(last[j], src.n)
            if hi > lo:
                sims = src.vec[1][lo + 1 : hi + 1] @ vec[j]
                tgt.knn[size][j] = np.sort(sims)[::-1][:k].mean()


def margins(
    src: Side, tgt: Side, i: int, sizes: Sequence[int], j: np.ndarray, b: int
) -> np.ndarray:
    """margin(S, T) of the beads [i - a, i) x [j - b, j), for one row i, columns j and
    each source size a in ``sizes``: an array of shape (len(j), len(sizes)).

    One matrix product compares the target spans of size b ending around j with the
    source spans of each size a ending at i - a, i and i + a (the bead and its
    neighbours on the source side); the target neighbours are the same product
    read off at j - b and j + b.
    """
    start, stop = max(int(j[0]) - b, 0), min(int(j[-1]) + b, tgt.n) + 1
    ends = [(a, end) for a in sizes for end in (i - a, i, i + a)]
    vecs = np.array([src.vec[a][min(max(end, 0), src.n)] for a, end in ends])
    cos = (tgt.vec[b][start:stop] @ vecs.reshape(-1, src.dim).T).reshape(-1, len(sizes), 3)
    here = cos[:, :, 1]
    # Neighbours: the same-size spans just before and after, on each side, where they exist.
    tgt_nbr, tgt_cnt = np.zeros((len(j), len(sizes))), np.zeros((len(j), 1))
    for shifted in (j - b, j + b):
        ok = ((shifted >= b) & (shifted <= tgt.n))[:, None]
        tgt_nbr += ok * here[np.minimum(np.maximum(shifted - start, 0), len(here) - 1)]
        tgt_cnt += ok
    a = np.array(sizes)
    src_ok = np.stack([(i - a >= a), (i + a <= src.n)], axis=1)  # (sizes, before/after)
    src_cnt = src_ok.sum(1)
    src_nbr = (cos[j - start][:, :, [0, 2]] * src_ok).sum(2) / np.maximum(src_cnt, 1)
    knn = np.array([src.knn[size][i] for size in sizes]) + tgt.knn[b][j][:, None]
    # The reference is the mean of the terms that exist: a bead spanning a whole short
    # document has no neighbours, and counting them as 0 would favour such beads.
    reference = tgt_nbr / np.maximum(tgt_cnt, 1) + src_nbr + knn
    return here[j - start] - reference / (2.0 + (tgt_cnt > 0) + (src_cnt > 0))


def length_factor(
    src: Side, tgt: Side, i: int, sizes: Sequence[int], j: np.ndarray, b: int, ratio: float
) -> np.ndarray:
    """log2(1 + min / max) of the two spans' lengths (target scaled by the ratio): 1 at par.

    Same shape as ``margins``.
    """
    s_len = np.array([src.length[a][i] for a in sizes])[None, :]
    t_len = ratio * tgt.length[b][j][:, None]
    return np.log2(1 + np.minimum(s_len, t_len) / np.maximum(np.maximum(s_len, t_len), 1e-9))


def _nearest(a: np.ndarray, b: np.ndarray, window: int, block: int = 256) -> np.ndarray:
    """For each row of ``a``, the index of its most similar row of ``b`` near the diagonal.

    Candidates of row i lie within ``window`` of i * len(b) / len(a), so cost is linear.
    """
    n, m = len(a), len(b)
    best = np.empty(n, dtype=np.int64)
    for start in range(0, n, block):
        end = min(start + block, n)
        lo = max(0, int(start * m / n) - window)
        hi = min(m, int(end * m / n) + window + 1)
        best[start:end] = lo + np.argmax(a[start:end] @ b[lo:hi].T, axis=1)
    return best


def length_ratio(src: Side, tgt: Side, window: int = 100) -> float:
    """Characters of source per character of target over mutual nearest sentence pairs.

    The overall ratio of the two documents is biased by what only one side has (a block
    of photo captions makes every merge look length-balanced); mutual best matches are
    translations, so their ratio is the language pair's.
    """
    s_emb, t_emb = src.vec[1][1:], tgt.vec[1][1:]
    to_tgt, to_src = _nearest(s_emb, t_emb, window), _nearest(t_emb, s_emb, window)
    mutual = np.flatnonzero(to_src[to_tgt] == np.arange(src.n))
    s_len, t_len = src.lengths[mutual].sum(), tgt.lengths[to_tgt[mutual]].sum()
    if len(mutual) < 3 or s_len <= 0 or t_len <= 0:
        return max(src.lengths.sum(), 1.0) / max(tgt.lengths.sum(), 1.0)
    return float(s_len / t_len)


def _logsumexp(x: np.ndarray) -> np.ndarray:
    """log sum exp over the last axis; -inf where every term is -inf."""
    top = x.max(axis=-1)
    finite = np.isfinite(top)
    out = np.full(top.shape, -np.inf)
    out[finite] = top[finite] + np.log(np.exp(x[finite] - top[finite, None]).sum(-1))
    return out


def band_dp(src: Side, tgt: Side, band: Band, params: AlignParams, ratio: float, posterior: bool):
    """Fill the banded DP and return the best path as (i, j, a, b) beads, in order, and
    (with ``posterior``) each path bead's log posterior probability, else None.

    The posterior treats exp(path value / temperature) as the unnormalised probability
    of a path (a linear-chain CRF over the same lattice): with F and B the forward and
    backward log sums over all partial paths into and out of a cell,

        log P(bead (i-a:i, j-b:j)) = F[i-a, j-b] + v / temperature + B[i, j] - F[n, m].

    A bead that a shifted boundary or another bead type nearly matches gets a low
    posterior even when its own margin is high, which the margin alone cannot show.
    """
    n = src.n
    width = band.hi - band.lo + 1
    score = [np.full(w, -np.inf) for w in width]
    back = [np.full(w, -1, dtype=np.int8) for w in width]
    score[0][0] = 0.0  # band.lo[0] == 0
    types = params.bead_types
    insert = params.insertion
    # Per target size, the source sizes it forms bead types with.
    src_sizes = {b: [a for a in sorted(src.vec) if (a, b) in types] for b in tgt.vec}
    temp = params.temperature
    forward = [np.full(w, -np.inf) for w in width] if posterior else []
    if posterior:
        forward[0][0] = 0.0
    rows: list[np.ndarray] = []  # per row: bead values by type, -inf where one cannot end
    for i in range(n + 1):
        lo, hi = band.lo[i], band.hi[i]
        j = np.arange(lo, hi + 1)
        best, arg = score[i], back[i]
        sizes = {b: [a for a in src_sizes[b] if a <= i] for b in src_sizes}
        # Bead values for every source size at once, per target size.
        values = {
            b: margins(src, tgt, i, by_b, j, b) * length_factor(src, tgt, i, by_b, j, b, ratio)
            for b, by_b in sizes.items()
            if by_b
        }
        # One column per bead type: its value, and the best (and summed) score of the
        # cell it starts from, so the maximum (and sum) over types is one reduction.
        row = np.full((len(j), len(types)), -np.inf)
        start = np.full((len(j), len(types)), -np.inf)
        start_sum = np.full((len(j), len(types)), -np.inf) if posterior else None
        for t, (a, b) in enumerate(types):
            if a > i or a == 0:
                continue
            prev_j = j - b
            plo, phi = band.lo[i - a], band.hi[i - a]
            ok = (prev_j >= plo) & (prev_j <= phi)
            row[ok, t] = params.skip if b == 0 else values[b][ok, sizes[b].index(a)]
            start[ok, t] = score[i - a][prev_j[ok] - plo]
            if posterior:
                start_sum[ok, t] = forward[i - a][prev_j[ok] - plo]
        total = start + row
        best_type = np.argmax(total, axis=1)  # the first of equal types, as before
        cand = total[np.arange(len(j)), best_type]
        better = cand > best
        best[better] = cand[better]
        arg[better] = best_type[better]
        if posterior:
            forward[i] = np.logaddexp(forward[i], _logsumexp(start_sum + row / temp))
        if insert is not None:
            # Insertions stay in row i, so they chain: best[j] = max_{k < j} best[k] +
            # skip * (j - k), a running maximum of best[k] - skip * k. Comparing only
            # with k < j keeps rounding from turning a cell into its own predecessor.
            run = np.maximum.accumulate(best - params.skip * j) + params.skip * j
            chained = np.concatenate([[-np.inf], run[:-1] + params.skip])
            better = chained > best
            best[better] = chained[better]
            arg[better] = insert
            row[1:, insert] = params.skip
            if posterior:
                # The same chain summed: F[j] = log sum_{k <= j} exp(F0[k] + s (j - k) / T).
                step = params.skip / temp
                forward[i] = np.logaddexp.accumulate(forward[i] - step * j) + step * j
        if posterior:
            rows.append(row)
    # Trace back from (n, m).
    path = []
    i, j = n, tgt.n
    while i > 0 or j > 0:
        t = back[i][j - band.lo[i]]
        if t < 0:
            raise RuntimeError("alignment band does not reach the end")
        a, b = types[t]
        path.append((i - a, j - b, a, b))
        i, j = i - a, j - b
    path.reverse()
    if not posterior:
        return path, None
    backward = _backward(rows, band, params, tgt.n)
    total = forward[n][tgt.n - band.lo[n]]
    log_post = [
        forward[i][j - band.lo[i]]
        + rows[i + a][j + b - band.lo[i + a], types.index((a, b))] / temp
        + backward[i + a][j + b - band.lo[i + a]]
        - total
        for i, j, a, b in path
    ]
    return path, log_post


def _backward(rows: list[np.ndarray], band: Band, params: AlignParams, m: int) -> list[np.ndarray]:
    """B[i, j] = log sum over partial paths from (i, j) to (n, m) of exp(value / T), given
    ``band_dp``'s bead values of rows 0..n."""
    n, types, temp = len(rows) - 1, params.bead_types, params.temperature
    backward = [np.full(len(row), -np.inf) for row in rows]
    backward[n][m - band.lo[n]] = 0.0
    insert = params.insertion
    for i in range(n, -1, -1):
        j = np.arange(band.lo[i], band.hi[i] + 1)
        terms = np.full((len(j), len(types)), -np.inf)
        for t, (a, b) in enumerate(types):
            if a == 0 or i + a > n:
                continue
            next_j = j + b
            nlo, nhi = band.lo[i + a], band.hi[i + a]
            ok = (next_j >= nlo) & (next_j <= nhi)
            at = next_j[ok] - nlo
            terms[ok, t] = rows[i + a][at, t] / temp + backward[i + a][at]
        here = np.logaddexp(backward[i], _logsumexp(terms))
        if insert is not None:
            # B[j] = log sum_{k >= j} exp(B0[k] + s (k - j) / T), a reversed running sum.
            step = params.skip / temp
            here = (np.logaddexp.accumulate((here + step * j)[::-1]) - step * j[::-1])[::-1]
        backward[i] = here
    return backward


def _coarse(side: Side) -> Side:
    """Halve the resolution: length-weighted sums of neighbouring sentence pairs."""
    emb, lengths = side.vec[1][1:] * side.lengths[:, None], side.lengths
    if side.n % 2:
        emb = np.vstack([emb, np.zeros((1, side.dim), np.float32)])
        lengths = np.concatenate([lengths, [0.0]])
    emb = emb.reshape(-1, 2, side.dim).sum(1)
    return Side(normalise(emb), lengths.reshape(-1, 2).sum(1), list(side.vec))


def search(src: Side, tgt: Side, params: AlignParams, ratio: float, posterior: bool):
    if src.n * tgt.n <= params.max_full_cells or min(src.n, tgt.n) < 4:
        band = Band.full(src.n, tgt.n)
    else:
        coarse, _ = search(_coarse(src), _coarse(tgt), params, ratio, posterior=False)
        path = [(2 * i, 2 * j) for i, j, _, _ in coarse] + [(src.n, tgt.n)]
        band = Band.around(path, src.n, tgt.n, params.band)
    knn_in_band(src, tgt, band, params.knn)
    return band_dp(src, tgt, band, params, ratio, posterior)
