"""Export one language-pair config as TMX 1.4b, Moses plain text, JSON lines, Bicleaner TSV
or OPUS XCES, streaming.

Rows are read batch by batch with ``ParquetFile.iter_batches``, so memory stays bounded by
the batch size whatever the corpus size. Files are written under a temporary name and
renamed when complete.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from itertools import groupby
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pyarrow.parquet as pq

from corpus.atomic import atomic_file
from corpus.errors import CorpusError, UsageError

BATCH_ROWS = 10_000
# Characters XML 1.0 does not allow (its Char production, section 2.2). Builds remove them at
# read time; this keeps TMX and XCES well-formed whatever Parquet they are exported from.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def _xml_attr(text: str) -> str:
    return quoteattr(_NOT_XML.sub("", text))


def pair_names(out: Path) -> list[str]:
    """The language-pair configs of the build in ``out``, sorted; UsageError if none."""
    data = out / "data"
    pairs = sorted(p.name for p in data.iterdir() if p.is_dir()) if data.is_dir() else []
    pairs = [name for name in pairs if name != "multiway"]
    if not pairs:
        raise UsageError(f"{out}: not a corpus build (no data/<pair> folders)")
    return pairs


class PairRow(NamedTuple):
    """One row of a pair config, the first language of the config name first."""

    a: str
    b: str
    score: float
    article_id: str
    align_type: str
    ids_a: list[int]  # sentence ids into sentences.parquet
    ids_b: list[int]
    url_a: str | None
    url_b: str | None


def iter_pairs(out: Path, pair: str, min_score: float = 0.0) -> Iterator[PairRow]:
    """Every row of config ``pair`` scoring at least ``min_score``, in file order, read batch
    by batch. A pair named the other way round (``sv-ar`` for the config ``ar-sv``) gives
    the same rows with their sides swapped, ``a`` in the first language named.

    UsageError, listing the pairs there are, for a pair that is not in the build.
    """
    pairs = pair_names(out)
    la, _, lb = pair.partition("-")
    if pair in pairs:
        rows = _rows(out, pair)
    elif f"{lb}-{la}" in pairs:
        rows = map(_swapped, _rows(out, f"{lb}-{la}"))
    else:
        raise UsageError(f"{out}: no pair {pair} (available: {', '.join(pairs)})")
    return (row for row in rows if row.score >= min_score)


MULTIWAY = "multiway"  # the config of multi-way tuples (one side per language)


class MultiRow(NamedTuple):
    """One multi-way tuple: a text per language it holds (None for the corpus's others)."""

    texts: dict[str, str | None]
    score: float
    article_id: str
    align_type: str


def multiway_langs(out: Path) -> list[str]:
    """The languages of the multiway config of the build in ``out`` (every language of the
    corpus, sorted); UsageError when the build has no multi-way tuples."""
    shards = sorted((out / "data" / MULTIWAY).glob("*.parquet"))
    if not shards:
        raise UsageError(f"{out}: no multi-way tuples (no data/{MULTIWAY} files)")
    return [f.name for f in pq.read_schema(shards[0]).field("translation").type]


def iter_multiway(out: Path, min_score: float = 0.0) -> Iterator[MultiRow]:
    """Every multi-way tuple scoring at least ``min_score``, in file order, batch by batch."""
    langs = multiway_langs(out)
    for shard in sorted((out / "data" / MULTIWAY).glob("*.parquet")):
        columns = ["translation", "score", "article_id", "align_type"]
        for batch in pq.ParquetFile(shard).iter_batches(BATCH_ROWS, columns=columns):
            trans = batch.column("translation")
            sides = [trans.field(lang).to_pylist() for lang in langs]
            for k, (score, article_id, kind) in enumerate(
                zip(*(batch.column(c).to_pylist() for c in columns[1:]), strict=True)
            ):
                if score >= min_score:
                    texts = {lang: side[k] for lang, side in zip(langs, sides, strict=True)}
                    yield MultiRow(texts, score, article_id, kind)


def _swapped(row: PairRow) -> PairRow:
    """The row with its two sides exchanged (``align_type`` "1-2" becomes "2-1")."""
    first, _, second = row.align_type.partition("-")
    return row._replace(
        a=row.b, b=row.a, ids_a=row.ids_b, ids_b=row.ids_a, url_a=row.url_b, url_b=row.url_a,
        align_type=f"{second}-{first}",
    )  # fmt: skip


def _rows(out: Path, pair: str) -> Iterator[PairRow]:
    la, lb = pair.split("-")
    for shard in sorted((out / "data" / pair).glob("*.parquet")):
        parquet = pq.ParquetFile(shard)
        has_url = "url" in parquet.schema_arrow.names  # builds before URLs were kept
        columns = ["translation", "score", "article_id", "align_type", "sentence_ids"]
        for batch in parquet.iter_batches(BATCH_ROWS, columns=columns + ["url"] * has_url):
            trans, ids = batch.column("translation"), batch.column("sentence_ids")
            urls = batch.column("url") if has_url else None
            n = batch.num_rows
            yield from map(
                PairRow._make,
                zip(
                    trans.field(la).to_pylist(),
                    trans.field(lb).to_pylist(),
                    batch.column("score").to_pylist(),
                    batch.column("article_id").to_pylist(),
                    batch.column("align_type").to_pylist(),
                    ids.field(la).to_pylist(),
                    ids.field(lb).to_pylist(),
                    urls.field(la).to_pylist() if urls else [None] * n,
                    urls.field(lb).to_pylist() if urls else [None] * n,
                    strict=True,
                ),
            )


def _one_line(text: str) -> str:
    """Whitespace (tabs and newlines included) collapsed: line- and tab-separated formats."""
    return " ".join(text.split())


def _tmx_header(srclang: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\n'
        '<header creationtool="corpus" creationtoolversion="1" datatype="plaintext" '
        f'segtype="sentence" adminlang="en" srclang={quoteattr(srclang)} '
        'o-tmf="parquet"/>\n<body>\n'
    )


def _tmx_unit(sides: Iterable[tuple[str, str]], score: float, article_id: str) -> str:
    """One ``<tu>``: a ``<tuv>`` per (language, text), the score and article id as props."""
    tuvs = "".join(
        f"<tuv xml:lang={quoteattr(lang)}><seg>{_xml_text(text)}</seg></tuv>"
        for lang, text in sides
    )
    props = f'<prop type="score">{score:.4f}</prop>'
    props += f'<prop type="article_id">{_xml_text(article_id)}</prop>'
    return f"<tu>{props}{tuvs}</tu>\n"


def _tmx(la: str, lb: str, rows: Iterable[PairRow], out: Path) -> Iterator[tuple[str]]:
    yield (_tmx_header(la),)
    for row in rows:
        yield (_tmx_unit([(la, row.a), (lb, row.b)], row.score, row.article_id),)
    yield ("</body>\n</tmx>\n",)


def _tmx_multiway(langs: list[str], rows: Iterable[MultiRow]) -> Iterator[tuple[str]]:
    # TMX 1.4: srclang "*all*" when no language is the source; a <tu> holds any number of
    # <tuv>, here one per language the tuple holds.
    yield (_tmx_header("*all*"),)
    for row in rows:
        sides = [(lang, text) for lang, text in row.texts.items() if text is not None]
        yield (_tmx_unit(sides, row.score, row.article_id),)
    yield ("</body>\n</tmx>\n",)


def _jsonl_multiway(langs: list[str], rows: Iterable[MultiRow]) -> Iterator[tuple[str]]:
    for row in rows:
        record = {lang: text for lang, text in row.texts.items() if text is not None}
        record |= {"score": round(row.score, 4), "article_id": row.article_id}
        yield (json.dumps(record, ensure_ascii=False) + "\n",)


def _moses(la: str, lb: str, rows: Iterable[PairRow], out: Path) -> Iterator[tuple[str, str]]:
    # One segment per line, so a line break inside one would misalign the two files.
    for row in rows:
        yield _one_line(row.a) + "\n", _one_line(row.b) + "\n"


def _jsonl(la: str, lb: str, rows: Iterable[PairRow], out: Path) -> Iterator[tuple[str]]:
    for row in rows:
        record = {la: row.a, lb: row.b, "score": round(row.score, 4), "article_id": row.article_id}
        if row.url_a or row.url_b:
            record["url"] = {la: row.url_a, lb: row.url_b}
        yield (json.dumps(record, ensure_ascii=False) + "\n",)


def _bicleaner(la: str, lb: str, rows: Iterable[PairRow], out: Path) -> Iterator[tuple[str]]:
    # Bicleaner's and Bitextor's five columns: url1 url2 src tgt score (no header). A side
    # without a URL (a plain text file) is named by its input path.
    document = _document_names(out)
    for row in rows:
        url_a = row.url_a or document(row.ids_a[0])
        url_b = row.url_b or document(row.ids_b[0])
        fields = (url_a, url_b, row.a, row.b, f"{row.score:.4f}")
        yield ("\t".join(_one_line(field) for field in fields) + "\n",)


def _document_names(out: Path) -> Callable[[int], str]:
    """The name of the document a sentence id (of sentences.parquet) belongs to: its URL,
    or its input path where no URL is known. A build numbers sentences consecutively
    through its files in the order of articles.parquet (``pipeline._first_sentence_ids``),
    so that small table's ``n_sentences`` give each file's first id: the sentences are
    not read."""
    articles = pq.ParquetFile(out / "articles.parquet")  # one row per input file
    columns = [c for c in ("path", "url", "n_sentences") if c in articles.schema_arrow.names]
    rows = articles.read(columns=columns).to_pylist()
    starts = np.cumsum([0] + [r["n_sentences"] for r in rows[:-1]]).tolist()

    def name(sentence_id: int) -> str:
        row = rows[bisect_right(starts, sentence_id) - 1]
        return row.get("url") or row["path"]

    return name


def _xces(la: str, lb: str, rows: Iterable[PairRow], out: Path) -> Iterator[tuple[str]]:
    # OPUS's XCES sentence alignment: one linkGrp per document pair, links whose xtargets
    # name sentence ids ("s" + sentence_id of sentences.parquet) of each side. An article's
    # variant (a second file of one language) is a document pair of its own, so rows are
    # gathered per article and split by the files their sentences belong to.
    document = _document_names(out)
    yield (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<!DOCTYPE cesAlign PUBLIC "-//CES//DTD XML cesAlign//EN" "">\n'
        '<cesAlign version="1.0">\n',
    )
    n = 0
    for _, article_rows in groupby(rows, key=lambda row: row.article_id):
        groups: dict[tuple[str, str], list[PairRow]] = {}
        for row in article_rows:
            groups.setdefault((document(row.ids_a[0]), document(row.ids_b[0])), []).append(row)
        for (from_doc, to_doc), links in groups.items():
            yield (
                f'<linkGrp targType="s" fromDoc={_xml_attr(from_doc)} toDoc={_xml_attr(to_doc)}>\n',
            )
            for row in links:
                n += 1
                ids_a, ids_b = (" ".join(f"s{i}" for i in ids) for ids in (row.ids_a, row.ids_b))
                targets = f"{ids_a};{ids_b}"
                yield (f'<link id="SL{n}" xtargets="{targets}" certainty="{row.score:.4f}"/>\n',)
            yield ("</linkGrp>\n",)
    yield ("</cesAlign>\n",)


# Each export format by its --format name: a writer of (la, lb, rows, out) that yields the
# pieces of text to append to each output file. A new format is one writer and one entry.
_WRITERS = {"tmx": _tmx, "moses": _moses, "jsonl": _jsonl, "bicleaner": _bicleaner, "xces": _xces}
FORMATS = tuple(_WRITERS)
# The formats that hold more than two sides, for the multiway config: a writer of (langs, rows).
_MULTIWAY_WRITERS = {"tmx": _tmx_multiway, "jsonl": _jsonl_multiway}


def export(out: Path, pair: str, fmt: str, to: Path, min_score: float = 0.0) -> list[Path]:
    """Write the rows of config ``pair`` (in either order: ``sv-ar`` writes ``ar-sv`` with
    Swedish first) scoring at least ``min_score`` of the build in ``out`` to ``to``;
    returns the files written.

    Formats: ``tmx`` (TMX 1.4b), ``jsonl``, ``bicleaner`` (TSV: url1, url2, source, target,
    score), ``xces`` (OPUS cesAlign, links between sentence ids) write the file ``to``;
    ``moses`` writes ``to.<a>`` and ``to.<b>``. The ``multiway`` config exports as ``tmx``
    (a ``<tu>`` with a ``<tuv>`` per language of the tuple) or ``jsonl``. Raises UsageError
    for an unknown format or pair, CorpusError for a file that cannot be written; nothing
    is left half-written.
    """
    if fmt not in FORMATS:
        raise UsageError(f"{fmt}: unknown format (choose {', '.join(FORMATS)})")
    if pair == MULTIWAY:
        if fmt not in _MULTIWAY_WRITERS:
            formats = " or ".join(_MULTIWAY_WRITERS)
            raise UsageError(f"{pair}: --format {formats} (a tuple has more than two sides)")
        pair_names(out)  # a build at all
        langs = multiway_langs(out)
        return _write(to, [to], _MULTIWAY_WRITERS[fmt](langs, iter_multiway(out, min_score)))
    rows = iter_pairs(out, pair, min_score)
    la, lb = pair.split("-")
    targets = [to.with_name(f"{to.name}.{la}"), to.with_name(f"{to.name}.{lb}")]
    targets = targets if fmt == "moses" else [to]
    return _write(to, targets, _WRITERS[fmt](la, lb, rows, out))


def _write(to: Path, targets: list[Path], pieces_of: Iterable[tuple[str, ...]]) -> list[Path]:
    """Write each tuple of ``pieces_of`` to ``targets``, piece k to file k; every file
    renamed into place once all are complete. CorpusError naming ``to`` when one cannot be
    written."""
    try:
        with ExitStack() as renamed:  # every file renamed into place once all are complete
            temps = [renamed.enter_context(atomic_file(target)) for target in targets]
            with ExitStack() as opened:
                files = [opened.enter_context(t.open("w", encoding="utf-8")) for t in temps]
                for pieces in pieces_of:
                    for file, piece in zip(files, pieces, strict=True):
                        file.write(piece)
    except OSError as exc:
        raise CorpusError(f"{to}: cannot write export ({exc.strerror or exc})") from exc
    return targets
