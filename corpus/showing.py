"""Terminal view of a build: aligned sentences side by side with their scores."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from rich.table import Table

from corpus.errors import CorpusError
from corpus.exporting import iter_pairs

# Scripts written right to left: wrapped in Unicode isolates (FSI ... PDI) so a
# right-to-left cell cannot reorder the columns around it in a bidi terminal.
RTL_LANGS = {"ar", "fa", "he", "ur", "ps", "yi", "dv", "ckb", "sd", "ug"}


def _isolate(text: str, lang: str) -> str:
    return f"\u2068{text}\u2069" if lang in RTL_LANGS else text


def pair_names(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "data").iterdir() if p.is_dir() and p.name != "multiway")


def show_table(
    out: Path,
    pair: str | None = None,
    article_id: str | None = None,
    min_score: float = 0.0,
    limit: int = 50,
) -> Table:
    """A rich table of the first ``limit`` rows of one pair config, filtered."""
    pairs = pair_names(out) if (out / "data").is_dir() else []
    if not pairs:
        raise CorpusError(f"{out}: not a corpus build (no data/<pair> folders)")
    pair = pair or pairs[0]
    if pair not in pairs:
        raise CorpusError(f"{out}: no pair {pair} (available: {', '.join(pairs)})")
    la, lb = pair.split("-")
    rows = islice(
        (
            (a, b, score, align_type)
            for a, b, score, art, align_type in iter_pairs(out, pair)
            if score >= min_score and article_id in (None, art)
        ),
        limit,
    )
    rows = list(rows)
    table = Table(title=f"{pair} ({len(rows)} rows shown)", show_lines=True)
    table.add_column(la, ratio=1, overflow="fold")
    table.add_column(lb, ratio=1, overflow="fold")
    table.add_column("score", justify="right")
    table.add_column("type")
    for a, b, score, align_type in rows:
        table.add_row(_isolate(a, la), _isolate(b, lb), f"{score:.2f}", align_type)
    return table
