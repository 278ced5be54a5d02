"""Terminal view of a build: aligned sentences side by side with their scores."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from rich.table import Table
from rich.text import Text

from corpus.exporting import iter_pairs, pair_names

# Scripts written right to left: wrapped in Unicode isolates (FSI ... PDI) so a
# right-to-left cell cannot reorder the columns around it in a bidi terminal.
RTL_LANGS = {"ar", "fa", "he", "ur", "ps", "yi", "dv", "ckb", "sd", "ug"}


def _isolate(text: str, lang: str) -> str:
    return f"\u2068{text}\u2069" if lang in RTL_LANGS else text


def show_table(
    out: Path,
    pair: str | None = None,
    article_id: str | None = None,
    min_score: float = 0.0,
    limit: int = 50,
) -> Table:
    """A rich table of the first ``limit`` rows of one pair config, filtered.

    UsageError for a folder that is not a build or a pair it does not hold.
    """
    pair = pair or pair_names(out)[0]
    pairs = iter_pairs(out, pair)
    la, lb = pair.split("-")
    rows = islice(
        (
            (a, b, score, align_type)
            for a, b, score, art, align_type in pairs
            if score >= min_score and article_id in (None, art)
        ),
        limit,
    )
    rows = list(rows)
    # Text objects, never markup strings: a corpus holds "[sic]" and "[/url]" as text.
    table = Table(title=Text(f"{pair} ({len(rows)} rows shown)"), show_lines=True)
    table.add_column(Text(la), ratio=1, overflow="fold")
    table.add_column(Text(lb), ratio=1, overflow="fold")
    table.add_column("score", justify="right")
    table.add_column("type")
    for a, b, score, align_type in rows:
        table.add_row(
            Text(_isolate(a, la)), Text(_isolate(b, lb)), f"{score:.2f}", Text(align_type)
        )
    return table
