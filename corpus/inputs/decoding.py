"""Bytes to text: encodings (UTF-8, BOMs, legacy code pages chosen by the language they
read as), mojibake repaired, Unicode normalised, and text that is not running prose
detected.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import re
import shlex
import unicodedata
from typing import NamedTuple

import ftfy
import regex
from charset_normalizer import from_bytes
from charset_normalizer.constant import IANA_SUPPORTED
from charset_normalizer.md import mess_ratio
from charset_normalizer.utils import is_multi_byte_encoding
from fontTools import unicodedata as ucd

from corpus.errors import InputError
from corpus.inputs.extraction import (
    DUMP_FORMATS,
)
from corpus.text.langid import detect_text
from corpus.text.language_tags import language_letters

# Any code page decodes almost any bytes, so a legacy guess is accepted only if the text reads as
# prose. On the sample articles right guesses score mess <= 0.01 and no odd words; wrong ones
# score mess >= 0.12 or, in short texts where mess is blind, 20%+ odd words.
MAX_MESS = 0.1  # charset-normalizer's mess ratio (its own default cut-off is 0.2)
MAX_ODD_WORD_SHARE = 0.05  # non-ASCII words mixing scripts or with a capital after a small letter
# A legacy reading is checked against the language it is identified as: a wrong code page
# puts letters in the text that the language does not use (Turkish with "ý" for its dotless i,
# "pøinesou" for Czech "přinesou"). Above this share of its non-ASCII letters and
# symbols, a reading is mojibake (right readings of the cases: 0, a few foreign names at most).
MAX_FOREIGN_SHARE = 0.1
_IDENTIFY_CHARS = 2_000  # enough text to identify the language of a reading
_SAMPLE_CHARS = 50_000  # judging a prefix keeps a large legacy file from costing seconds

_UNDECODABLE = "undecodable: not UTF-8 and no confident legacy encoding"

# UTF-32 first: its little-endian BOM begins with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Encodings of a Document that are not a guessed legacy code page.
NOT_LEGACY = frozenset({"utf-8", *(name for _, name in _BOMS), "html", "warc", *DUMP_FORMATS})

# Formats a news folder plausibly picks up; some (PDF, JPEG) can slip past the NUL-byte check.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office document"),
    (b"SQLite format 3\x00", "SQLite database"),
)
_NEWLINES = re.compile(r"\r\n?")
# Characters that are not text, removed at read time (word-processor debris such as U+0007 and
# U+0008; XML 1.0 forbids most of them, so they would also break TMX): C0 and C1 controls other
# than tab and newline, and the Unicode non-characters (U+FDD0..U+FDEF and the last two code
# points of every plane, Unicode chapter 23.7). Controls that separate lines (vertical tab: a
# Word manual line break; form feed: a page break; U+001C..U+001E; NEL U+0085) become a newline,
# so the words on either side stay apart.
_LINE_CONTROLS = re.compile("[\x0b\x0c\x1c-\x1e\x85]")
_NOT_TEXT = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ufdd0-\ufdef"
    + "".join(
        f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
    )
    + "]"
)
# Running text is mostly letters, in every script: in the news of 52 languages (ntrex-world)
# letters and marks are at least 72% of the characters that are not spaces (Tibetan, whose
# syllable mark counts as punctuation, is the lowest; most are 95%). A list of numbers, dates,
# phone numbers or links is mostly digits and punctuation: it is not an article.
MIN_LETTER_SHARE = 0.5
_LETTER = regex.compile(r"[\p{L}\p{M}]")
_NOT_SPACE = regex.compile(r"\S")
# A link is made of letters but is not text in any language: it counts as no letters. Only the
# URI syntax (RFC 3986: a scheme, then "://") is used, so nothing depends on a language.
_URL = regex.compile(r"\b\p{L}[\p{L}\d+.-]*://\S+")
# A non-blank line without its leading and trailing whitespace (\S never matches a newline).
PARAGRAPH = re.compile(r"\S(?:[^\n]*\S)?")


class Normalised(NamedTuple):
    text: str  # newlines "\n", NFC, characters that are not text removed
    n_not_text: int  # characters that are not text removed (see _NOT_TEXT)
    # How mojibake was undone ("UTF-8 decoded as latin-1"), None when there was none.
    repaired: str | None = None


class Decoded(NamedTuple):
    text: str  # as Normalised
    encoding: str  # codec actually used
    n_not_text: int
    repaired: str | None = None


def normalise_text(text: str, path: str) -> Normalised:
    """Mojibake undone, newlines unified to "\\n", characters that are not text removed
    (controls other than tab and newline, non-characters; line-separating controls become
    newlines), then NFC. InputError for empty or blank text.

    Mojibake (UTF-8 decoded as a single-byte code page somewhere upstream: ``Ã©tats``,
    ``lâ\\x80\\x99``) is undone by ftfy's ``fix_encoding``, which changes only text whose
    "badness" a re-decoding lowers; it changed no line of ntrex-world's 52 languages. It
    runs first: the C1 controls that mojibake leaves are part of the bytes to restore.
    ``repaired`` says how the text had been misread.
    """
    fixed, steps = ftfy.fix_encoding_and_explain(text)
    repaired = None
    # Only a repair that restores UTF-8 is taken: ftfy also reads stray C1 controls as
    # Windows-1252 punctuation (U+0085 as "…"), where they are removed below instead.
    if fixed != text and any("utf-8" in x.parameter or "utf8" in x.parameter for x in steps):
        # The steps undo the damage: encode with the code page the text was misread as, then
        # decode right; or, where only some of it was misread, one "apply" step.
        read_as = next((x.parameter for x in steps if x.action == "encode"), None)
        right = next((x.parameter for x in reversed(steps) if x.action == "decode"), "utf-8")
        repaired = (
            f"{right.upper()} that had been decoded as {read_as}"
            if read_as
            else "UTF-8 decoded as a code page in places"
        )
        text = fixed
    # Unify newlines before NFC so that paragraph spans never straddle a lone "\r".
    text = _LINE_CONTROLS.sub("\n", _NEWLINES.sub("\n", text))
    text, n_not_text = _NOT_TEXT.subn("", text)
    text = unicodedata.normalize("NFC", text)
    if not text:
        raise InputError(
            path, "empty file" if not n_not_text else "no text, only control characters"
        )
    if text.isspace():
        raise InputError(path, "whitespace-only file")
    return Normalised(text, n_not_text, repaired)


def not_running_text(text: str) -> str | None:
    """Why ``text`` is not an article but a list of numbers, links or symbols (None when it is
    running text): judged by what it is made of, the share of its characters outside links
    that are letters or marks (Unicode categories L and M), whatever the language."""
    n_chars = len(_NOT_SPACE.findall(text))
    letters = len(_LETTER.findall(_URL.sub(" ", text)))
    if not n_chars or letters / n_chars >= MIN_LETTER_SHARE:
        return None
    share = letters / n_chars
    return (
        f"not running text: only {share:.0%} of its characters are letters outside links "
        "(a list of numbers, links or symbols, not an article)"
    )


def decode_bytes(data: bytes, path: str) -> Decoded:
    """Decode a file's bytes; return (text, encoding) with newlines unified to "\\n" and NFC.

    Raises InputError(path, ...) for binary, empty, whitespace-only or undecodable data.
    """
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise InputError(path, f"binary file ({kind})")
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        # Text without a BOM never contains NUL; BOM-less UTF-16 is rejected here too.
        if b"\x00" in data:
            raise InputError(path, "binary file (contains NUL bytes)")
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise InputError(path, f"undecodable: invalid {encoding} after its BOM") from None
        guess = _guess_legacy(data, path)
        if guess is None:
            raise InputError(path, _UNDECODABLE) from None
        text, encoding = guess
    return Decoded(encoding=encoding, **normalise_text(text, path)._asdict())


def _guess_legacy(data: bytes, path: str) -> tuple[str, str] | None:
    """(text, encoding) for the legacy code page whose reading is prose in the language it is
    identified as; None when no code page reads as prose or two read as prose in different
    languages (too short to tell). Raises InputError naming the closest code page, and how
    to convert the file from it, when even that one reads as mojibake.

    charset-normalizer proposes the code pages (every one Python knows, ranked by its own mess
    and coherence measures); each distinct reading must pass ``_reads_as_prose`` and is then
    checked against the language identified in it (``language_letters``)."""
    readings: dict[str, list[str]] = {}  # text -> code pages giving it, best ranked first
    for match in from_bytes(data):
        for encoding in match.could_be_from_charset:
            try:
                text = data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
            if encoding not in readings.setdefault(text, []):
                readings[text].append(encoding)
    judged = []  # (foreign share, -confidence, rank, text, language)
    for rank, text in enumerate(readings):
        if not _reads_as_prose(text):
            continue
        lang, confidence = detect_text(text[:_IDENTIFY_CHARS])
        judged.append((_foreign_share(text, lang), -confidence, rank, text, lang))
    if not judged:
        return None
    judged.sort()
    foreign, _, _, text, lang = judged[0]
    clean_languages = {entry[4] for entry in judged if entry[0] == 0}
    if len(clean_languages) > 1:  # e.g. short Russian in cp1251 also reads as Greek
        return None
    encoding = _customary_name(data, readings[text], lang)
    if foreign > MAX_FOREIGN_SHARE:
        iconv = codecs.lookup(encoding).name.upper()
        raise InputError(
            path,
            f"undecodable: not UTF-8, and its closest legacy encoding, {encoding}, leaves "
            f"{foreign:.0%} of its letters foreign to {lang} (mojibake); if {encoding} is "
            f"right after all: iconv -f {iconv} -t UTF-8 {shlex.quote(path)}",
        )
    return text, encoding


def _foreign_share(text: str, lang: str) -> float:
    """Share of the non-ASCII letters, marks and symbols of ``text``, and of the non-ASCII
    characters inside its words, that ``lang`` is not written with; MAX_FOREIGN_SHARE (just
    acceptable) when CLDR does not know the language. A wrong code page turns letters into
    other letters, box drawing or a dash mid-word ("k\u2014pte")."""
    letters = language_letters(lang)
    if letters is None:
        return MAX_FOREIGN_SHARE
    # CLDR's names hold every letter of a cased alphabet (Latin, Cyrillic, Greek), where code
    # pages swap one letter for another, but only some hundreds of the thousands of Han
    # characters or Hangul syllables: an uncased letter (category Lo) of one of the
    # language's scripts is its own.
    scripts = _scripts_of(letters)
    sample = unicodedata.normalize("NFC", text[:_SAMPLE_CHARS])
    judged = foreign = 0
    for before, char, after in zip(f" {sample}", sample, f"{sample[1:]} ", strict=False):
        if char.isascii() or char.isspace():
            continue
        in_word = before.isalpha() and after.isalpha()
        if in_word or unicodedata.category(char)[0] in "LMS":
            judged += 1
            own = char in letters or (
                unicodedata.category(char) == "Lo" and ucd.script(char) in scripts
            )
            foreign += not own
    return foreign / judged if judged else 0.0


@functools.cache
def _scripts_of(letters: frozenset[str]) -> frozenset[str]:
    """The ISO 15924 scripts of a language's uncased letters."""
    return frozenset(ucd.script(char) for char in letters if unicodedata.category(char) == "Lo")


