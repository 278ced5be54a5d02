"""Export one language-pair config as TMX 1.4b, Moses plain text or JSON lines, streaming.

Rows are read batch by batch with ``ParquetFile.iter_batches``, so memory stays bounded by
the batch size whatever the corpus size. Files are written under a temporary name and
renamed when complete.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pyarrow.parquet as pq

from corpus.errors import CorpusError, UsageError

FORMATS = ("tmx", "moses", "jsonl")
BATCH_ROWS = 10_000
# Characters XML 1.0 does not allow (its Char production, section 2.2). Builds remove them at
# read time; this keeps a TMX well-formed whatever Parquet it is exported from.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def pair_names(out: Path) -> list[str]:
    """The language-pair configs of the build in ``out``, sorted; UsageError if none."""
    data = out / "data"
    pairs = sorted(p.name for p in data.iterdir() if p.is_dir()) if data.is_dir() else []
    pairs = [name for name in pairs if name != "multiway"]
    if not pairs:
        raise UsageError(f"{out}: not a corpus build (no data/<pair> folders)")
    return pairs


def iter_pairs(out: Path, pair: str) -> Iterator[tuple[str, str, float, str, str]]:
    """(first side, second side, score, article_id, align_type) of every row of ``pair``.

    UsageError, listing the pairs there are, for a pair that is not in the build.
    """
    pairs = pair_names(out)
    if pair not in pairs:
        raise UsageError(f"{out}: no pair {pair} (available: {', '.join(pairs)})")
    return _rows(out, pair)


def _rows(out: Path, pair: str) -> Iterator[tuple[str, str, float, str, str]]:
    la, lb = pair.split("-")
    shards = sorted((out / "data" / pair).glob("train-*.parquet"))
    for shard in shards:
        for batch in pq.ParquetFile(shard).iter_batches(
            BATCH_ROWS, columns=["translation", "score", "article_id", "align_type"]
        ):
            trans = batch.column("translation")
            yield from zip(
                trans.field(la).to_pylist(),
                trans.field(lb).to_pylist(),
                batch.column("score").to_pylist(),
                batch.column("article_id").to_pylist(),
                batch.column("align_type").to_pylist(),
                strict=True,
            )


def _tmx_unit(la: str, lb: str, a: str, b: str, score: float, article_id: str) -> str:
    return (
        f'<tu><prop type="score">{score:.4f}</prop>'
        f'<prop type="article_id">{_xml_text(article_id)}</prop>'
        f"<tuv xml:lang={quoteattr(la)}><seg>{_xml_text(a)}</seg></tuv>"
        f"<tuv xml:lang={quoteattr(lb)}><seg>{_xml_text(b)}</seg></tuv></tu>\n"
    )


def export(out: Path, pair: str, fmt: str, to: Path) -> list[Path]:
    """Write config ``pair`` of the build in ``out`` to ``to``; returns the files written.

    tmx and jsonl write the file ``to``; moses writes ``to.<a>`` and ``to.<b>``.
    """
    if fmt not in FORMATS:
        raise UsageError(f"{fmt}: unknown format (choose {', '.join(FORMATS)})")
    rows = iter_pairs(out, pair)
    la, lb = pair.split("-")
    targets = [to.with_name(f"{to.name}.{la}"), to.with_name(f"{to.name}.{lb}")]
    targets = targets if fmt == "moses" else [to]
    temps = [t.with_name(f".{t.name}.tmp-{os.getpid()}") for t in targets]
    try:
        with ExitStack() as stack:
            files = [stack.enter_context(t.open("w", encoding="utf-8")) for t in temps]
            if fmt == "tmx":
                files[0].write(
                    '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\n'
                    '<header creationtool="corpus" creationtoolversion="1" datatype="plaintext" '
                    f'segtype="sentence" adminlang="en" srclang={quoteattr(la)} '
                    'o-tmf="parquet"/>\n<body>\n'
                )
            for a, b, score, article_id, _ in rows:
                if fmt == "tmx":
                    files[0].write(_tmx_unit(la, lb, a, b, score, article_id))
                elif fmt == "jsonl":
                    record = {la: a, lb: b, "score": round(score, 4), "article_id": article_id}
                    files[0].write(json.dumps(record, ensure_ascii=False) + "\n")
                else:  # Moses: one segment per line, so line breaks inside one would misalign
                    files[0].write(" ".join(a.split()) + "\n")
                    files[1].write(" ".join(b.split()) + "\n")
            if fmt == "tmx":
                files[0].write("</body>\n</tmx>\n")
        for temp, target in zip(temps, targets, strict=True):
            temp.replace(target)
    except OSError as exc:
        raise CorpusError(f"{to}: cannot write export ({exc.strerror or exc})") from exc
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    return targets
