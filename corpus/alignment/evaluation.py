"""Strict and lax precision/recall/F1 for sentence alignments.

Implements the standard definition used by Vecalign's ``score.py`` and Bertalign's ``eval.py``
(see ``benchmarks/README.md``), so that our numbers are comparable with published ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.records import BeadIds, parse_beads


def read_beads(path: Path) -> list[BeadIds]:
    """Read one document's beads from a ``.defr``-style file."""
    try:
        return parse_beads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class AlignmentScores:
    strict: PRF
    lax: PRF
    # Beads after cleaning (empty beads dropped, duplicates once), null beads included.
    n_test_beads: int
    n_gold_beads: int


def _links(beads: Iterable[BeadIds]) -> set[tuple[int, int]]:
    return {(s, t) for src, tgt in beads for s in src for t in tgt}


def _match_counts(candidates: set[BeadIds], reference: set[BeadIds]) -> tuple[int, int]:
    """Count candidates found in reference exactly (strict) and exactly or by a link (lax)."""
    ref_links = _links(reference)
    strict = lax = 0
    for bead in candidates:
        if bead in reference:
            strict += 1
            lax += 1
        elif not _links([bead]).isdisjoint(ref_links):
            lax += 1
    return strict, lax


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _prf(precision: float, recall: float) -> PRF:
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1)


def score_alignments(
    gold: Sequence[list[BeadIds]], test: Sequence[list[BeadIds]]
) -> AlignmentScores:
    """Score test beads against gold beads, one list per document, micro-averaged over beads."""
    if len(gold) != len(test):
        raise ValueError(f"{len(gold)} gold documents but {len(test)} test documents")
    p_strict = p_lax = n_test = 0
    r_strict = r_lax = n_recall = 0
    n_gold = 0
    for gold_doc, test_doc in zip(gold, test, strict=True):
        # Sets make repeated beads count once; beads with both sides empty carry no alignment.
        gold_set = {bead for bead in gold_doc if bead[0] or bead[1]}
        test_set = {bead for bead in test_doc if bead[0] or bead[1]}
        strict, lax = _match_counts(test_set, gold_set)
        p_strict, p_lax, n_test = p_strict + strict, p_lax + lax, n_test + len(test_set)
        # Recall ignores insertions and deletions: they are dropped from both sides.
        gold_full = {bead for bead in gold_set if bead[0] and bead[1]}
        test_full = {bead for bead in test_set if bead[0] and bead[1]}
        strict, lax = _match_counts(gold_full, test_full)
        r_strict, r_lax, n_recall = r_strict + strict, r_lax + lax, n_recall + len(gold_full)
        n_gold += len(gold_set)
    return AlignmentScores(
        strict=_prf(_ratio(p_strict, n_test), _ratio(r_strict, n_recall)),
        lax=_prf(_ratio(p_lax, n_test), _ratio(r_lax, n_recall)),
        n_test_beads=n_test,
        n_gold_beads=n_gold,
    )
