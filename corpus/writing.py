"""Write the dataset: Parquet tables plus a dataset card, atomically.

Layout (the output contract)::

    OUT/README.md                                  dataset card with a YAML ``configs:`` block
    OUT/data/<a>-<b>/train-0000i-of-0000n.parquet  one config per language pair (codes sorted)
    OUT/data/multiway/train-00000-of-00001.parquet
    OUT/articles.parquet                           one row per input file
    OUT/sentences.parquet                          one row per sentence

Everything is written into a hidden sibling folder that replaces OUT only when
complete, so a crash never leaves a half-written dataset behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.alignment import Bead
from corpus.errors import CorpusError
from corpus.evaluation import format_bead

MARKER = ".corpus-build"  # identifies a folder this tool wrote, so it may replace it
ROWS_PER_SHARD = 500_000

SENTENCES_SCHEMA = pa.schema(
    [
        ("sentence_id", pa.int32()),
        ("path", pa.string()),
        ("article_id", pa.string()),
        ("lang", pa.string()),
        ("text", pa.string()),
        ("char_start", pa.int32()),
        ("char_end", pa.int32()),
    ]
)

ARTICLES_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("lang", pa.string()),
        ("lang_confidence", pa.float32()),
        ("lang_mixed", pa.bool_()),
        ("article_id", pa.string()),
        ("n_sentences", pa.int32()),
    ]
)


def bead_schema(langs: Sequence[str]) -> pa.Schema:
    """Schema of a pair config (two languages) or of the multiway config (all languages)."""
    return pa.schema(
        [
            ("translation", pa.struct([(lang, pa.string()) for lang in langs])),
            ("score", pa.float32()),
            ("article_id", pa.string()),
            ("align_type", pa.string()),
            ("sentence_ids", pa.struct([(lang, pa.list_(pa.int32())) for lang in langs])),
        ]
    )


def write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def write_config(table: pa.Table, folder: Path) -> list[str]:
    """Write one config as train shards of at most ROWS_PER_SHARD rows; returns file names."""
    n_shards = max(1, -(-table.num_rows // ROWS_PER_SHARD))
    names = []
    for k in range(n_shards):
        name = f"train-{k:05d}-of-{n_shards:05d}.parquet"
        write_table(table.slice(k * ROWS_PER_SHARD, ROWS_PER_SHARD), folder / name)
        names.append(name)
    return names


def _is_replaceable(out: Path) -> bool:
    return not out.exists() or (out / MARKER).exists() or (out.is_dir() and not any(out.iterdir()))


@contextmanager
def atomic_output(out: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out``, on failure it is removed.

    An existing ``out`` is replaced only when an earlier build wrote it (or it is
    empty), unless ``force``: a typo in ``--out`` must not delete someone's data.
    """
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise CorpusError(f"{out}: exists and is not a folder")
    if not force and not _is_replaceable(out):
        raise CorpusError(
            f"{out}: folder exists and was not written by corpus build; "
            "choose another --out or pass --force to replace it"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    except OSError as exc:
        raise CorpusError(f"{out.parent}: cannot write output ({exc.strerror})") from exc
    try:
        yield staging
        (staging / MARKER).write_text("written by corpus build\n")
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise CorpusError(f"{out}: cannot write output ({exc.strerror or exc})") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# ``corpus align`` output: one row per bead, insertions and deletions included.
ALIGNMENT_SCHEMA = pa.schema(
    [
        ("src_ids", pa.list_(pa.int32())),
        ("tgt_ids", pa.list_(pa.int32())),
        ("src", pa.string()),
        ("tgt", pa.string()),
        ("score", pa.float32()),
        ("align_type", pa.string()),
    ]
)


def alignment_text(src: Sequence[str], tgt: Sequence[str], beads: Sequence[Bead], fmt: str) -> str:
    """Beads as ``[src ids]:[tgt ids]:score`` lines, or as ``src<TAB>tgt<TAB>score`` rows."""
    if fmt == "beads":
        lines = [format_bead((b.src, b.tgt), round(b.score, 4)) for b in beads]
    else:
        lines = [
            "\t".join([_joined(src, b.src), _joined(tgt, b.tgt), f"{b.score:.4f}"]) for b in beads
        ]
    return "".join(line + "\n" for line in lines)


def _joined(texts: Sequence[str], ids: Sequence[int]) -> str:
    return " ".join(" ".join(texts[i].split()) for i in ids)


def write_alignment(
    src: Sequence[str], tgt: Sequence[str], beads: Sequence[Bead], fmt: str, out: Path
) -> None:
    """Write ``corpus align`` output to ``out`` via a temporary name, renamed when complete."""
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            rows = [
                {
                    "src_ids": list(b.src),
                    "tgt_ids": list(b.tgt),
                    "src": _joined(src, b.src),
                    "tgt": _joined(tgt, b.tgt),
                    "score": b.score,
                    "align_type": b.align_type,
                }
                for b in beads
            ]
            pq.write_table(pa.Table.from_pylist(rows, ALIGNMENT_SCHEMA), tmp, compression="zstd")
        else:
            tmp.write_text(alignment_text(src, tgt, beads, fmt), encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CorpusError(f"{out}: cannot write output ({exc.strerror or exc})") from exc
