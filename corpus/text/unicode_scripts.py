"""Properties of text that depend on its writing system, read from Unicode data, not lists.

Which characters end a sentence, which scripts are written without spaces between words, and
which script a piece of text is in are Unicode character properties: ``regex`` ships the
Unicode Character Database (Sentence_Terminal, Terminal_Punctuation, Line_Break) and
``fontTools.unicodedata`` its Scripts.txt (installed with matplotlib).
"""

from __future__ import annotations

from collections import Counter

import regex
from fontTools import unicodedata as ucd

# A sentence ends with Sentence_Terminal (. ! ? 。 ۔ । ። ။ ។ ...) or other Terminal_Punctuation
# (: ; and the Tibetan shad །, which is not Sentence_Terminal), possibly followed by closing
# quotes and brackets (general categories Pe and Pf, and the Quotation_Mark property).
_FINAL = regex.compile(
    r"[\p{Sentence_Terminal}\p{Terminal_Punctuation}][\p{Pe}\p{Pf}\p{Quotation_Mark}\s]*$"
)
# Characters of scripts written without spaces between words: Line_Break classes SA
# (complex context: Thai, Lao, Khmer, Myanmar, Tai Tham, ...), ID (ideographs, kana,
# Hangul syllables are ID too but Korean is written with spaces, so Hangul is excluded by
# its script below) and CJ (small kana). UAX #14 defines these as the classes where a line may
# break between letters without a space.
_UNSPACED = regex.compile(r"[\p{Line_Break=SA}\p{Line_Break=ID}\p{Line_Break=CJ}]")
_HANGUL = regex.compile(r"\p{Script=Hangul}")
_GRAPHEME = regex.compile(r"\X")
# Scripts that carry no language: digits, punctuation, combining marks.
_NEUTRAL_SCRIPTS = frozenset({"Zyyy", "Zinh", "Zzzz"})
# In running text of scripts written without spaces, a word is 1.5 to 2 characters in
# Chinese and Japanese and 2 to 4 grapheme clusters in Thai, Lao, Khmer and Burmese; two is
# the conservative end, so short lines count as more "words", never fewer.
GRAPHEMES_PER_WORD = 2


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends with sentence-final punctuation of any script."""
    return _FINAL.search(text) is not None


def is_unspaced_char(char: str) -> bool:
    """True for a character of a script written without spaces between words."""
    return _UNSPACED.match(char) is not None and _HANGUL.match(char) is None


def unspaced_share(text: str) -> float:
    """Share of the letters of ``text`` (0..1) that belong to scripts written without spaces."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(is_unspaced_char(c) for c in letters) / len(letters)


def word_count(text: str) -> float:
    """Length of ``text`` in words, comparable across scripts.

    Space-separated tokens count one each; a token in a script written without spaces
    counts its grapheme clusters divided by ``GRAPHEMES_PER_WORD`` (at least one).
    """
    words = 0.0
    for token in text.split():
        if any(is_unspaced_char(c) for c in token):
            words += max(1.0, len(_GRAPHEME.findall(token)) / GRAPHEMES_PER_WORD)
        else:
            words += 1.0
    return words


def script_counts(text: str) -> Counter[str]:
    """Letters of ``text`` per ISO 15924 script code (``Latn``, ``Cyrl``, ``Hani``, ...).

    Characters that carry no script (digits, punctuation, combining marks) are not counted.
    """
    counts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            script = ucd.script(char)
            if script not in _NEUTRAL_SCRIPTS:
                counts[script] += 1
    return counts
