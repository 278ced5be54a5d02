"""Containers and markup: records out of HTML pages, WARC crawls and JSONL/Parquet dumps.

A plain text file is one document; the formats here hold a page to extract the article from
(HTML), or many documents (a WARC crawl, a dump with one document per row). Each yields
`Record`s that `reading` normalises into documents exactly like text files, so every later
stage sees one kind of input. Libraries do the format work: trafilatura extracts the main text
of a page (drops navigation, cookie banners, comments, footers; keeps the headline), lxml reads
its ``hreflang`` and canonical links, fastwarc reads WARC, the standard ``json`` module and
pyarrow read dumps, langcodes normalises declared language tags.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import langcodes
import lxml.html
import pyarrow as pa
import pyarrow.parquet as pq
import trafilatura
from fastwarc.warc import ArchiveIterator, WarcRecordType
from trafilatura.utils import decode_file

# How many leading bytes are enough to tell the formats apart.
SNIFF_BYTES = 512
# Formats holding one document per row: what a dataset's data files are.
DUMP_FORMATS = ("jsonl", "parquet", "arrow")


@dataclass(frozen=True)
class FieldNames:
    """Where a dump keeps each value: the first of the names that a row has is used."""

    text: tuple[str, ...] = ("text",)
    id: tuple[str, ...] = ("id",)
    lang: tuple[str, ...] = ("lang", "language")
    url: tuple[str, ...] = ("url",)
    title: tuple[str, ...] = ("title",)
    date: tuple[str, ...] = ("date",)


DEFAULT_FIELDS = FieldNames()


@dataclass(frozen=True)
class Record:
    """One document found inside an input file, before normalisation.

    ``text`` is the document's text, or None when it could not be had (``problem`` says why).
    """

    key: str  # the record's name inside its file: a row id, a line number, a WARC record number
    text: str | None
    raw: bytes  # what the record's checksum is computed over
    url: str | None = None
    title: str | None = None
    date: str | None = None  # ISO 8601 as the source gives it
    lang: str | None = None  # declared language (dumps only), a normalised code, e.g. "nb"
    hreflang: tuple[tuple[str, str], ...] = field(default=())  # (language tag, URL) alternates
    problem: str | None = None


def detect_format(name: str, head: bytes) -> str:
    """The input format of a file from its name and first bytes.

    Returns one of "text", "html", "warc", "jsonl", "parquet", "arrow". Content wins over the name
    where it is unambiguous (an HTML page saved as ``.txt`` is still HTML).
    """
    lower = name.lower()
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"PAR1") or lower.endswith(".parquet"):
        return "parquet"
    if head.startswith(b"ARROW1") or lower.endswith(".arrow"):
        return "arrow"
    if stripped.startswith(b"warc/") or lower.endswith((".warc", ".warc.gz")):
        return "warc"
    if lower.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        return "jsonl"
    if stripped.startswith((b"<!doctype html", b"<html")) or lower.endswith(
        (".html", ".htm", ".xhtml")
    ):
        return "html"
    return "text"


def language_code(tag: str) -> str | None:
    """The language subtag of a declared tag ("eng", "en-US", "nob" -> "en", "en", "nb").

    Script and region are dropped (config names join codes with "-"). None for a tag that
    langcodes does not know (a misspelt or empty field is not a language).
    """
    try:
        language = langcodes.Language.get(tag.strip().replace("_", "-"))
    except (ValueError, langcodes.LanguageTagError):
        return None
    return language.language if language.is_valid() and language.language else None


# Format characters that carry spelling or direction: zero-width non-joiner and joiner (Persian,
# Indic conjuncts, emoji sequences) and the direction marks LRM, RLM, ALM. trafilatura drops
# every non-printable character (str.isprintable is False for category Cf), which would
# change how those words are written, so they cross its extraction as placeholder letters:
# U+A66E (CYRILLIC LETTER MULTIOCULAR O, found only in one manuscript) around a digit.
_FORMAT_CHARS = {"\u200c": "8204", "\u200d": "8205", "\u200e": "8206", "\u200f": "8207"}
_FORMAT_CHARS["\u061c"] = "1564"
_PLACEHOLDERS = {f"\ua66e{n}\ua66e": char for n, char in enumerate(_FORMAT_CHARS)}
_ENTITIES = re.compile(
    "|".join(rf"&#(?:{code}|x{int(code):x});" for code in _FORMAT_CHARS.values())
    + "|&(?:zwnj|zwj|lrm|rlm);",
    re.IGNORECASE,
)
_NAMED = {"zwnj": "\u200c", "zwj": "\u200d", "lrm": "\u200e", "rlm": "\u200f"}


def _protect(html: str) -> str:
    """The page with its spelling-relevant format characters (raw or as entities) replaced by
    printable placeholders that trafilatura keeps."""

    def entity(match: re.Match) -> str:
        body = match.group(0)[1:-1].lower()
        if body in _NAMED:
            return _NAMED[body]
        return chr(int(body[2:], 16) if body.startswith("#x") else int(body[1:]))

    html = _ENTITIES.sub(entity, html)
    for placeholder, char in _PLACEHOLDERS.items():
        html = html.replace(char, placeholder)
    return html


def _restore(text: str) -> str:
    for placeholder, char in _PLACEHOLDERS.items():
        text = text.replace(placeholder, char)
    return text


_DATE_FROM_METADATA = {"extensive_search": False, "original_date": True}


def html_record(key: str, data: bytes, url: str | None = None, date: str | None = None) -> Record:
    """The article of one HTML page: main text, title, date, canonical URL, hreflang links.

    The text is trafilatura's extraction with paragraphs on their own lines (tables kept,
    comments dropped). ``url`` and ``date`` from a crawl record take precedence over what the
    page says about itself only when the page says nothing; the page's date is read from its
    metadata (meta tags, structured data, URL), never from its text.
    """
    html = _protect(decode_file(data))
    try:
        page = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            # The date from the page's metadata only: htmldate's extensive search reads
            # dates out of the text, such as a photo caption's.
            date_extraction_params=_DATE_FROM_METADATA,
        )
    except Exception as exc:  # lxml or trafilatura rejecting a broken page
        return Record(key, None, data, url=url, date=date, problem=f"unparsable HTML ({exc})")
    canonical, hreflang = _page_links(data)
    if page is None or not (page.text or "").strip():
        return Record(key, None, data, url=url, date=date, problem="no article text in HTML")
    if not has_article(html):
        problem = "no article in HTML page (only navigation, banners or other boilerplate)"
        return Record(key, None, data, url=url, date=date, problem=problem)
    return Record(
        key,
        _restore(page.text),
        data,
        url=canonical or url or page.url,
        title=_restore(page.title) if page.title else None,
        date=page.date or date,
        hreflang=hreflang,
    )


def has_article(html: str) -> bool:
    """Whether a page holds an article: trafilatura's precision mode finds main text in it.

    Its default mode, which gives the text, falls back to whatever the page holds when it
    finds no article, so a page of navigation links and a cookie banner would become a
    document; precision mode finds nothing there. It only judges: its text is shorter."""
    try:
        page = trafilatura.bare_extraction(html, favor_precision=True, include_comments=False)
    except Exception:  # lxml or trafilatura rejecting a broken page: judged by default mode
        return True
    return page is not None and bool((page.text or "").strip())


def _page_links(data: bytes) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The page's canonical URL and its (hreflang, URL) alternates, from its <link> tags."""
    try:
        tree = lxml.html.fromstring(data)
    except (ValueError, lxml.etree.ParserError):
        return None, ()
    canonical = next(iter(tree.xpath("//link[@rel='canonical']/@href")), None)
    alternates = tuple(
        (str(link.get("hreflang")), str(link.get("href")))
        for link in tree.xpath("//link[@rel='alternate'][@hreflang][@href]")
    )
    return (str(canonical) if canonical else None), alternates


