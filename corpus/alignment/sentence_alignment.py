"""Sentence alignment of two documents: the DP over bead types (``corpus.alignment.dp``: the
maths), then the passes that refine its path, in order:

1. ``search``: coarse-to-fine DP on span embeddings made from sentence embeddings;
2. with a ``JoinedEmbedder``, the spans the first path proposes as merges are embedded as
   joined text (``_merge_candidates``) and the DP runs again in a band around the path;
3. ``_absorb_fragments``: an unaligned fragment joins its neighbouring bead when that makes
   the bead a better translation;
4. each bead is scored: a logistic function of its margin, length balance and posterior.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from corpus.alignment.dp import (
    AlignParams,
    Band,
    Side,
    band_dp,
    knn_in_band,
    length_factor,
    length_ratio,
    margins,
    search,
)
from corpus.embedding.encoder import Encoder
from corpus.records import Bead

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
    (often the missing part of a 1-2 bead), joined with either neighbour. About 0.2
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


def _fit(src: Side, tgt: Side, bead: tuple[int, int, int, int], ratio: float) -> tuple:
    """Raw cosine and length factor of one bead (i, j, a, b), both sides non-empty."""
    i, j, a, b = bead
    cos = float(src.vec[a][i + a] @ tgt.vec[b][j + b])
    length = float(length_factor(src, tgt, i + a, [a], np.array([j + b]), b, ratio)[0, 0])
    return cos, length


def _absorb_fragments(
    src: Side,
    tgt: Side,
    path: list[tuple[int, int, int, int]],
    log_post: list[float],
    params: AlignParams,
    ratio: float,
) -> tuple[list[tuple[int, int, int, int]], list[float]]:
    """Join each unaligned sentence to a neighbouring bead when that makes the bead a better
    translation: its cosine rises and its lengths balance no worse.

    A sentence cut in two (after an abbreviation, an ellipsis, a section number) leaves a
    fragment whose content is in the neighbour's counterpart. The DP weighs the join by
    margin, and a longer span's margin is lowered by its higher cosines with every
    neighbouring span, so it can prefer leaving the fragment alone at the cost of ``skip``;
    the raw cosine against the same counterpart has no such bias. An unrelated sentence
    dilutes the cosine and stays alone. The joined bead keeps its neighbour's posterior.
    """
    types = set(params.bead_types)
    path, log_post = list(path), list(log_post)
    k = 0
    while k < len(path):
        i, j, a, b = path[k]
        if (a, b) not in ((1, 0), (0, 1)):
            k += 1
            continue
        best = None
        for n in (k - 1, k + 1):
            if not 0 <= n < len(path) or not (path[n][2] and path[n][3]):
                continue
            ni, nj, na, nb = path[n]
            joined = (min(i, ni), min(j, nj), na + a, nb + b)
            if (na + a, nb + b) not in types:
                continue
            (cos0, len0), (cos1, len1) = (
                _fit(src, tgt, path[n], ratio),
                _fit(src, tgt, joined, ratio),
            )
            if cos1 > cos0 and len1 >= len0 and (best is None or cos1 - cos0 > best[0]):
                best = (cos1 - cos0, n, joined)
        if best is None:
            k += 1
            continue
        _, n, joined = best
        first = min(k, n)
        path[first : first + 2] = [joined]
        log_post[first : first + 2] = [log_post[n]]
        k = first + 1
    return path, log_post


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
    # The products here are small: BLAS threads cost more than they give (3x slower on
    # two busy cores), and the build runs one aligner per core.
    with threadpool_limits(1, user_api="blas"):
        return _align(src_emb, tgt_emb, src_lengths, tgt_lengths, params, joined)


def _align(
    src_emb: np.ndarray,
    tgt_emb: np.ndarray,
    src_lengths: Sequence[int] | np.ndarray,
    tgt_lengths: Sequence[int] | np.ndarray,
    params: AlignParams | None,
    joined: JoinedEmbedder | None,
) -> list[Bead]:
    params = params or AlignParams()
    n, m = len(src_emb), len(tgt_emb)
    if n == 0 or m == 0:
        return [Bead((i,), (), 0.0) for i in range(n)] + [Bead((), (j,), 0.0) for j in range(m)]
    types = params.bead_types
    src = Side(np.asarray(src_emb), np.asarray(src_lengths), [1] + [a for a, _ in types if a])
    tgt = Side(np.asarray(tgt_emb), np.asarray(tgt_lengths), [1] + [b for _, b in types if b])
    ratio = length_ratio(src, tgt)
    path, log_post = search(src, tgt, params, ratio, posterior=joined is None)
    if joined is not None:
        for side, name, k in ((src, "src", 0), (tgt, "tgt", 1)):
            spans = _merge_candidates(path, k, side.n, params)
            if spans:
                side.add_joined(spans, joined(name, spans))
        corners = [(i, j) for i, j, _, _ in path] + [(n, m)]
        band = Band.around(corners, n, m, params.band)
        knn_in_band(src, tgt, band, params.knn)
        path, log_post = band_dp(src, tgt, band, params, ratio, posterior=True)
    path, log_post = _absorb_fragments(src, tgt, path, log_post, params, ratio)
    beads = []
    for (i, j, a, b), log_p in zip(path, log_post, strict=True):
        score = 0.0
        if a and b:
            end = np.array([j + b])
            margin = float(margins(src, tgt, i + a, [a], end, b)[0, 0])
            length = float(length_factor(src, tgt, i + a, [a], end, b, ratio)[0, 0])
            # log(1 - P) from log P without cancellation; P = 1 to machine precision is
            # capped at 1 - 1e-9.
            doubt = math.log(max(-math.expm1(min(log_p, 0.0)), 1e-9))
            logit = (
                params.score_bias
                + params.score_margin * margin
                + params.score_length * length
                + params.score_doubt * doubt
            )
            score = 1.0 / (1.0 + math.exp(-logit))
        beads.append(Bead(tuple(range(i, i + a)), tuple(range(j, j + b)), score))
    return beads
