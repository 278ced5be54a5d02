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
import shlex
import stat
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import ftfy
import pyarrow as pa
import pyarrow.fs as pafs
import regex
from charset_normalizer import from_bytes
from charset_normalizer.constant import IANA_SUPPORTED
from charset_normalizer.md import mess_ratio
from charset_normalizer.utils import is_multi_byte_encoding
from fontTools import unicodedata as ucd
from huggingface_hub import snapshot_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
from tqdm import tqdm

from corpus.errors import InputError
from corpus.inputs.extraction import (
    DEFAULT_FIELDS,
    DUMP_FORMATS,
    SNIFF_BYTES,
    FieldNames,
    Record,
    container_records,
    detect_format,
    html_record,
)
from corpus.outputs.folder import MARKER
from corpus.tables import READ_SCHEMA
from corpus.text.langid import detect_text, language_letters

MIB = 2**20
MAX_BYTES = 64 * MIB

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
# A build's own files (its card, plots, Parquet) read as articles would pose as a language of
# their own and displace real renderings, so a folder a build wrote is never entered.
_EARLIER_BUILD = f"output of an earlier corpus build ({MARKER} marker), not read"

# UTF-32 first: its little-endian BOM begins with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Encodings of a Document that are not a guessed legacy code page.
_NOT_LEGACY = frozenset({"utf-8", *(name for _, name in _BOMS), "html", "warc", *DUMP_FORMATS})

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

DATASET_NAME = re.compile(r"[\w.-]+/[\w.-]+")  # a Hugging Face dataset id, owner/name
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
# C1 controls never occur in prose: a code page that yields them (latin-1 reading cp1252's
# curly quotes) is the wrong one. C0 debris reads the same in every code page and is removed.
_C1_CONTROL = re.compile("[\x80-\x9f]")
# A non-blank line without its leading and trailing whitespace (\S never matches a newline).
_PARAGRAPH = re.compile(r"\S(?:[^\n]*\S)?")


@dataclass(frozen=True)
class Document:
    # relative to the input root, POSIX separators; a record inside a container file (a WARC
    # response, a dump row) is named FILE#KEY, e.g. "crawl.warc.gz#12" or "dump.jsonl#a17"
    path: str
    text: str  # BOM removed, newlines "\n", NFC; every offset in the pipeline indexes this
    sha256: str  # hex digest of the raw file (or record) bytes
    encoding: str  # codec actually used, e.g. "utf-8", "utf-16", "cp1256"; "html" if extracted
    paragraphs: tuple[tuple[int, int], ...]  # (start, end) of each non-blank line, stripped
    url: str | None = None  # canonical or crawled URL, where the input says
    title: str | None = None
    date: str | None = None  # publication or crawl date as the input gives it (ISO 8601)
    declared_lang: str | None = None  # language a dump declares for the row, e.g. "nb"
    hreflang: tuple[tuple[str, str], ...] = ()  # (language tag, URL) alternates of a page
    n_not_text: int = 0  # control characters and non-characters removed from the text
    repaired: str | None = None  # mojibake undone at reading (``Normalised.repaired``)


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


@dataclass(frozen=True)
class Skipped:
    path: str  # relative to the input root
    reason: str  # short, for people, e.g. "binary file (PNG image)"


@dataclass
class ReadResult:
    documents: list[Document]  # sorted by path
    skipped: list[Skipped]  # sorted by path
    warnings: list[str]  # one line each, starting with the file's path


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


def _document(
    path: str, decoded: Normalised, raw: bytes, encoding: str, record: Record | None
) -> Document:
    text, n_not_text, repaired = decoded
    if (problem := not_running_text(text)) is not None:
        raise InputError(path, problem)
    paragraphs = tuple(match.span() for match in _PARAGRAPH.finditer(text))
    digest = hashlib.sha256(raw).hexdigest()
    if record is None:
        return Document(
            path, text, digest, encoding, paragraphs, n_not_text=n_not_text, repaired=repaired
        )
    return Document(
        path,
        text,
        digest,
        encoding,
        paragraphs,
        n_not_text=n_not_text,
        repaired=repaired,
        url=record.url,
        title=record.title,
        date=record.date,
        declared_lang=record.lang,
        hreflang=record.hreflang,
    )