def warc_records(path: Path) -> Iterator[Record]:
    """Every HTML response of a WARC file (plain or gzipped), keyed by its record number.

    Streams the file (a crawl can be far larger than memory). Non-HTML responses (images,
    scripts) are passed over silently: a crawl is full of them and none is an article.
    Redirects and errors (HTTP status other than 2xx) are reported, and so are truncated
    records: marked ``WARC-Truncated`` by the crawler (a page over its size or time limit),
    or cut off by the end of the file. A truncated page would be a document that ends
    mid-sentence, its translation's last sentences left unaligned or misaligned.
    """
    with path.open("rb") as stream:
        yield from _warc_stream(stream)


def _warc_stream(stream: BinaryIO) -> Iterator[Record]:
    for number, record in enumerate(
        ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True), 1
    ):
        content_type = (record.http_content_type or "").lower()
        if "html" not in content_type:
            continue
        key = str(number)
        url = record.headers.get("WARC-Target-URI")
        date = record.headers.get("WARC-Date")
        status = record.http_headers.status_code if record.http_headers else None
        if status is not None and not 200 <= status < 300:
            yield Record(key, None, b"", url=url, date=date, problem=f"HTTP status {status}")
            continue
        body = record.reader.read()
        if truncated := record.headers.get("WARC-Truncated"):
            problem = f"truncated record (WARC-Truncated: {truncated}): the page is cut off"
            yield Record(key, None, b"", url=url, date=date, problem=problem)
        elif len(body) < record.content_length:
            problem = (
                f"truncated record ({len(body)} of {record.content_length} bytes: "
                "the file ends inside it)"
            )
            yield Record(key, None, b"", url=url, date=date, problem=problem)
        else:
            yield html_record(key, body, url, date)


