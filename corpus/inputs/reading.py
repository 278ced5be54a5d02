"""The read stage: input files into decoded, NFC-normalised documents (``read_files``).

`read_inputs` never raises for a bad file: each one the pipeline cannot use becomes a `Skipped`
entry with a short reason, so one stray PNG or unreadable file never stops a corpus build.
"""

from __future__ import annotations

import errno
import hashlib
import math
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
from tqdm import tqdm

from corpus.errors import InputError
from corpus.inputs.decoding import (
    NOT_LEGACY,
    PARAGRAPH,
    Normalised,
    decode_bytes,
    normalise_text,
    not_running_text,
)
from corpus.inputs.extraction import (
    DEFAULT_FIELDS,
    SNIFF_BYTES,
    FieldNames,
    Record,
    container_records,
    detect_format,
    html_record,
)
from corpus.inputs.listing import is_symlink, is_uri, list_inputs, os_problem
from corpus.records import Document, Skipped
from corpus.tables import READ_SCHEMA

MIB = 2**20
MAX_BYTES = 64 * MIB


@dataclass
class ReadResult:
    documents: list[Document]  # sorted by path
    skipped: list[Skipped]  # sorted by path
    warnings: list[str]  # one line each, starting with the file's path


def _document(
    path: str, decoded: Normalised, raw: bytes, encoding: str, record: Record | None
) -> Document:
    text, n_not_text, repaired = decoded
    if (problem := not_running_text(text)) is not None:
        raise InputError(path, problem)
    paragraphs = tuple(match.span() for match in PARAGRAPH.finditer(text))
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
        raise InputError(rel, os_problem(error)) from None


def read_document(path: Path, root: Path) -> Document:
    """Read one text or HTML file as one document; raises InputError naming its path."""
    documents = list(read_documents(path, root))
    if len(documents) != 1 or not isinstance(documents[0], Document):
        rel = path.relative_to(root).as_posix()
        raise InputError(rel, "holds several documents (a WARC or dump), not one article")
    return documents[0]


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
    if document.encoding not in NOT_LEGACY:
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
        problem = "broken symlink" if is_symlink(path) else "file disappeared while reading"
        raise InputError(rel, problem) from None
    except OSError as error:
        problem = "symlink loop" if error.errno == errno.ELOOP else os_problem(error)
        raise InputError(rel, problem) from None


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