def read_documents(
    path: Path, root: Path, fields: FieldNames = DEFAULT_FIELDS
) -> Iterator[Document | Skipped]:
    """The documents of one input file, each a Document or a Skipped with its reason.

    A text file is one document, an HTML page the article extracted from it, a WARC crawl
    or a JSON-lines/Parquet dump one document per usable record (see ``extraction``).
    Raises InputError naming the path relative to root when the file as a whole is unusable.
    """
    rel = path.relative_to(root).as_posix()
    fmt = detect_format(path.name, _read_bytes(path, rel, SNIFF_BYTES))
    if fmt in ("text", "html"):
        data = _read_bytes(path, rel)
        if fmt == "text":
            text, encoding, n_not_text, repaired = decode_bytes(data, rel)
            yield _document(rel, Normalised(text, n_not_text, repaired), data, encoding, None)
            return
        record = html_record("", data)
        if record.text is None:
            raise InputError(rel, record.problem or "no article text in HTML")
        yield _document(rel, normalise_text(record.text, rel), data, "html", record)
        return
    try:
        for record in container_records(path, fmt, fields):
            name = f"{rel}#{record.key}"
            if record.text is None:
                yield Skipped(name, record.problem or "no text")
                continue
            try:
                document = _document(
                    name, normalise_text(record.text, name), record.raw, fmt, record
                )
            except InputError as error:
                yield Skipped(name, error.problem)
                continue
            yield document
    except ValueError as error:
        raise InputError(rel, str(error)) from None
    except OSError as error:
        raise InputError(rel, _os_problem(error)) from None


def read_document(path: Path, root: Path) -> Document:
    """Read one text or HTML file as one document; raises InputError naming its path."""
    documents = list(read_documents(path, root))
    if len(documents) != 1 or not isinstance(documents[0], Document):
        rel = path.relative_to(root).as_posix()
        raise InputError(rel, "holds several documents (a WARC or dump), not one article")
    return documents[0]


def is_dataset_folder(root: Path) -> bool:
    """Whether ``root`` holds a dataset saved by ``datasets.Dataset.save_to_disk``."""
    return (root / "state.json").is_file() and (root / "dataset_info.json").is_file()


def cached_dataset(name: str) -> Path | None:
    """The local snapshot of the Hugging Face dataset ``name`` ("owner/name"), looked up in
    the hub cache only (``HF_HUB_CACHE`` or its default; never the network). None if absent."""
    if not DATASET_NAME.fullmatch(name):
        return None
    try:
        folder = snapshot_download(
            name,
            repo_type="dataset",
            local_files_only=True,
            cache_dir=os.environ.get("HF_HUB_CACHE"),
        )
    except (HfHubHTTPError, LocalEntryNotFoundError, ValueError, OSError):
        return None
    return Path(folder)


def is_uri(root: Path | str) -> bool:
    """Whether an input root is a ``pyarrow.fs`` URI (``s3://``, ``gs://``, ``file://``)
    rather than a local path."""
    return isinstance(root, str) and "://" in root


def _uri_files(root: str) -> tuple[pafs.FileSystem, str, list[str], list[Skipped]]:
    """The file system of a URI, its base path, and the files under it (relative POSIX
    paths, sorted; hidden ones, or those under a hidden folder, skipped as ``_walk`` does).
    Raises InputError when it cannot be listed or is not a folder."""
    try:
        fs, base = pafs.FileSystem.from_uri(root)
        if fs.get_file_info(base).type != pafs.FileType.Directory:
            raise InputError(root, "input path is not a folder")
        infos = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    except (OSError, pa.ArrowException) as error:
        raise InputError(root, f"cannot list ({str(error).splitlines()[0]})") from None
    names, skipped, hidden = [], [], set()
    rels = {info.path: info.path[len(base) :].lstrip("/") for info in infos}
    builds = {rel.rpartition("/")[0] for rel in rels.values() if rel.split("/")[-1] == MARKER}
    if "" in builds:
        raise InputError(root, _EARLIER_BUILD)
    for info in sorted(infos, key=lambda i: i.path):
        rel = rels[info.path]
        parts = rel.split("/")
        if any("/".join(parts[:k]) in hidden for k in range(1, len(parts))):
            continue
        if rel in builds:
            skipped.append(Skipped(rel, _EARLIER_BUILD))
            hidden.add(rel)
        elif parts[-1].startswith("."):
            kind = "folder" if info.type == pafs.FileType.Directory else "file"
            skipped.append(Skipped(rel, f"hidden {kind}, not read"))
            hidden.add(rel)
        elif info.type == pafs.FileType.File:
            names.append(rel)
    return fs, base, names, skipped