def jsonl_records(path: Path, fields: FieldNames) -> Iterator[Record]:
    """One record per line of a JSON-lines dump (plain or gzipped), keyed by id or line number.

    Streams the file. A line that is not a JSON object, or has no text, is a record with a
    problem: one bad line never costs the rest of the file.
    """
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if gzipped else path.open("rb") as lines:
        yield from _jsonl_lines(lines, fields)


def _jsonl_lines(lines: BinaryIO, fields: FieldNames) -> Iterator[Record]:
    # Objects are held back until one has a text field: a dump where none of the first
    # _SAMPLE_ROWS (or all, if fewer) has one names the wrong field once, instead of skipping
    # every row with a line of its own.
    held: list[tuple[dict, str, bytes]] = []
    found = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Record(f"line{number}", None, line, problem=f"not JSON ({exc.args[0]})")
            continue
        if not isinstance(row, dict):
            yield Record(f"line{number}", None, line, problem="not a JSON object")
            continue
        if found:
            yield _row_record(row, f"line{number}", line, fields)
            continue
        held.append((row, f"line{number}", line))
        found = any(name in row for name in fields.text)
        if found:
            yield from (_row_record(*entry, fields) for entry in held)
        elif len(held) >= _SAMPLE_ROWS:
            break
    if held and not found:
        rows = [entry[0] for entry in held]
        raise ValueError(missing_text_field((k for r in rows for k in r), rows, fields))


# Rows looked at to tell a dump without its text field (every row would be skipped) from one
# with some empty rows, and to guess which column holds the text.
_SAMPLE_ROWS = 100


def missing_text_field(columns: Iterable[str], rows: list[dict], fields: FieldNames) -> str:
    """Why a dump none of whose rows has the text field cannot be read: its columns and the
    ``--text-field`` that would read it, where one column looks like the text.

    The guess is the column, among those no other field names, whose string values in ``rows``
    are longest on average: a document's text is longer than its id, tag or date whatever its
    language or the column's name."""
    columns = list(dict.fromkeys(columns))
    named = {name for group in vars(fields).values() for name in group}
    lengths = {
        column: sum(len(row[column]) for row in rows if isinstance(row.get(column), str))
        for column in columns
        if column not in named
    }
    wanted = " or ".join(repr(name) for name in fields.text)
    problem = f"no text field {wanted} (columns: {', '.join(columns) or 'none'})"
    guess = max(lengths, key=lengths.__getitem__, default=None)
    if guess is None or lengths[guess] == 0:
        return f"{problem}; no column holds text"
    return f"{problem}; to read it: --text-field {guess}"


def _wanted_columns(schema: pa.Schema, fields: FieldNames) -> list[str]:
    return sorted({name for group in vars(fields).values() for name in group} & set(schema.names))


