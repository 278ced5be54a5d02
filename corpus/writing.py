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

import ctypes
import errno
import os
import shutil
import sys
import time
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

_LIBC = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2  # from <fcntl.h> and <linux/fs.h>

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
        # Probability that the file belongs to its article (null when alone), and for a
        # file left alone, why (its best candidate and that pair's probability).
        ("article_score", pa.float32()),
        ("alone_reason", pa.string()),
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


def bead_table(
    langs: Sequence[str],
    texts: dict[str, list[str | None]],
    sentence_ids: dict[str, list[list[int] | None]],
    scores: list[float],
    article_id: str,
    align_types: list[str],
) -> pa.Table:
    """Rows of one article in ``bead_schema(langs)``, built column by column.

    Builds keep these columnar tables rather than Python rows until they are written:
    a pair row as nested dicts costs about 1.7 KB, several times its text.
    """
    schema = bead_schema(langs)

    def struct(values: dict[str, list], field: str) -> pa.StructArray:
        kind = schema.field(field).type
        arrays = [pa.array(values[lang], kind.field(lang).type) for lang in langs]
        return pa.StructArray.from_arrays(arrays, fields=list(kind))

    n = len(scores)
    columns = [
        struct(texts, "translation"),
        pa.array(scores, pa.float32()),
        pa.array([article_id] * n, pa.string()),
        pa.array(align_types, pa.string()),
        struct(sentence_ids, "sentence_ids"),
    ]
    return pa.Table.from_arrays(columns, schema=schema)


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


def pause_point(name: str) -> None:
    """Sleep here when ``CORPUS_PAUSE_AT=name:seconds`` is set (crash tests kill the build here).

    It only waits: the build does exactly the same work with or without it.
    """
    wanted, _, seconds = os.environ.get("CORPUS_PAUSE_AT", "").partition(":")
    if wanted == name:
        print(f"corpus: paused at {name}", file=sys.stderr, flush=True)
        time.sleep(float(seconds or 60))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@contextmanager
def output_lock(out: Path) -> Iterator[list[str]]:
    """Hold ``.OUT.lock`` (holding our pid) for a whole build; yields warnings for the summary.

    A second build into the same folder is refused while the holder lives; a lock left by a
    killed build (its pid is gone) is taken over with a warning, so it never stays stuck.
    """
    out = out.absolute()
    lock = out.parent / f".{out.name}.lock"
    warnings: list[str] = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileExistsError:
                try:
                    pid = int(lock.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and _pid_alive(pid):
                    raise CorpusError(
                        f"{out}: another build (pid {pid}) is writing this folder; "
                        f"wait for it to finish (lock file {lock})"
                    ) from None
                warnings.append(f"{lock}: removed stale lock of a build that died (pid {pid})")
                lock.unlink(missing_ok=True)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        warnings += recover(out)
    except OSError as exc:
        raise CorpusError(f"{out.parent}: cannot write output ({exc.strerror or exc})") from exc
    try:
        yield warnings
    finally:
        lock.unlink(missing_ok=True)


def recover(out: Path) -> list[str]:
    """Clean up after a build killed mid-write; call only while holding the output lock.

    Only the lock holder writes, so every ``.OUT.tmp-*`` staging folder is left over. A build
    killed between moving OUT aside and renaming its staging folder in leaves OUT missing and
    ``.OUT.old-*`` present: that previous build is moved back.
    """
    out = out.absolute()
    notes = []
    for staging in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(staging, ignore_errors=True)
        notes.append(f"{staging}: removed unfinished output of an interrupted build")
    for old in sorted(out.parent.glob(f".{out.name}.old-*")):
        if not out.exists():
            old.rename(out)
            notes.append(f"{out}: restored the previous build after an interrupted replace")
        else:
            shutil.rmtree(old, ignore_errors=True)
    return notes


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE).

    Returns False where the system or file system cannot, so the caller falls back to
    two renames.
    """
    renameat2 = getattr(_LIBC, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextmanager
def atomic_output(out: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out``, on failure it is removed.

    An existing ``out`` is replaced only when an earlier build wrote it (or it is
    empty), unless ``force``: a typo in ``--out`` must not delete someone's data.
    The swap is one atomic exchange where the system has it (Linux), else two renames
    (OUT -> .OUT.old-PID, staging -> OUT); a kill between those is repaired by `recover`
    at the start of the next build.
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
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    try:
        yield staging
        (staging / MARKER).write_text("written by corpus build\n")
        pause_point("written")
        if out.exists() and exchange(staging, out):
            # Staging now holds the previous build; OUT was complete at every instant.
            pause_point("swapped")
            shutil.rmtree(staging, ignore_errors=True)
            return
        if out.exists():
            out.rename(old)
        pause_point("swapping")
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if not out.exists() and old.exists():
            old.rename(out)  # the swap failed halfway: put the previous build back
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
