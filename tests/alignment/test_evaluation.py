"""Tests for corpus.alignment.evaluation against hand-computed strict/lax scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.alignment.evaluation import PRF, AlignmentScores, read_beads, score_alignments
from corpus.records import BeadIds, parse_beads
from tests.conftest import BENCHMARKS

GOLD_TEST0 = BENCHMARKS / "textberg" / "test0.defr"


def beads(text: str) -> list[BeadIds]:
    return parse_beads(text.replace(";", "\n"))


def score(gold: str, test: str) -> AlignmentScores:
    """Score a single document given as ';'-separated bead lines."""
    return score_alignments([beads(gold)], [beads(test)])


def assert_prf(actual: PRF, precision: float, recall: float, f1: float) -> None:
    # pytest.approx does not look inside dataclasses, so compare the fields as a tuple.
    assert (actual.precision, actual.recall, actual.f1) == pytest.approx((precision, recall, f1))


def test_read_beads_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "doc.defr"
    path.write_text("[0]:[0]\n[1]:[1]:0.5\n", encoding="utf-8")
    assert read_beads(path) == [((0,), (0,)), ((1,), (1,))]
    path.write_text("[0]:[0]\nnonsense\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"doc\.defr: line 2"):
        read_beads(path)


def test_strict_and_lax_precision_recall_f1() -> None:
    result = score("[0]:[0];[1]:[1, 2];[2]:[3]", "[0]:[0];[1]:[1];[1]:[2];[2]:[4]")
    # Precision: only [0]:[0] is exact; [1]:[1] and [1]:[2] share a link with [1]:[1, 2].
    # Recall: [0]:[0] is exact; [1]:[1, 2] shares links with test beads; [2]:[3] matches nothing.
    assert_prf(result.strict, 1 / 4, 1 / 3, 2 / 7)
    assert_prf(result.lax, 3 / 4, 2 / 3, 12 / 17)
    assert (result.n_test_beads, result.n_gold_beads) == (4, 3)


def test_null_test_bead_is_correct_only_if_the_same_null_bead_is_in_gold() -> None:
    result = score("[0]:[0];[]:[1];[1]:[]", "[0]:[0];[]:[1];[]:[2];[2]:[]")
    # []:[2] and [2]:[] are wrong even laxly: null beads have no links to share.
    assert_prf(result.strict, 2 / 4, 1, 2 / 3)
    assert_prf(result.lax, 2 / 4, 1, 2 / 3)


def test_null_test_bead_gets_no_lax_credit_for_sentences_in_a_gold_bead() -> None:
    result = score("[0]:[0, 1]", "[0]:[0];[]:[1]")
    assert_prf(result.strict, 0, 0, 0)
    assert_prf(result.lax, 1 / 2, 1, 2 / 3)


def test_null_beads_are_ignored_in_recall() -> None:
    # A missed gold insertion and a spurious test deletion both leave recall at 1.
    result = score("[0]:[0];[]:[1]", "[0]:[0];[1]:[]")
    assert_prf(result.strict, 1 / 2, 1, 2 / 3)
    assert (result.n_test_beads, result.n_gold_beads) == (2, 2)


def test_counts_are_micro_averaged_over_documents() -> None:
    small_gold, small_test = beads("[0]:[0]"), beads("[0]:[1]")
    big_gold = beads("[0]:[0];[1]:[1];[2]:[2]")
    result = score_alignments([small_gold, big_gold], [small_test, big_gold])
    # 3 of 4 beads are right overall; a mean of per-document scores would give (0 + 1) / 2.
    assert_prf(result.strict, 3 / 4, 3 / 4, 3 / 4)
    assert (result.n_test_beads, result.n_gold_beads) == (4, 4)


def test_repeated_beads_count_once() -> None:
    result = score("[0]:[0];[1]:[1];[0]:[0]", "[0]:[0];[0]:[0];[1]:[2]")
    assert_prf(result.strict, 1 / 2, 1 / 2, 1 / 2)
    assert (result.n_test_beads, result.n_gold_beads) == (2, 2)


def test_index_order_as_written_matters() -> None:
    result = score("[0, 1]:[0]", "[1, 0]:[0]")
    assert_prf(result.strict, 0, 0, 0)
    assert_prf(result.lax, 1, 1, 1)


def test_beads_empty_on_both_sides_are_dropped() -> None:
    result = score("[0]:[0];[]:[]", "[0]:[0];[]:[]")
    assert_prf(result.strict, 1, 1, 1)
    assert (result.n_test_beads, result.n_gold_beads) == (1, 1)


@pytest.mark.parametrize(
    ("gold", "test", "precision", "recall"),
    [
        ("", "", 0, 0),  # nothing to score at all
        ("[0]:[0]", "", 0, 0),  # no test beads: precision has denominator 0
        ("[]:[0]", "[]:[0]", 1, 0),  # only null beads: recall has denominator 0
    ],
)
def test_zero_denominators_give_zero(gold: str, test: str, precision: float, recall: float) -> None:
    result = score(gold, test)
    assert_prf(result.strict, precision, recall, 0)
    assert_prf(result.lax, precision, recall, 0)


def test_no_documents_scores_zero() -> None:
    result = score_alignments([], [])
    assert result == AlignmentScores(PRF(0, 0, 0), PRF(0, 0, 0), 0, 0)


def test_document_count_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="1 gold documents but 2 test documents"):
        score_alignments([[]], [[], []])


def test_real_gold_file_against_itself_and_a_perturbed_copy() -> None:
    if not GOLD_TEST0.parent.is_dir():
        pytest.skip(f"benchmark folder {GOLD_TEST0.parent} is absent")
    gold = read_beads(GOLD_TEST0)
    # test0 has 128 distinct beads, 18 of them null; its 2nd and 3rd beads are 1-1.
    assert len(gold) == 128 and sum(not (src and tgt) for src, tgt in gold) == 18
    assert gold[1:3] == [((1,), (2,)), ((2,), (3,))]

    perfect = score_alignments([gold], [gold])
    assert perfect.strict == PRF(1.0, 1.0, 1.0) and perfect.lax == PRF(1.0, 1.0, 1.0)

    merged = [*gold[:1], ((1, 2), (2, 3)), *gold[3:]]
    result = score_alignments([gold], [merged])
    # Precision: 126 of 127 test beads exact. Recall: 108 of 110 non-null gold beads exact.
    # F1 = 2 * 126 * 54 / (126 * 55 + 54 * 127) = 378 / 383. The 2-2 keeps every link: lax = 1.
    assert_prf(result.strict, 126 / 127, 108 / 110, 378 / 383)
    assert_prf(result.lax, 1, 1, 1)
    assert (result.n_test_beads, result.n_gold_beads) == (127, 128)
