import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.alignment.dp import AlignParams, Side, length_ratio
from corpus.alignment.multiway import multiway
from corpus.alignment.sentence_alignment import _absorb_fragments, align
from corpus.embedding.backend import normalise
from corpus.records import Bead

DIM = 64


def synthetic(pattern: list[tuple[int, int]], seed: int = 0):
    """Embeddings and lengths whose true alignment is ``pattern`` (bead sizes, in order)."""
    rng = np.random.default_rng(seed)
    src, tgt, src_len, tgt_len, expected = [], [], [], [], []
    for a, b in pattern:
        if a == 0 or b == 0:  # insertion/deletion: unrelated content on one side
            for _ in range(a):
                src.append(rng.normal(size=DIM))
                src_len.append(60)
            for _ in range(b):
                tgt.append(rng.normal(size=DIM))
                tgt_len.append(60)
        else:
            # k meanings expressed as a sentences on one side and b on the other.
            parts = rng.normal(size=(max(a, b), DIM))
            for side, count, lengths in ((src, a, src_len), (tgt, b, tgt_len)):
                for chunk in np.array_split(parts, count):
                    side.append(chunk.sum(0) + 0.15 * rng.normal(size=DIM))
                    lengths.append(60 * len(chunk))
        expected.append((a, b))
    s, t = normalise(np.array(src)), normalise(np.array(tgt))
    return s.astype(np.float32), t.astype(np.float32), src_len, tgt_len


def bead_sizes(beads: list[Bead]) -> list[tuple[int, int]]:
    return [(len(b.src), len(b.tgt)) for b in beads]


def assert_covers(beads: list[Bead], n: int, m: int) -> None:
    assert [i for b in beads for i in b.src] == list(range(n))
    assert [j for b in beads for j in b.tgt] == list(range(m))


def test_recovers_known_one_to_many_and_insertions():
    pattern = [(1, 1), (1, 2), (1, 1), (2, 1), (1, 1), (0, 1), (1, 1), (1, 1), (1, 0), (1, 1)]
    s, t, ls, lt = synthetic(pattern)
    beads = align(s, t, ls, lt)
    assert bead_sizes(beads) == pattern
    assert_covers(beads, len(s), len(t))


def test_confidence_separates_translations_from_skips():
    pattern = [(1, 1)] * 5 + [(0, 1)] + [(1, 1)] * 5
    s, t, ls, lt = synthetic(pattern, seed=1)
    beads = align(s, t, ls, lt)
    assert all(b.score > 0.5 for b in beads if b.src and b.tgt)
    assert all(b.score == 0.0 for b in beads if not (b.src and b.tgt))


@pytest.mark.parametrize(
    "n,m", [(0, 0), (0, 3), (4, 0), (1, 1), (2, 7), (1, 6), (6, 1), (1, 12), (9, 1)]
)
def test_degenerate_sizes_cover_everything(n, m):
    rng = np.random.default_rng(n * 10 + m)
    s = normalise(rng.normal(size=(n, DIM))).astype(np.float32)
    t = normalise(rng.normal(size=(m, DIM))).astype(np.float32)
    beads = align(s, t, [50] * n, [50] * m)
    assert_covers(beads, n, m)


def test_runs_of_insertions_and_deletions():
    pattern = [(0, 1)] * 4 + [(1, 1)] * 3 + [(1, 0)] * 3 + [(1, 1)] * 2 + [(0, 1)] * 5
    s, t, ls, lt = synthetic(pattern, seed=3)
    beads = align(s, t, ls, lt)
    assert bead_sizes(beads) == pattern


def test_long_documents_use_the_band_and_stay_exact():
    # 700 x 710 cells exceed the full-DP limit, so this exercises coarse-to-fine search.
    pattern = ([(1, 1)] * 30 + [(1, 2)] + [(2, 1)] + [(0, 1)] * 2) * 20
    s, t, ls, lt = synthetic(pattern, seed=2)
    assert len(s) * len(t) > 250_000
    beads = align(s, t, ls, lt)
    assert bead_sizes(beads) == pattern


