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
from collections.abc import Iterable, Iterator
from itertools import islice, zip_longest
from pathlib import Path

import wcwidth

from corpus.outputs.exports import MULTIWAY, iter_multiway, iter_pairs, multiway_langs, pair_names

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


def _table(name: str, langs: list[str], rows: list[tuple[list[str], float, str]], width: int):
    """The rows of config ``name`` laid out in a column per language of ``langs`` (two for a
    pair config, those of the tuples shown for the multiway one), then score and type."""
    n, gaps = len(langs), (len(langs) + 1) * len(SEPARATOR)
    text_width = max(MIN_TEXT_WIDTH, (width - SCORE_WIDTH - TYPE_WIDTH - gaps) // n)
    rule = "─" * (n * text_width + SCORE_WIDTH + TYPE_WIDTH + gaps)

    def line(texts: Iterable[str], score: str, kind: str) -> str:
        cells = [*texts, score.rjust(SCORE_WIDTH), kind.ljust(TYPE_WIDTH)]
        return SEPARATOR.join(cells).rstrip()

    out = [f"{name} ({len(rows)} rows shown)", rule]
    out.append(line([wcwidth.ljust(lang, text_width) for lang in langs], "score", "type"))
    out.append(rule)
    blank = " " * text_width
    for texts, score, kind in rows:
        columns = [_cell_lines(text, text_width) for text in texts]
        for k, cells in enumerate(zip_longest(*columns, fillvalue=blank)):
            out.append(line(cells, f"{score:.2f}" if k == 0 else "", kind if k == 0 else ""))
        out.append(rule)
    return out


def _rows(out: Path, name: str) -> tuple[list[str], Iterator[tuple[list[str], float, str, str]]]:
    """The languages of config ``name`` and its rows as (texts, score, type, article id):
    a pair in either order, or the multiway config (a blank text where a tuple has none)."""
    if name != MULTIWAY:
        rows = iter_pairs(out, name)
        return name.split("-"), (([r.a, r.b], r.score, r.align_type, r.article_id) for r in rows)
    langs = multiway_langs(out)
    return langs, (
        ([t.texts[lang] or "" for lang in langs], t.score, t.align_type, t.article_id)
        for t in iter_multiway(out)
    )


def show_text(
    out: Path,
    pair: str | None = None,
    article_id: str | None = None,
    min_score: float = 0.0,
    limit: int = 50,
    width: int = 120,
) -> str:
    """Side-by-side view of the first ``limit`` rows (score >= ``min_score``, of one article
    if ``article_id``) of one config (a pair in either order, or ``multiway``), or of every
    pair config when ``pair`` is None, laid out to ``width`` terminal cells. UsageError for a
    folder that is not a build or a config it does not hold (naming the pairs there are)."""
    lines: list[str] = []
    for name in [pair] if pair else pair_names(out):
        langs, rows = _rows(out, name)
        chosen = list(
            islice(
                (
                    (texts, score, kind)
                    for texts, score, kind, article in rows
                    if score >= min_score and article_id in (None, article)
                ),
                limit,
            )
        )
        if name == MULTIWAY:  # only the languages of the tuples shown
            shown = [k for k in range(len(langs)) if any(texts[k] for texts, _, _ in chosen)]
            langs = [langs[k] for k in shown]
            chosen = [([texts[k] for k in shown], score, kind) for texts, score, kind in chosen]
        lines += [*_table(name, langs, chosen, width), ""]
    return "\n".join(lines)