def list_inputs(
    root: Path | str, *, data_files_only: bool | None = None
) -> tuple[list[str], list[Skipped]]:
    """The files under ``root`` to read (relative POSIX paths, sorted) and the entries that
    are not read, each with its reason (hidden, unlistable, a name that is not UTF-8, a
    dataset's card or metadata). ``root`` is a local folder or a ``pyarrow.fs`` URI of one
    (``s3://bucket/news``; ``is_uri``).

    ``data_files_only`` reads only dumps (a dataset's card and metadata files are listed as
    skipped, not read as articles); None turns it on for a ``save_to_disk`` folder. Raises
    InputError when ``root`` is missing or not a folder.
    """
    if is_uri(root):
        _, _, names, skipped = _uri_files(root)
        if data_files_only:
            data = [n for n in names if detect_format(n, b"") in DUMP_FORMATS]
            skipped += [
                Skipped(n, "dataset card or metadata, not data") for n in names if n not in data
            ]
            names = data
        return names, skipped
    if not root.exists():
        raise InputError(str(root), "input folder does not exist")
    if not root.is_dir():
        raise InputError(str(root), "input path is not a folder")
    if _is_build_output(root):
        raise InputError(str(root), _EARLIER_BUILD)
    files, skipped = _walk(root)
    if data_files_only or (data_files_only is None and is_dataset_folder(root)):
        is_data = {path: detect_format(path.name, b"") in DUMP_FORMATS for path in files}
        skipped += [
            Skipped(path.relative_to(root).as_posix(), "dataset card or metadata, not data")
            for path, data in is_data.items()
            if not data
        ]
        files = [path for path, data in is_data.items() if data]
    names: list[str] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            rel.encode()
        except UnicodeEncodeError:
            # os.walk smuggles undecodable name bytes in as surrogates, which would break every
            # later stage that prints or stores the path.
            skipped.append(Skipped(_rel(path, root), "file name is not valid UTF-8"))
            continue
        names.append(rel)
    return names, skipped


def read_file(
    root: Path | str, rel: str, fields: FieldNames = DEFAULT_FIELDS
) -> list[Document | Skipped]:
    """The documents of the input file ``root / rel`` (``read_documents``); a file that is
    unusable as a whole is one Skipped with the reason. Never raises for a bad file.

    Under a URI root the file is first copied into a temporary folder of the process that
    reads it (a cluster worker reads its own files), bounded by ``MAX_BYTES`` like a local
    one."""
    if is_uri(root):
        with tempfile.TemporaryDirectory(prefix="corpus-read-") as folder:
            try:
                fs, base = pafs.FileSystem.from_uri(root)
                with fs.open_input_stream(f"{base}/{rel}") as source:
                    data = source.read(MAX_BYTES + 1)
            except (OSError, pa.ArrowException) as error:
                return [Skipped(rel, f"cannot read ({str(error).splitlines()[0]})")]
            if len(data) > MAX_BYTES:
                return [Skipped(rel, f"too large (over {MAX_BYTES // MIB} MB)")]
            local = Path(folder) / rel
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(data)
            return read_file(Path(folder), rel, fields)
    try:
        return list(read_documents(root / rel, root, fields))
    except InputError as error:
        return [Skipped(rel, error.problem)]


def read_warnings(document: Document) -> list[str]:
    """What the reader tells the user about one document: a legacy encoding it guessed,
    mojibake it undid, characters it removed."""
    warnings = []
    if document.repaired:
        warnings.append(f"{document.path}: mojibake repaired ({document.repaired}; ftfy)")
    if document.encoding not in _NOT_LEGACY:
        warnings.append(f"{document.path}: decoded as {document.encoding} (no BOM, not UTF-8)")
    if document.n_not_text:
        warnings.append(
            f"{document.path}: removed {document.n_not_text} characters that are "
            "not text (control characters or non-characters)"
        )
    return warnings


class ExactDuplicates:
    """Remembers the decoded texts seen so far (as 16-byte digests): a document whose text
    was seen is an exact duplicate of the first. One article saved in two encodings is a
    duplicate, since the key is the decoded text."""

    def __init__(self) -> None:
        self._first: dict[bytes, str] = {}

    def first_with(self, document: Document) -> str | None:
        """The path of the earlier document with this text, or None (then it is remembered)."""
        key = hashlib.blake2b(document.text.encode(), digest_size=16).digest()
        first = self._first.setdefault(key, document.path)
        return None if first == document.path else first


def read_inputs(
    root: Path,
    *,
    progress: bool = False,
    fields: FieldNames = DEFAULT_FIELDS,
    data_files_only: bool | None = None,
) -> ReadResult:
    """Read every non-hidden file under root into memory; every other file or folder, and
    every unusable file or record, is listed in ``skipped`` with a reason.

    ``fields`` names the fields of JSON-lines, Parquet and Arrow dumps (see ``extraction``);
    ``data_files_only`` as in ``list_inputs``. The build streams the same steps in batches
    (``corpus.graph``); this reads a folder whole, for tools and tests.
    """
    names, skipped = list_inputs(root, data_files_only=data_files_only)
    documents: list[Document] = []
    warnings: list[str] = []
    duplicates = ExactDuplicates()
    for rel in tqdm(names, desc="reading", unit="file", disable=not progress):
        for document in read_file(root, rel, fields):
            if isinstance(document, Skipped):
                skipped.append(document)
            elif (first := duplicates.first_with(document)) is not None:
                skipped.append(Skipped(document.path, f"exact duplicate of {first}"))
            else:
                documents.append(document)
                warnings += read_warnings(document)
    skipped.sort(key=lambda entry: entry.path)
    return ReadResult(documents, skipped, warnings)