def test_multiway_joins_consistent_triangles_only():
    ab = [Bead((0,), (0,), 0.9), Bead((1,), (1,), 0.8), Bead((2,), (), 0.0)]
    ac = [Bead((0,), (0,), 0.7), Bead((1,), (1, 2), 0.6), Bead((2,), (3,), 0.9)]
    bc = [Bead((0,), (0,), 0.8), Bead((1,), (1, 2), 0.7)]
    tuples = multiway({("a", "b"): ab, ("a", "c"): ac, ("b", "c"): bc})
    assert [t.ids for t in tuples] == [
        {"a": (0,), "b": (0,), "c": (0,)},
        {"a": (1,), "b": (1,), "c": (1, 2)},
        {"a": (2,), "c": (3,)},
    ]
    assert tuples[0].score == pytest.approx((0.9 + 0.7 + 0.8) / 3)


def test_multiway_drops_inconsistent_components():
    # a0-b0 and b0-c0 but a0 is aligned to c1: the triangle does not close.
    ab = [Bead((0,), (0,), 0.9)]
    bc = [Bead((0,), (0,), 0.9)]
    ac = [Bead((0,), (1,), 0.9), Bead((), (0,), 0.0)]
    tuples = multiway({("a", "b"): ab, ("a", "c"): ac, ("b", "c"): bc})
    assert tuples == []


@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(0, 2**32 - 1),
    st.sampled_from([4, 16]),
)
def test_beads_are_monotonic_cover_everything_and_use_allowed_types(n, m, seed, dim):
    # Random unit vectors give random similarity matrices; lengths are random too.
    rng = np.random.default_rng(seed)
    s = normalise(rng.normal(size=(n, dim))).astype(np.float32)
    t = normalise(rng.normal(size=(m, dim))).astype(np.float32)
    beads = align(s, t, rng.integers(1, 300, n), rng.integers(1, 300, m))
    assert_covers(beads, n, m)  # in order, each sentence of both sides exactly once
    allowed = set(AlignParams().bead_types)
    assert all((len(b.src), len(b.tgt)) in allowed for b in beads)
    assert all(0.0 <= b.score <= 1.0 for b in beads)


def summed(src: np.ndarray, tgt: np.ndarray, calls: list[tuple[int, int]]):
    """A JoinedEmbedder standing in for the encoder: normalised sum of the members."""

    def embed(side: str, spans: list[tuple[int, int]]) -> np.ndarray:
        calls.extend(spans)
        emb = src if side == "src" else tgt
        return normalise(np.array([emb[a:b].sum(0) for a, b in spans]))

    return embed


def test_second_pass_embeds_few_spans_and_keeps_the_alignment():
    pattern = ([(1, 1)] * 8 + [(1, 2), (2, 1), (0, 1)]) * 4
    s, t, ls, lt = synthetic(pattern, seed=3)
    calls: list[tuple[int, int]] = []
    beads = align(s, t, ls, lt, joined=summed(s, t, calls))
    assert bead_sizes(beads) == pattern
    assert 0 < len(calls) <= 0.3 * (len(s) + len(t))
    assert all(2 <= b - a <= 3 for a, b in calls)


def test_second_pass_uses_the_real_embedding_of_joined_sentences():
    # Target 1 is half of a sentence: unlike the source on its own, but target 0 and 1
    # joined say what source 0 says. Only a real embedding of the join can show that.
    rng = np.random.default_rng(4)
    s = normalise(rng.normal(size=(3, DIM))).astype(np.float32)
    t = normalise(
        np.vstack([s[0] + 0.2 * rng.normal(size=DIM), rng.normal(size=DIM), s[1:]])
    ).astype(np.float32)
    # Source 0 is as long as targets 0 and 1 together.
    ls, lt = [100, 60, 60], [60, 80, 60, 60]
    assert bead_sizes(align(s, t, ls, lt)) == [(1, 1), (0, 1), (1, 1), (1, 1)]

    def joined(side: str, spans: list[tuple[int, int]]) -> np.ndarray:
        emb = s if side == "src" else t
        return np.array([s[0] if (side, a, b) == ("tgt", 0, 2) else emb[a] for a, b in spans])

    assert bead_sizes(align(s, t, ls, lt, joined=joined)) == [(1, 2), (1, 1), (1, 1)]


