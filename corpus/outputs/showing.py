"""Terminal view of a build: aligned sentences side by side with their scores.

The layout is computed here, not by a rich table: widths are display cells as terminals draw
them, measured by wcwidth (grapheme clusters, Devanagari spacing vowel signs and conjuncts,
wide East Asian characters), so a row never runs past the terminal's width in any script.
Text is printed literally (no markup is interpreted). Each wrapped line holding right-to-left
letters is wrapped in Unicode isolates (FSI ... PDI, Unicode Bidirectional Algorithm, UAX #9),
so in a bidi terminal it cannot reorder the columns around it; its direction comes from its
own letters, not from a list of languages.
"""

from __future__ import annotations

import unicodedata
from itertools import islice, zip_longest
from pathlib import Path

import wcwidth

from corpus.outputs.exports import iter_pairs, pair_names

SEPARATOR = " │ "
SCORE_WIDTH, TYPE_WIDTH = 5, 5  # "0.97", "12-1"
MIN_TEXT_WIDTH = 12


def _isolate(line: str) -> str:
    """``line`` between FSI and PDI when it holds right-to-left letters (bidi class R or AL)."""
    if any(unicodedata.bidirectional(char) in ("R", "AL") for char in line):
        return f"\u2068{line}\u2069"
    return line


def _cell_lines(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` display cells (long words and unspaced scripts broken
    between grapheme clusters), each line padded to exactly ``width`` cells."""
    lines = wcwidth.wrap(" ".join(text.split()), width) or [""]
    return [wcwidth.ljust(_isolate(line), width) for line in lines]


def _table(pair: str, rows: list[tuple[str, str, float, str]], width: int) -> list[str]:
    la, lb = pair.split("-")
    text_width = max(MIN_TEXT_WIDTH, (width - SCORE_WIDTH - TYPE_WIDTH - 3 * len(SEPARATOR)) // 2)
    rule = "─" * (2 * text_width + SCORE_WIDTH + TYPE_WIDTH + 3 * len(SEPARATOR))

    def line(a: str, b: str, score: str, kind: str) -> str:
        cells = [a, b, score.rjust(SCORE_WIDTH), kind.ljust(TYPE_WIDTH)]
        return SEPARATOR.join(cells).rstrip()

    out = [f"{pair} ({len(rows)} rows shown)", rule]
    out.append(line(wcwidth.ljust(la, text_width), wcwidth.ljust(lb, text_width), "score", "type"))
    out.append(rule)
    for a, b, score, kind in rows:
        left, right = _cell_lines(a, text_width), _cell_lines(b, text_width)
        blank = " " * text_width
        for k, (x, y) in enumerate(zip_longest(left, right, fillvalue=blank)):
            out.append(line(x, y, f"{score:.2f}" if k == 0 else "", kind if k == 0 else ""))
        out.append(rule)
    return out


def show_text(
    out: Path,
    pair: str | None = None,
    article_id: str | None = None,
    min_score: float = 0.0,
    limit: int = 50,
    width: int = 120,
) -> str:
    """Side-by-side view of the first ``limit`` rows (score >= ``min_score``, of one article
    if ``article_id``) of one pair config, or of every pair config when ``pair`` is None,
    laid out to ``width`` terminal cells. UsageError for a folder that is not a build or a
    pair it does not hold (naming the pairs there are)."""
    lines: list[str] = []
    for name in [pair] if pair else pair_names(out):
        rows = islice(
            (
                (row.a, row.b, row.score, row.align_type)
                for row in iter_pairs(out, name)
                if row.score >= min_score and article_id in (None, row.article_id)
            ),
            limit,
        )
        lines += [*_table(name, list(rows), width), ""]
    return "\n".join(lines)
