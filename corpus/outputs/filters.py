"""Filters between alignment and writing: pure functions over the rows of one language pair.

Each filter is declared once, in ``FILTERS``: the reason it reports, the ``corpus build``
option that controls it and its help (the CLI builds its options from this list), what it
removes and why (the dataset card's prose is generated from it), and its test of a row. It
keeps or drops whole rows of a pair table (``tables.bead_table``); ``filter_pairs`` runs the
filters in their order (the first that applies counts) and reports how many rows each one
removed and the length-ratio bounds it learned, for the summary and the card. A new filter
is one ``Filter`` in ``FILTERS`` and, where it needs one, a field of ``FilterOptions``.

Nothing here depends on a language, a script or a punctuation list: sentence ends, word
counts and scripts are Unicode properties (``corpus.text.unicode_scripts``), length ratios
are learned from the build's own confident beads.
"""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from corpus.robust import robust_scale
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
    max_chars: int | None = None  # longest side kept, in characters; None: no limit
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
        spread = robust_scale(confident)
        half, used = max(_RATIO_SPREADS * spread, _MIN_HALF_WIDTH), len(confident)
    elif logs:
        center = statistics.median(logs)
        spread = robust_scale(logs)
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
    from corpus.text.language_tags import base_language

    if len(text) < _MIN_LANGID_CHARS:
        return False
    guess, prob = detect(text)
    own, foreign = base_language(lang), base_language(other)
    return prob >= _LANGID_CONFIDENT and guess != own and guess == foreign


@dataclass
class PairRows:
    """One pair config's rows as the filters see them, with what they learn from all rows
    first (length-ratio bounds, repeated lines, main scripts, per-sentence languages)."""

    a: list[str]  # first language's side of each row
    b: list[str]
    scores: list[float]
    options: FilterOptions
    ratio: LengthRatio
    repeated: tuple[set[str], set[str]]  # normalised short lines repeated across articles
    scripts: tuple[set[str], set[str]]  # each language's main scripts
    close: bool  # per-sentence language identification does not separate the two
    other_language: list[bool]  # per row: a side confidently in the other language
    seen: set[tuple[str, str]] = field(default_factory=set)  # normalised rows kept so far


@dataclass(frozen=True)
class Filter:
    """A filter, declared once. ``option`` is the ``corpus build`` option that sets
    ``FilterOptions.<field>`` (``flag``: a ``--keep-...`` switch that turns the filter off;
    else a value of ``kind``, ``value`` turning the option's value into the field's);
    ``describe`` says in the card what it removes under the build's options; ``drops`` tests
    row ``k``."""

    reason: str  # what the summary and the card count its removals under
    option: str
    field: str
    help: str
    describe: Callable[[FilterOptions], str]
    drops: Callable[[PairRows, int], bool]
    kind: Any = bool  # the option's type; bool: a --keep-... flag
    default: Any = False  # the option's default
    limits: dict[str, Any] = field(default_factory=dict)  # typer.Option bounds (min, max)

    def value(self, option_value: Any) -> Any:
        """The ``FilterOptions`` field's value for the option's value."""
        return not option_value if self.kind is bool else option_value


def _kept(on: bool) -> str:
    return "removed" if on else "kept"


def _ratio_text(options: FilterOptions) -> str:
    if options.length_ratio is None:
        return (
            "character-length ratio (first / second language) within bounds learned per pair "
            f"from its beads scoring {_CONFIDENT_SCORE} or more (median of the log ratio +- "
            f"max({_RATIO_SPREADS:g} robust spreads, log 2))"
        )
    low, high = options.length_ratio
    return f"character-length ratio in [{low:.3g}, {high:.3g}]"


def _is_boilerplate(rows: PairRows, k: int) -> bool:
    a, b = rows.a[k], rows.b[k]
    # Shape alone is weak evidence: both sides must look like a caption or footer.
    return (
        (is_short_non_sentence(a) and is_short_non_sentence(b))
        or _norm(a) in rows.repeated[0]
        or _norm(b) in rows.repeated[1]
    )


def _is_untranslated(rows: PairRows, k: int) -> bool:
    a, b = rows.a[k], rows.b[k]
    return (
        _norm(a) == _norm(b)
        or in_wrong_script(a, rows.scripts[0])
        or in_wrong_script(b, rows.scripts[1])
        or (not rows.close and rows.other_language[k])
    )


def _is_duplicate(rows: PairRows, k: int) -> bool:
    return (_norm(rows.a[k]), _norm(rows.b[k])) in rows.seen


