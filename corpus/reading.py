"""Stage 1: read every input file under a folder into decoded, NFC-normalised documents.

`read_inputs` never raises for a bad file: each one the pipeline cannot use becomes a `Skipped`
entry with a short reason, so one stray PNG or unreadable file never stops a corpus build.
"""

from __future__ import annotations

import codecs
import errno
import functools
import hashlib
import itertools
import math
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from charset_normalizer.cd import coherence_ratio
from charset_normalizer.md import mess_ratio
from tqdm import tqdm

from corpus.errors import InputError

MIB = 2**20
MAX_BYTES = 64 * MIB

# Tried in this order when a file is neither BOM-marked nor UTF-8. When several give the same
# text the first names it: latin-1 before cp1252 so plain ISO-8859-1 is called that, while files
# using cp1252's curly quotes fall through to cp1252 because latin-1 turns those into C1 controls.
LEGACY_ENCODINGS = ("latin-1", "cp1252", "cp1256", "cp1251", "iso8859-7")

# Any code page decodes almost any bytes, so a legacy guess is accepted only if the text reads as
# prose. On the sample articles right guesses score mess <= 0.01 and no odd words; wrong ones
# score mess >= 0.12 or, in short texts where mess is blind, 20%+ odd words.
MAX_MESS = 0.1  # charset-normalizer's mess ratio (its own default cut-off is 0.2)
MAX_ODD_WORD_SHARE = 0.05  # non-ASCII words mixing scripts or with a capital after a small letter
MIN_COHERENCE_MARGIN = 0.2  # lead needed to pick between two clean scripts (Russian vs Greek)
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
# C1 controls never occur in prose: a code page that yields them (latin-1 reading cp1252's
# curly quotes) is the wrong one. C0 debris reads the same in every code page and is removed.
_C1_CONTROL = re.compile("[\x80-\x9f]")
# A non-blank line without its leading and trailing whitespace (\S never matches a newline).
_PARAGRAPH = re.compile(r"\S(?:[^\n]*\S)?")


@dataclass(frozen=True)
class Document:
    path: str  # relative to the input root, POSIX separators
    text: str  # BOM removed, newlines "\n", NFC; every offset in the pipeline indexes this
    sha256: str  # hex digest of the raw file bytes
    encoding: str  # codec actually used, e.g. "utf-8", "utf-16", "cp1256"
    paragraphs: tuple[tuple[int, int], ...]  # (start, end) of each non-blank line, stripped
    n_not_text: int = 0  # control characters and non-characters removed from the text


class Decoded(NamedTuple):
    text: str  # newlines "\n", NFC, characters that are not text removed
    encoding: str  # codec actually used
    n_not_text: int  # characters that are not text removed (see _NOT_TEXT)


@dataclass(frozen=True)
class Skipped:
    path: str  # relative to the input root
    reason: str  # short, for people, e.g. "binary file (PNG image)"


@dataclass
class ReadResult:
    documents: list[Document]  # sorted by path
    skipped: list[Skipped]  # sorted by path
    warnings: list[str]  # one line each, starting with the file's path