def _walk(root: Path) -> tuple[list[Path], list[Skipped]]:
    """Files under root, sorted by relative path, and what is not read, with the reason.

    Hidden files and folders (name starting with ".": .git, .DS_Store, editor swap files)
    are not read, each listed once (a hidden folder is not entered). Neither are symlinked
    folders (loops cannot hang), folders that cannot be listed, or the output folder of an
    earlier build (it holds the ``MARKER`` file), listed once and not entered.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []

    def unlisted(error: OSError) -> None:
        path = Path(error.filename)
        skipped.append(Skipped(_rel(path, root), f"folder not read ({_os_problem(error)})"))

    # followlinks=False: a symlinked folder is listed but never entered, so loops cannot hang.
    for folder, dirnames, filenames in os.walk(root, onerror=unlisted, followlinks=False):
        here = Path(folder)
        entered = []
        for name in dirnames:
            rel = _rel(here / name, root)
            if name.startswith("."):
                skipped.append(Skipped(rel, "hidden folder, not read"))
                continue
            if _is_symlink(here / name):
                skipped.append(Skipped(rel, "symlinked folder not followed"))
            elif _is_build_output(here / name):
                skipped.append(Skipped(rel, _EARLIER_BUILD))
                continue
            entered.append(name)
        dirnames[:] = sorted(entered)
        for name in filenames:
            if name.startswith("."):
                skipped.append(Skipped(_rel(here / name, root), "hidden file, not read"))
            else:
                files.append(here / name)
    files.sort(key=lambda path: path.relative_to(root).as_posix())
    return files, skipped


def _is_build_output(folder: Path) -> bool:
    """Whether a folder holds the marker a build writes into its output folder."""
    try:
        return (folder / MARKER).is_file()
    except OSError:  # unreadable or too long: os.walk reports it when entering
        return False


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


def _read_bytes(path: Path, rel: str, limit: int | None = None) -> bytes:
    """The whole file (or its first ``limit`` bytes), or InputError(rel, ...) with a readable
    reason instead of an OSError. Whole files over MAX_BYTES are refused."""
    try:
        info = path.stat()  # follows symlinks: a link to a file is read as that file
        if not stat.S_ISREG(info.st_mode):
            # Reading a FIFO or device would block or never end.
            raise InputError(rel, "not a regular file")
        if limit is not None:
            with path.open("rb") as file:
                return file.read(limit)
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


# -- the read stage --------------------------------------------------------------------------


def _document_row(document: Document | Skipped) -> dict:
    if isinstance(document, Skipped):
        return {"path": document.path, "skipped": document.reason, "warnings": []}
    return {
        "path": document.path,
        "text": document.text,
        "sha256": document.sha256,
        "encoding": document.encoding,
        "paragraph_start": [a for a, _ in document.paragraphs],
        "paragraph_end": [b for _, b in document.paragraphs],
        "url": document.url,
        "title": document.title,
        "date": document.date,
        "declared_lang": document.declared_lang,
        "hreflang": [{"tag": tag, "url": url} for tag, url in document.hreflang],
        "n_not_text": document.n_not_text,
        "warnings": read_warnings(document),
    }


def document_of(row: dict) -> Document:
    """The ``Document`` a files-table row holds (the inverse of the read stage's row)."""
    return Document(
        row["path"],
        row["text"],
        row["sha256"],
        row["encoding"],
        tuple(zip(row["paragraph_start"], row["paragraph_end"], strict=True)),
        url=row["url"],
        title=row["title"],
        date=row["date"],
        declared_lang=row["declared_lang"],
        hreflang=tuple((h["tag"], h["url"]) for h in row["hreflang"]),
        n_not_text=row["n_not_text"],
    )


def read_files(batch: pa.Table, *, root: str, fields: FieldNames = DEFAULT_FIELDS) -> pa.Table:
    """Read stage: ``batch`` has a column ``file`` (paths relative to ``root``); returns one
    files-table row per document (a text or HTML file: one; a WARC or a dump: one per
    record) and one row with ``skipped`` set per unusable file or record."""
    rows = [
        _document_row(document)
        for rel in batch.column("file").to_pylist()
        for document in read_file(root if is_uri(root) else Path(root), rel, fields)
    ]
    return pa.Table.from_pylist(rows, READ_SCHEMA)