def parquet_records(path: Path, fields: FieldNames) -> Iterator[Record]:
    """One record per row of a Parquet dump (read batch by batch), keyed by id or row number."""
    parquet = pq.ParquetFile(path)
    if not set(fields.text) & set(parquet.schema_arrow.names):
        sample = next(parquet.iter_batches(batch_size=_SAMPLE_ROWS), None)
        rows = sample.to_pylist() if sample is not None else []
        raise ValueError(missing_text_field(parquet.schema_arrow.names, rows, fields))
    columns = _wanted_columns(parquet.schema_arrow, fields)
    yield from _batch_records(parquet.iter_batches(columns=columns), fields)


def arrow_records(path: Path, fields: FieldNames) -> Iterator[Record]:
    """One record per row of an Arrow IPC file, as ``datasets.Dataset.save_to_disk`` and the
    ``datasets`` cache write them (the stream format; the random-access file format too)."""
    with pa.memory_map(str(path)) as source:
        try:
            reader = pa.ipc.open_stream(source)
            schema, batches = reader.schema, iter(reader)
        except pa.ArrowInvalid:
            source.seek(0)
            file = pa.ipc.open_file(source)
            schema = file.schema
            batches = (file.get_batch(k) for k in range(file.num_record_batches))
        if not set(fields.text) & set(schema.names):
            sample = next(batches, None)
            rows = sample.slice(0, _SAMPLE_ROWS).to_pylist() if sample is not None else []
            raise ValueError(missing_text_field(schema.names, rows, fields))
        columns = _wanted_columns(schema, fields)
        yield from _batch_records((batch.select(columns) for batch in batches), fields)


def _batch_records(batches: Iterable[pa.RecordBatch], fields: FieldNames) -> Iterator[Record]:
    number = 0
    for batch in batches:
        for row in batch.to_pylist():
            number += 1
            raw = json.dumps(row, ensure_ascii=False, default=str, sort_keys=True).encode()
            yield _row_record(row, f"row{number}", raw, fields)


def _row_record(row: dict, fallback_key: str, raw: bytes, fields: FieldNames) -> Record:
    """A dump row as a record; its text field must be a non-empty string."""

    def first(names: tuple[str, ...]) -> str | None:
        value = next((row[name] for name in names if row.get(name) is not None), None)
        return None if value is None else str(value)

    key = first(fields.id) or fallback_key
    text = next((row[name] for name in fields.text if name in row), None)
    url, title, date = first(fields.url), first(fields.title), first(fields.date)
    declared = first(fields.lang)
    lang = language_code(declared) if declared else None
    if not isinstance(text, str) or not text.strip():
        wanted = " or ".join(repr(name) for name in fields.text)
        problem = f"no text in field {wanted}"
        return Record(key, None, raw, url=url, title=title, date=date, problem=problem)
    if declared and lang is None:
        return Record(key, None, raw, url=url, problem=f"unknown language tag {declared!r}")
    return Record(key, text, raw, url=url, title=title, date=date, lang=lang)


def container_records(path: Path, fmt: str, fields: FieldNames) -> Iterator[Record]:
    """The records of one WARC, JSONL, Parquet or Arrow file (``fmt`` from ``detect_format``).

    Raises ValueError (with a short reason) when the file as a whole cannot be read; the
    records read before the fault have been yielded by then.
    """
    if fmt == "warc":
        try:
            yield from warc_records(path)
        except Exception as exc:  # fastwarc raises plain exceptions on corrupt archives
            raise ValueError(f"corrupt WARC ({exc})") from None
    elif fmt == "jsonl":
        try:
            yield from jsonl_records(path, fields)
        except (OSError, EOFError) as exc:  # a truncated gzip stream
            raise ValueError(f"corrupt gzip ({exc})") from None
    elif fmt == "parquet":
        try:
            yield from parquet_records(path, fields)
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"unreadable Parquet ({exc})") from None
    elif fmt == "arrow":
        try:
            yield from arrow_records(path, fields)
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"unreadable Arrow ({exc})") from None
    else:
        raise ValueError(f"{fmt}: not a container format")