@functools.cache
def _single_byte_codecs() -> tuple[str, ...]:
    """Every single-byte code page charset-normalizer knows (Python codec names)."""
    return tuple(name for name in IANA_SUPPORTED if not is_multi_byte_encoding(name))


def _customary_name(data: bytes, encodings: list[str], lang: str) -> str:
    """The name of a reading several code pages give (``encodings``: those charset-normalizer
    found; every single-byte one giving the same text is looked at too): the one made for
    the language: whose upper half holds the most of the letters ``lang`` uses, then the fewest
    letters, marks and symbols it does not use (latin-1 for Swedish rather than cp1252,
    iso8859-7 for Greek rather than cp1253). Python's codec name, with "-" for "_"."""
    if is_multi_byte_encoding(encodings[0]):  # Shift JIS, GB18030, ...: no near twins
        return encodings[0].replace("_", "-")
    letters = language_letters(lang) or frozenset()
    head = data[:_SAMPLE_CHARS]
    reading = head.decode(encodings[0])
    same = list(encodings)
    for name in _single_byte_codecs():
        try:
            if name not in same and head.decode(name) == reading:
                same.append(name)
        except (UnicodeDecodeError, LookupError):
            continue

    def fit(encoding: str) -> tuple[int, int, str]:
        # An undefined byte (U+FFFD, a symbol) counts as foreign too: a code page that
        # leaves bytes undefined is no better a fit for the language.
        upper = bytes(range(0x80, 0x100)).decode(encoding, errors="replace")
        covered = len(letters.intersection(upper))
        foreign = sum(unicodedata.category(c)[0] in "LMS" and c not in letters for c in upper)
        # Still tied (latin-1 and iso8859-9 for Swedish): the lower-numbered standard.
        return -covered, foreign, codecs.lookup(encoding).name

    return min(same, key=fit).replace("_", "-")