FILTERS = (
    Filter(
        "score", "--min-score", "min_score", "Drop pairs below this confidence.",
        lambda o: f"minimum score {o.min_score}",
        lambda rows, k: rows.scores[k] < rows.options.min_score,
        kind=float, default=0.0, limits={"min": 0.0, "max": 1.0},
    ),
    Filter(
        "too long", "--max-chars", "max_chars",
        "Drop pairs with a side longer than this many characters (default: no limit).",
        lambda o: f"pairs with a side over {o.max_chars} characters removed"
        if o.max_chars else "no maximum length",
        lambda rows, k: rows.options.max_chars is not None
        and max(len(rows.a[k]), len(rows.b[k])) > rows.options.max_chars,
        kind=int | None, default=None, limits={"min": 1},
    ),
    Filter(
        "boilerplate", "--keep-boilerplate", "drop_boilerplate",
        "Keep short non-sentences and lines repeated across articles.",
        lambda o: "boilerplate (both sides short lines without sentence-final punctuation, "
        f"words counted per script, or a side repeated in {_REPEATED_ARTICLES} or more "
        f"articles) {_kept(o.drop_boilerplate)}",
        lambda rows, k: rows.options.drop_boilerplate and _is_boilerplate(rows, k),
    ),
    Filter(
        "length ratio", "--length-ratio", "length_ratio",
        "Keep pairs whose character-length ratio lies in MIN MAX "
        "(default: bounds learned per language pair from its confident beads).",
        _ratio_text,
        lambda rows, k: not rows.ratio.low <= length_ratio(rows.a[k], rows.b[k]) <= rows.ratio.high,
        kind=tuple[float, float] | None, default=None,
    ),
    Filter(
        "untranslated", "--keep-untranslated", "drop_untranslated",
        "Keep pairs whose sides are identical or in one language.",
        lambda o: "untranslated pairs (identical after normalisation, a side in another "
        "script than its language, or a side confidently identified as the other language "
        f"where the two are not close neighbours) {_kept(o.drop_untranslated)}",
        lambda rows, k: rows.options.drop_untranslated and _is_untranslated(rows, k),
    ),
    Filter(
        "duplicate", "--keep-duplicates", "drop_duplicates", "Keep exact duplicate pairs.",
        lambda o: f"exact duplicate pairs {_kept(o.drop_duplicates)}",
        lambda rows, k: rows.options.drop_duplicates and _is_duplicate(rows, k),
    ),
)  # fmt: skip


def describe_filters(options: FilterOptions) -> str:
    """The filters of a build in words, in the order they run (the dataset card)."""
    return "; ".join(f.describe(options) for f in FILTERS)


def filter_pairs(
    table: pa.Table, langs: tuple[str, str], options: FilterOptions, detect: Detect | None = None
) -> tuple[pa.Table, FilterReport]:
    """Rows that pass every filter of ``FILTERS``, and what each filter removed (the first
    that applies counts) and learned. ``detect`` identifies one sentence's language
    (default ``langid.detect_text``; a build passes ``identification.SentenceLanguages``,
    which keeps the answers in the cache folder)."""
    rows = _pair_rows(table, langs, options, detect)
    removed: Counter[str] = Counter()
    keep = []
    for k in range(len(rows.a)):
        reason = next((f.reason for f in FILTERS if f.drops(rows, k)), None)
        if reason:
            removed[reason] += 1
        else:
            rows.seen.add((_norm(rows.a[k]), _norm(rows.b[k])))
        keep.append(reason is None)
    report = FilterReport(removed, rows.ratio, rows.close)
    return table.filter(pa.array(keep, pa.bool_())), report


def _pair_rows(
    table: pa.Table, langs: tuple[str, str], options: FilterOptions, detect: Detect | None
) -> PairRows:
    """What the filters learn from all of a pair's rows before judging any of them."""
    from corpus.text.langid import detect_text
    from corpus.text.language_tags import close_languages

    la, lb = langs
    translation = table.column("translation").combine_chunks()
    texts_a, texts_b = translation.field(la).to_pylist(), translation.field(lb).to_pylist()
    scores = table.column("score").to_pylist()
    articles = table.column("article_id").to_pylist()
    if options.length_ratio is None:
        ratio = learn_length_ratio(texts_a, texts_b, scores)
    else:
        ratio = LengthRatio(1.0, 0.0, *options.length_ratio, 0)
    # Per-sentence language identification only between languages it can tell apart.
    other_language: list[bool] = []
    close = close_languages(la, lb)
    if options.drop_untranslated and not close:
        detect = detect or detect_text
        other_language = [
            _looks_like(b, lb, la, detect) or _looks_like(a, la, lb, detect)
            for a, b in zip(texts_a, texts_b, strict=True)
        ]
        judged = sum(len(a) >= _MIN_LANGID_CHARS for a in texts_a) or 1
        close = sum(other_language) > _CONFUSED_SHARE * judged
    return PairRows(
        texts_a, texts_b, scores, options, ratio,
        repeated=(repeated_lines(texts_a, articles), repeated_lines(texts_b, articles)),
        scripts=(main_scripts(texts_a), main_scripts(texts_b)),
        close=close, other_language=other_language,
    )  # fmt: skip
