"""Record types shared by the stages: beads, multi-way beads and the bead notation.

This module sits at the bottom of the package: stages import it, it imports no stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sentence ids of a bead's two sides, as gold files and ``corpus align --format beads`` write them.
BeadIds = tuple[tuple[int, ...], tuple[int, ...]]


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
class MultiBead:
    """Sentences of several languages that the pairwise alignments tie together."""

    ids: dict[str, tuple[int, ...]]  # language -> sentence indices in that language's file
    score: float  # mean confidence of the pairwise beads inside the tuple


_INDEX_LIST = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)?\s*\]")


def _parse_indices(field: str) -> tuple[int, ...] | None:
    match = _INDEX_LIST.fullmatch(field.strip())
    if match is None:
        return None
    return tuple(int(i) for i in match.group(1).split(",")) if match.group(1) else ()


def parse_beads(text: str) -> list[BeadIds]:
    """Parse ``[src ids]:[tgt ids]`` lines, one bead per line, 0-based indices.

    A third ``:score`` field (aligner output) is ignored. Blank lines are skipped. Beads are
    returned as written: cleaning (empty beads, duplicates) is the scorer's job.
    """
    beads: list[BeadIds] = []
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


def format_bead(bead: BeadIds, score: float | None = None) -> str:
    """Format a bead as ``[0]:[0, 1]`` or, with a score, ``[0]:[0, 1]:0.87``."""
    src, tgt = bead
    text = f"{list(src)}:{list(tgt)}"
    return text if score is None else f"{text}:{score}"
