"""Filters between alignment and writing: pure functions over the rows of one language pair.

Each filter keeps or drops whole rows of a pair table (``writing.bead_schema``) and
`filter_pairs` reports how many rows each one removed, for the summary and the card.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa

from corpus.langid import detect_text

# Sentence-final punctuation across scripts: Latin, Arabic question mark, Devanagari danda,
# ellipsis, closing quotes and brackets after a full stop.
_FINAL = re.compile(r"[.!?؟।॥…:;][\"'»\u201d\u2019)\]]*$")
_MAX_BOILERPLATE_WORDS = 4
# A short line repeated in this many articles is a template (bylines, footers), not content.
_REPEATED_ARTICLES = 3
# Language identification is unreliable on very short text.
_MIN_LANGID_CHARS = 20


@dataclass(frozen=True)
class FilterOptions:
    min_score: float = 0.0
    length_ratio: tuple[float, float] = (1 / 3, 3.0)  # bounds of len(first) / len(second)
    drop_duplicates: bool = True
    drop_boilerplate: bool = True
    drop_untranslated: bool = True


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def is_short_non_sentence(text: str) -> bool:
    """A few words without sentence-final punctuation: footers, captions, counters, bylines."""
    return len(text.split()) <= _MAX_BOILERPLATE_WORDS and not _FINAL.search(text.strip())


def repeated_lines(texts: list[str], article_ids: list[str]) -> set[str]:
    """Normalised short texts that occur in several articles."""
    articles: dict[str, set[str]] = {}
    for text, article_id in zip(texts, article_ids, strict=True):
        if len(text.split()) <= 2 * _MAX_BOILERPLATE_WORDS:
            articles.setdefault(_norm(text), set()).add(article_id)
    return {text for text, ids in articles.items() if len(ids) >= _REPEATED_ARTICLES}


def is_untranslated(a: str, b: str, lang_b: str) -> bool:
    """Both sides identical, or the second side is not in its language but in the first's."""
    if _norm(a) == _norm(b):
        return True
    if len(b) < _MIN_LANGID_CHARS:
        return False
    guess_b = detect_text(b)[0]
    return guess_b != lang_b and guess_b == detect_text(a)[0]


def length_ratio(a: str, b: str) -> float:
    return max(len(a), 1) / max(len(b), 1)


def filter_pairs(
    table: pa.Table, langs: tuple[str, str], options: FilterOptions
) -> tuple[pa.Table, Counter[str]]:
    """Rows that pass every filter, and how many rows each filter removed (first match counts)."""
    la, lb = langs
    lo, hi = options.length_ratio
    translation = table.column("translation").combine_chunks()
    texts_a, texts_b = translation.field(la).to_pylist(), translation.field(lb).to_pylist()
    articles = table.column("article_id").to_pylist()
    repeated = (repeated_lines(texts_a, articles), repeated_lines(texts_b, articles))
    removed: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    keep = []
    for a, b, score in zip(texts_a, texts_b, table.column("score").to_pylist(), strict=True):
        reason = None
        if score < options.min_score:
            reason = "score"
        elif options.drop_boilerplate and (
            is_short_non_sentence(a)
            or is_short_non_sentence(b)
            or _norm(a) in repeated[0]
            or _norm(b) in repeated[1]
        ):
            reason = "boilerplate"
        elif not lo <= length_ratio(a, b) <= hi:
            reason = "length ratio"
        elif options.drop_untranslated and (is_untranslated(a, b, lb) or is_untranslated(b, a, la)):
            reason = "untranslated"
        elif options.drop_duplicates and (_norm(a), _norm(b)) in seen:
            reason = "duplicate"
        else:
            seen.add((_norm(a), _norm(b)))
        if reason:
            removed[reason] += 1
        keep.append(reason is None)
    return table.filter(pa.array(keep, pa.bool_())), removed
