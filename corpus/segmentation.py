"""Sentence segmentation with character offsets into the document text.

sentencex does the splitting; we add what it gets wrong: it splits after
abbreviations (Swedish ``kl.``, ``t.ex.``, ...), and it returns sentences with
trailing whitespace and no offsets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sentencex import segment as _sentencex_segment

# Abbreviations after which sentencex wrongly ends a sentence. A piece ending in
# one of these is joined to the next piece when that one does not start like a
# new sentence (lowercase letter or digit). Extend per language as needed.
ABBREVIATIONS: dict[str, frozenset[str]] = {
    "sv": frozenset(
        "kl t.ex bl.a m.m etc dvs d.v.s s.k ca f.d p.g.a o.s.v osv resp jfr nr kr milj mdr "
        "st tel obs ang inkl exkl fr.o.m t.o.m e.kr f.kr m.fl o.d".split()
    ),
    "en": frozenset("e.g i.e etc vs approx no mr mrs ms dr prof st".split()),
}

# Abbreviations that also end sentences ("... päron etc. Sedan ..."): sentencex never
# splits after them, so we split when the next word is capitalised.
FINAL_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "sv": ("etc", "m.m", "osv", "o.s.v", "m.fl"),
    "en": ("etc",),
}

_LAST_TOKEN = re.compile(r"(\S+)\.\s*$")


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text == document_text[start:end]``."""

    text: str
    start: int
    end: int


def _ends_with_abbreviation(piece: str, abbreviations: frozenset[str]) -> bool:
    match = _LAST_TOKEN.search(piece)
    if match is None:
        return False
    token = match.group(1).lstrip("(\"'«»“").lower()
    # Single letters with a dot are initials ("J. Smith") in any Latin-script language.
    return token in abbreviations or (len(token) == 1 and token.isalpha())


def _continues(piece: str) -> bool:
    first = piece.lstrip()[:1]
    return bool(first) and (first.islower() or first.isdigit())


def _split_after_final_abbreviations(piece: str, lang: str) -> list[str]:
    final = FINAL_ABBREVIATIONS.get(lang)
    if not final:
        return [piece]
    alternatives = "|".join(re.escape(a) for a in final)
    pattern = rf"(?<!\S)(?:{alternatives})\.\s+(?=\S)"
    cuts = [m.end() for m in re.finditer(pattern, piece) if piece[m.end()].isupper()]
    return [piece[a:b] for a, b in zip([0, *cuts], [*cuts, len(piece)], strict=True)]


def split_sentences(text: str, lang: str) -> list[str]:
    """Split ``text`` (one paragraph) into sentences, abbreviation errors repaired."""
    abbreviations = ABBREVIATIONS.get(lang, frozenset())
    pieces: list[str] = []
    raw = _sentencex_segment(lang, text)
    for piece in (p for r in raw for p in _split_after_final_abbreviations(r, lang)):
        if not piece.strip():
            continue
        if pieces and _continues(piece) and _ends_with_abbreviation(pieces[-1], abbreviations):
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return [p.strip() for p in pieces]


def segment(text: str, lang: str, paragraphs: Sequence[tuple[int, int]]) -> list[Sentence]:
    """Segment each paragraph span of ``text``; sentences never cross paragraphs."""
    sentences: list[Sentence] = []
    for p_start, p_end in paragraphs:
        paragraph = text[p_start:p_end]
        cursor = 0
        for piece in split_sentences(paragraph, lang):
            # sentencex keeps the characters of the paragraph, so each stripped
            # piece is found at or after the end of the previous one.
            at = paragraph.find(piece, cursor)
            if at < 0:
                raise ValueError(f"segmenter changed the text of sentence {piece[:40]!r}")
            cursor = at + len(piece)
            sentences.append(Sentence(piece, p_start + at, p_start + cursor))
    return sentences