def decode_bytes(data: bytes, path: str) -> Decoded:
    """Decode a file's bytes: text with newlines unified to "\\n", NFC, and the characters
    that are not text (controls other than tab and newline, non-characters) removed.

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
        guess = _guess_legacy(data)
        if guess is None:
            raise InputError(path, _UNDECODABLE) from None
        text, encoding = guess
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
    return Decoded(text, encoding, n_not_text)


def read_document(path: Path, root: Path) -> Document:
    """Read and decode one file; raises InputError naming its path relative to root."""
    rel = path.relative_to(root).as_posix()
    data = _read_bytes(path, rel)
    text, encoding, n_not_text = decode_bytes(data, rel)
    paragraphs = tuple(match.span() for match in _PARAGRAPH.finditer(text))
    sha256 = hashlib.sha256(data).hexdigest()
    return Document(rel, text, sha256, encoding, paragraphs, n_not_text)


def read_inputs(root: Path, *, progress: bool = False) -> ReadResult:
    """Read every non-hidden file under root; every other file or folder, and every unusable
    file, is listed in ``skipped`` with a reason."""
    if not root.exists():
        raise InputError(str(root), "input folder does not exist")
    if not root.is_dir():
        raise InputError(str(root), "input path is not a folder")
    files, skipped = _walk(root)
    documents: list[Document] = []
    warnings: list[str] = []
    first_with_text: dict[bytes, str] = {}
    for path in tqdm(files, desc="reading", unit="file", disable=not progress):
        rel = path.relative_to(root).as_posix()
        try:
            rel.encode()
        except UnicodeEncodeError:
            # os.walk smuggles undecodable name bytes in as surrogates, which would break every
            # later stage that prints or stores the path.
            skipped.append(Skipped(_rel(path, root), "file name is not valid UTF-8"))
            continue
        try:
            document = read_document(path, root)
        except InputError as error:
            skipped.append(Skipped(rel, error.problem))
            continue
        # Keyed on the decoded text, so one article saved in two encodings is still a duplicate.
        key = hashlib.sha256(document.text.encode()).digest()
        if key in first_with_text:
            skipped.append(Skipped(rel, f"exact duplicate of {first_with_text[key]}"))
            continue
        first_with_text[key] = rel
        documents.append(document)
        if document.encoding in LEGACY_ENCODINGS:
            warnings.append(f"{rel}: decoded as {document.encoding} (no BOM, not UTF-8)")
        if document.n_not_text:
            warnings.append(
                f"{rel}: removed {document.n_not_text} characters that are not text "
                "(control characters or non-characters)"
            )
    skipped.sort(key=lambda entry: entry.path)
    return ReadResult(documents, skipped, warnings)


def _walk(root: Path) -> tuple[list[Path], list[Skipped]]:
    """Files under root, sorted by relative path, and what is not read, with the reason.

    Hidden files and folders (name starting with ".": .git, .DS_Store, editor swap files)
    are not read, each listed once (a hidden folder is not entered). Neither are symlinked
    folders (loops cannot hang) or folders that cannot be listed.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []

    def unlisted(error: OSError) -> None:
        path = Path(error.filename)
        skipped.append(Skipped(_rel(path, root), f"folder not read ({_os_problem(error)})"))

    # followlinks=False: a symlinked folder is listed but never entered, so loops cannot hang.
    for folder, dirnames, filenames in os.walk(root, onerror=unlisted, followlinks=False):
        here = Path(folder)
        for name in dirnames:
            rel = _rel(here / name, root)
            if name.startswith("."):
                skipped.append(Skipped(rel, "hidden folder, not read"))
            elif _is_symlink(here / name):
                skipped.append(Skipped(rel, "symlinked folder not followed"))
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in filenames:
            if name.startswith("."):
                skipped.append(Skipped(_rel(here / name, root), "hidden file, not read"))
            else:
                files.append(here / name)
    files.sort(key=lambda path: path.relative_to(root).as_posix())
    return files, skipped


def _rel(path: Path, root: Path) -> str:
    """Path relative to the input root, POSIX separators, printable."""
    rel = path.relative_to(root).as_posix()
    return rel.encode(errors="surrogateescape").decode(errors="replace")


def _is_symlink(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:  # e.g. a path too long to look at: os.walk reports it when entering
        return False


def _os_problem(error: OSError) -> str:
    """A short reason for an OSError on an input path."""
    if error.errno == errno.ENAMETOOLONG:
        return "path too long for this system"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"unreadable ({error.strerror or error})"


def _read_bytes(path: Path, rel: str) -> bytes:
    """The whole file, or InputError(rel, ...) with a readable reason instead of an OSError."""
    try:
        info = path.stat()  # follows symlinks: a link to a file is read as that file
        if not stat.S_ISREG(info.st_mode):
            # Reading a FIFO or device would block or never end.
            raise InputError(rel, "not a regular file")
        if info.st_size > MAX_BYTES:
            size = math.ceil(info.st_size / MIB)
            raise InputError(rel, f"too large ({size} MB > {MAX_BYTES // MIB} MB)")
        return path.read_bytes()
    except PermissionError:
        raise InputError(rel, "permission denied") from None
    except FileNotFoundError:
        problem = "broken symlink" if _is_symlink(path) else "file disappeared while reading"
        raise InputError(rel, problem) from None
    except OSError as error:
        problem = "symlink loop" if error.errno == errno.ELOOP else _os_problem(error)
        raise InputError(rel, problem) from None


def _guess_legacy(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) for the one legacy encoding whose output reads as prose, else None."""
    plausible: dict[str, str] = {}  # text -> first encoding giving it
    for encoding in LEGACY_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:  # cp1252 and iso8859-7 leave some bytes undefined
            continue
        if text not in plausible and _reads_as_prose(text):
            plausible[text] = encoding
    if len(plausible) <= 1:
        return next(iter(plausible.items()), None)
    # Two scripts can both look clean (cp1251 Russian also reads as well-formed Greek letters);
    # only a clear lead in language coherence breaks the tie.
    scores = {text: _coherence(text) for text in plausible}
    best, runner_up = sorted(scores, key=scores.__getitem__, reverse=True)[:2]
    if scores[best] - scores[runner_up] < MIN_COHERENCE_MARGIN:
        return None
    return best, plausible[best]


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


def _coherence(text: str) -> float:
    """charset-normalizer's best language-fit score for the text, 0.0 when no language fits."""
    return max((ratio for _, ratio in coherence_ratio(text[:_SAMPLE_CHARS])), default=0.0)
