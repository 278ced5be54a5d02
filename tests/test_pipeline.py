"""Tests for corpus.pipeline's own share of the work (the build as a whole: test_cli)."""


from corpus.pipeline import _fold_pair_probability
from corpus.records import Bead


def test_bead_scores_fold_in_the_probability_of_the_two_files():
    beads = {(0, 1): [Bead((0,), (0,), 0.97), Bead((1,), (), 0.0)]}
    folded = _fold_pair_probability(beads, [3, 1], {(1, 3): 0.4})  # files 3 and 1
    assert [b.score for b in folded[(0, 1)]] == [0.97 * 0.4, 0.0]
    assert [(b.src, b.tgt) for b in folded[(0, 1)]] == [((0,), (0,)), ((1,), ())]
