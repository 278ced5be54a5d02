"""Strict and lax precision/recall/F1 for sentence alignments.

Implements the standard definition used by Vecalign's ``score.py`` and Bertalign's ``eval.py``
(see ``benchmarks/README.md``), so that our numbers are comparable with published ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

Bead = tuple[tuple[int, ...], tuple[int, ...]]

_INDEX_LIST = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)?\s*\]")


def _parse_indices(field: str) -> tuple[int, ...] | None:
    match = _INDEX_LIST.fullmatch(field.strip())
    if match is None:
        return None
    return tuple(int(i) for i in match.group(1).split(",")) if match.group(1) else ()


def parse_beads(text: str) -> list[Bead]:
    """Parse ``[src ids]:[tgt ids]`` lines, one bead per line, 0-based indices.

    A third ``:score`` field (aligner output) is ignored. Blank lines are skipped. Beads are
    returned as written: cleaning (empty beads, duplicates) is the scorer's job.
    """
    beads: list[Bead] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(":")
        src = _parse_indices(fields[0])
        tgt = _parse_indices(fields[1]) if len(fields) > 1 else None
        if src is None or tgt is None or len(fields) > 3:
            raise ValueError(f"line {lineno}: expected '[src ids]:[tgt ids][:score]', got {line!r}")
        beads.append((src, tgt))
    return beads


def read_beads(path: Path) -> list[Bead]:
    """Read one document's beads from a ``.defr``-style file."""
    try:
        return parse_beads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


def format_bead(bead: Bead, score: float | None = None) -> str:
    """Format a bead as ``[0]:[0, 1]`` or, with a score, ``[0]:[0, 1]:0.87``."""
    src, tgt = bead
    text = f"{list(src)}:{list(tgt)}"
    return text if score is None else f"{text}:{score}"


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


def _links(beads: Iterable[Bead]) -> set[tuple[int, int]]:
    return {(s, t) for src, tgt in beads for s in src for t in tgt}


def _match_counts(candidates: set[Bead], reference: set[Bead]) -> tuple[int, int]:
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


def score_alignments(gold: Sequence[list[Bead]], test: Sequence[list[Bead]]) -> AlignmentScores:
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
