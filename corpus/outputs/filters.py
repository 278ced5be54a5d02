"""Filters between alignment and writing: pure functions over the rows of one language pair.

Each filter keeps or drops whole rows of a pair table (``writing.bead_schema``) and
`filter_pairs` reports how many rows each one removed and the length-ratio bounds it
learned, for the summary and the card. Nothing here depends on a language, a script or a
punctuation list: sentence ends, word counts and scripts are Unicode properties
(``corpus.text.unicode_scripts``), length ratios are learned from the build's own confident beads.
"""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from corpus.text.langid import base_language, close_languages, detect_text
from corpus.text.unicode_scripts import ends_sentence, script_counts, word_count

_MAX_BOILERPLATE_WORDS = 4
# A short line repeated in this many articles is a template (bylines, footers), not content.
_REPEATED_ARTICLES = 3
# Language identification is unreliable on very short text.
_MIN_LANGID_CHARS = 20
# A sentence is "in the other language" only when the detector gives that language at
# least this probability.
_LANGID_CONFIDENT = 0.9
# Beyond CLDR: when the detector assigns the other side's language to more than this share
# of a pair's identifiable rows, it cannot tell the two apart on this data (Hindi/Nepali,
# Danish/Nynorsk): real untranslated rows are a few, not a fifth.
_CONFUSED_SHARE = 0.2
# Beads at or above this confidence teach the length ratio (README: 0.9 is exactly right for
# 95-99% of beads).
_CONFIDENT_SCORE = 0.9
# Fewer confident beads than this do not give a stable spread: the median of all beads is
# used, with the fallback half-width.
_MIN_RATIO_BEADS = 20
# Bounds: median log ratio +- max(_RATIO_SPREADS robust standard deviations, _MIN_HALF_WIDTH).
# Translations' log length ratios have a spread of 0.15-0.3; 5 of them keep 99.99% of a
# normal distribution, and log(2) keeps any pair within a factor 2 of the median.
_RATIO_SPREADS = 5.0
_MIN_HALF_WIDTH = math.log(2.0)
_FALLBACK_HALF_WIDTH = math.log(3.0)


@dataclass(frozen=True)
class FilterOptions:
    min_score: float = 0.0
    # Fixed bounds of len(first) / len(second); None: learned per pair (``learn_length_ratio``).
    length_ratio: tuple[float, float] | None = None
    drop_duplicates: bool = True
    drop_boilerplate: bool = True
    drop_untranslated: bool = True


@dataclass(frozen=True)
class LengthRatio:
    """Character-length ratio bounds of one pair: len(first) / len(second) in [low, high]."""

    median: float  # median ratio of the beads it was learned from
    spread: float  # robust standard deviation of the log ratio (1.4826 x MAD); 0 if fixed
    low: float
    high: float
    n_beads: int  # beads it was learned from; 0 when given by the user

    def describe(self) -> str:
        if self.n_beads == 0:
            return f"[{self.low:.3g}, {self.high:.3g}] (fixed by --length-ratio)"
        return (
            f"[{self.low:.3g}, {self.high:.3g}] (median {self.median:.3g}, spread of the log "
            f"ratio {self.spread:.3g}, from {self.n_beads} beads)"
        )


@dataclass(frozen=True)
class FilterReport:
    removed: Counter[str]  # rows removed per filter (first match counts)
    length_ratio: LengthRatio
    close_languages: bool  # language identification was not trusted between the two


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def is_short_non_sentence(text: str) -> bool:
    """A few words without sentence-final punctuation: footers, captions, counters, bylines.

    Words are counted per script (``scripts.word_count``: characters in scripts written
    without spaces); sentence-final punctuation is any Unicode Sentence_Terminal or
    Terminal_Punctuation character.
    """
    text = text.strip()
    return word_count(text) <= _MAX_BOILERPLATE_WORDS and not ends_sentence(text)


def repeated_lines(texts: list[str], article_ids: list[str]) -> set[str]:
    """Normalised short texts that occur in several articles."""
    articles: dict[str, set[str]] = {}
    for text, article_id in zip(texts, article_ids, strict=True):
        if word_count(text) <= 2 * _MAX_BOILERPLATE_WORDS:
            articles.setdefault(_norm(text), set()).add(article_id)
    return {text for text, ids in articles.items() if len(ids) >= _REPEATED_ARTICLES}


def length_ratio(a: str, b: str) -> float:
    return max(len(a), 1) / max(len(b), 1)