def test_length_ratio_comes_from_translations_not_from_untranslated_blocks():
    # 20 translations, source twice as long, then 30 short target-only lines (captions):
    # the overall character ratio is 2000 / 1600, the translations' ratio is 2.
    s, t, _, _ = synthetic([(1, 1)] * 20 + [(0, 1)] * 30, seed=5)
    src = Side(s, np.full(20, 100.0), [1])
    tgt = Side(t, np.array([50.0] * 20 + [20.0] * 30), [1])
    assert length_ratio(src, tgt) == pytest.approx(2.0)


def _brute_force_paths(n, m, types):
    """Every monotone path from (0, 0) to (n, m) as a list of (i, j, a, b) beads."""
    if (n, m) == (0, 0):
        return [[]]
    paths = []
    for a, b in types:
        if a <= n and b <= m:
            paths += [[*p, (n - a, m - b, a, b)] for p in _brute_force_paths(n - a, m - b, types)]
    return paths


def test_dp_finds_the_best_path_and_exact_posteriors_of_its_beads():
    # Small enough to enumerate every path: the DP's maximum and its forward-backward
    # posteriors must equal the brute-force ones.
    from corpus.alignment.dp import Band, band_dp, knn_in_band, length_factor, margins

    rng = np.random.default_rng(3)
    params = AlignParams(temperature=0.05)
    n, m = 3, 4
    src_emb = normalise(rng.normal(size=(n, 16)))
    tgt_emb = normalise(src_emb[[0, 1, 1, 2]] + 0.8 * rng.normal(size=(m, 16)))
    sizes_src = [1] + [a for a, _ in params.bead_types if a]
    sizes_tgt = [1] + [b for _, b in params.bead_types if b]
    src = Side(src_emb, np.array([30, 50, 40]), sizes_src)
    tgt = Side(tgt_emb, np.array([25, 20, 30, 45]), sizes_tgt)
    band = Band.full(n, m)
    knn_in_band(src, tgt, band, params.knn)
    path, log_post = band_dp(src, tgt, band, params, 1.0, posterior=True)

    def value(i, j, a, b):
        if a == 0 or b == 0:
            return params.skip
        end = np.array([j + b])
        return float(
            margins(src, tgt, i + a, [a], end, b)[0, 0]
            * length_factor(src, tgt, i + a, [a], end, b, 1.0)[0, 0]
        )

    paths = _brute_force_paths(n, m, params.bead_types)
    totals = np.array([sum(value(*bead) for bead in p) for p in paths])
    assert path == paths[int(np.argmax(totals))]
    weights = np.exp((totals - totals.max()) / params.temperature)
    for bead, lp in zip(path, log_post, strict=True):
        expected = sum(w for p, w in zip(paths, weights, strict=True) if bead in p) / weights.sum()
        assert np.exp(lp) == pytest.approx(expected, rel=1e-9)
    assert 0 < min(np.exp(log_post)) < 0.999  # the test would not see a wrong sum


def test_a_fragment_left_alone_is_joined_to_its_neighbour():
    rng = np.random.default_rng(3)
    meaning, tail, unrelated = rng.normal(size=(3, DIM))
    others = rng.normal(size=(2, DIM))
    # Source sentence 1 says meaning + tail; the target cut it in two (meaning | tail) and
    # has an unrelated sentence of its own after its last sentence.
    src = normalise(np.array([others[0], meaning + 0.5 * tail, others[1]]))
    tgt = normalise(np.array([others[0], meaning, tail, others[1], unrelated]))
    sizes = [1, 2, 3, 4]
    s = Side(src.astype(np.float32), np.array([60, 100, 60]), sizes)
    t = Side(tgt.astype(np.float32), np.array([60, 75, 25, 60, 60]), sizes)
    path = [(0, 0, 1, 1), (1, 1, 1, 1), (2, 2, 0, 1), (2, 3, 1, 1), (3, 4, 0, 1)]
    joined, log_post = _absorb_fragments(s, t, path, [0.0] * 5, AlignParams(), 1.0)
    assert joined == [(0, 0, 1, 1), (1, 1, 1, 2), (2, 3, 1, 1), (3, 4, 0, 1)]
    assert len(log_post) == len(joined)