def _reads_as_prose(text: str) -> bool:
    """Whether a decoding looks like natural text rather than mojibake."""
    if _C1_CONTROL.search(text):
        return False
    sample = text[:_SAMPLE_CHARS]
    if mess_ratio(sample, MAX_MESS) >= MAX_MESS:
        return False
    # A wrong code page puts another script's letters inside words ("Gِteborg" for Göteborg) or
    # capitals mid-word ("ЗбЗМКгЗЪ" for an Arabic word), which the mess ratio misses in short
    # texts. Only non-ASCII words count: ASCII reads the same in every candidate.
    words = odd_words = 0
    for word in sample.split():
        scripts = {script for char in word if (script := _script(char))}
        if word.isascii() or not scripts:
            continue
        words += 1
        inner_capital = any(a.islower() and b.isupper() for a, b in itertools.pairwise(word))
        odd_words += len(scripts) > 1 or inner_capital
    return odd_words <= MAX_ODD_WORD_SHARE * words


@functools.cache
def _script(char: str) -> str | None:
    """Script of a letter or mark from its Unicode name (e.g. "ARABIC"); None for anything else."""
    name = unicodedata.name(char, "")
    kind = unicodedata.category(char)[0]
    if (kind == "L" and "LETTER" in name) or (kind == "M" and not name.startswith("COMBINING")):
        return name.split(" ")[0]
    return None


# C1 controls never occur in prose: a code page that yields them (latin-1 reading cp1252's
# curly quotes) is the wrong one. C0 debris reads the same in every code page and is removed.
_C1_CONTROL = re.compile("[\x80-\x9f]")