def learn_length_ratio(texts_a: list[str], texts_b: list[str], scores: list[float]) -> LengthRatio:
    """Length-ratio bounds of a language pair from its own confident beads.

    Median and robust spread (1.4826 x median absolute deviation) of log(len(a) / len(b))
    over beads scoring at least 0.9; bounds at the median +- max(5 spreads, log 2). With
    fewer than 20 confident beads, the median of all beads +- log 3 (the spread of a handful
    of beads says nothing). Chinese is about a third the length of English, Thai about as
    long, so one fixed range cannot serve every pair.
    """
    logs = [math.log(length_ratio(a, b)) for a, b in zip(texts_a, texts_b, strict=True)]
    confident = [x for x, s in zip(logs, scores, strict=True) if s >= _CONFIDENT_SCORE]
    if len(confident) >= _MIN_RATIO_BEADS:
        center = statistics.median(confident)
        spread = 1.4826 * statistics.median(abs(x - center) for x in confident)
        half, used = max(_RATIO_SPREADS * spread, _MIN_HALF_WIDTH), len(confident)
    elif logs:
        center = statistics.median(logs)
        spread = 1.4826 * statistics.median(abs(x - center) for x in logs)
        half, used = _FALLBACK_HALF_WIDTH, len(logs)
    else:
        return LengthRatio(1.0, 0.0, 1 / 3, 3.0, 0)
    return LengthRatio(
        math.exp(center), spread, math.exp(center - half), math.exp(center + half), used
    )


def main_scripts(texts: list[str]) -> set[str]:
    """Scripts (ISO 15924) that make up at least a tenth of the letters of ``texts``:
    Latn for English, Hani + Hira + Kana for Japanese."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(script_counts(text))
    total = sum(counts.values())
    return {script for script, n in counts.items() if n >= 0.1 * total}


def in_wrong_script(text: str, scripts: set[str]) -> bool:
    """True when nine in ten letters of ``text`` are outside its language's ``scripts``.

    Names and acronyms in Latin letters are a tenth of the letters of Thai, Khmer or
    Chinese news (ntrex-world), and can be most of one short sentence; a sentence with
    almost none of its language's letters is another language's.
    """
    counts = script_counts(text)
    total = sum(counts.values())
    return total > 0 and sum(counts[s] for s in scripts) < 0.1 * total


# One text's most likely language and its probability (``langid.detect_text``, or a stored
# answer of it).
Detect = Callable[[str], tuple[str, float]]


def _looks_like(text: str, lang: str, other: str, detect: Detect) -> bool:
    """The detector confidently says ``text`` (labelled ``lang``) is in ``other``."""
    if len(text) < _MIN_LANGID_CHARS:
        return False
    guess, prob = detect(text)
    own, foreign = base_language(lang), base_language(other)
    return prob >= _LANGID_CONFIDENT and guess != own and guess == foreign


def filter_pairs(
    table: pa.Table, langs: tuple[str, str], options: FilterOptions, detect: Detect = detect_text
) -> tuple[pa.Table, FilterReport]:
    """Rows that pass every filter, and what each filter removed and learned. ``detect``
    identifies one sentence's language (a build passes ``identification.SentenceLanguages``, which
    keeps the answers in the cache folder)."""
    la, lb = langs
    translation = table.column("translation").combine_chunks()
    texts_a, texts_b = translation.field(la).to_pylist(), translation.field(lb).to_pylist()
    scores = table.column("score").to_pylist()
    articles = table.column("article_id").to_pylist()
    if options.length_ratio is None:
        ratio = learn_length_ratio(texts_a, texts_b, scores)
    else:
        ratio = LengthRatio(1.0, 0.0, *options.length_ratio, 0)
    repeated = (repeated_lines(texts_a, articles), repeated_lines(texts_b, articles))
    scripts = (main_scripts(texts_a), main_scripts(texts_b))
    # Per-sentence language identification only between languages it can tell apart.
    other_language: list[bool] = []
    close = close_languages(la, lb)
    if options.drop_untranslated and not close:
        other_language = [
            _looks_like(b, lb, la, detect) or _looks_like(a, la, lb, detect)
            for a, b in zip(texts_a, texts_b, strict=True)
        ]
        judged = sum(len(a) >= _MIN_LANGID_CHARS for a in texts_a) or 1
        close = sum(other_language) > _CONFUSED_SHARE * judged
    removed: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    keep = []
    for k, (a, b, score) in enumerate(zip(texts_a, texts_b, scores, strict=True)):
        reason = None
        if score < options.min_score:
            reason = "score"
        elif options.drop_boilerplate and (
            # Shape alone is weak evidence: both sides must look like a caption or footer.
            (is_short_non_sentence(a) and is_short_non_sentence(b))
            or _norm(a) in repeated[0]
            or _norm(b) in repeated[1]
        ):
            reason = "boilerplate"
        elif not ratio.low <= length_ratio(a, b) <= ratio.high:
            reason = "length ratio"
        elif options.drop_untranslated and (
            _norm(a) == _norm(b)
            or in_wrong_script(a, scripts[0])
            or in_wrong_script(b, scripts[1])
            or (not close and other_language[k])
        ):
            reason = "untranslated"
        elif options.drop_duplicates and (_norm(a), _norm(b)) in seen:
            reason = "duplicate"
        else:
            seen.add((_norm(a), _norm(b)))
        if reason:
            removed[reason] += 1
        keep.append(reason is None)
    report = FilterReport(removed, ratio, close)
    return table.filter(pa.array(keep, pa.bool_())), report
