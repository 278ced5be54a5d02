"""``corpus align``: the sentences of two files aligned with the aligner of ``build``, and
the result written as bead lines, tab-separated text or Parquet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.alignment.dp import AlignParams
from corpus.alignment.sentence_alignment import align, joined_embedder
from corpus.atomic import atomic_file
from corpus.embedding.embed import EmbedOptions
from corpus.embedding.encoder import Encoder, load_encoder
from corpus.errors import CorpusError
from corpus.inputs.reading import read_document
from corpus.records import Bead, format_bead
from corpus.text.langid import identify
from corpus.text.language_tags import base_language
from corpus.text.segmentation import segment


@dataclass(frozen=True)
class FileAlignment:
    """``corpus align``'s result: the sentences of both files and the beads between them."""

    src: list[str]
    tgt: list[str]
    beads: list[Bead]
    n_encoded: int  # strings passed to the encoder, joined spans included


def file_sentences(path: Path, presegmented: bool) -> list[str]:
    """One file's sentences: its lines as they are, or segmented like ``build`` does."""
    path = path.absolute()
    doc = read_document(path, path.parent)
    if presegmented:
        lines = doc.text.split("\n")
        return lines[:-1] if lines[-1] == "" else lines
    guess = identify(doc.text, doc.paragraphs)
    return [s.text for s in segment(doc.text, base_language(guess.lang), doc.paragraphs)]


def align_texts(
    src: list[str],
    tgt: list[str],
    encoder: Encoder,
    batch_size: int = 32,
    progress: bool = False,
    rescore_merges: bool = False,
) -> list[Bead]:
    """Align two lists of sentences with the aligner ``build`` uses.

    ``rescore_merges`` adds the second pass that embeds the joined text of merge
    candidates (about 0.2 more strings per sentence).
    """
    emb = encoder.encode(src + tgt, batch_size=batch_size, show_progress_bar=progress)
    return align(
        emb[: len(src)],
        emb[len(src) :],
        [len(t) for t in src],
        [len(t) for t in tgt],
        AlignParams(),
        joined_embedder(encoder, src, tgt, batch_size) if rescore_merges else None,
    )


def align_files(
    src_path: Path,
    tgt_path: Path,
    embedding: EmbedOptions,
    presegmented: bool = False,
    rescore_merges: bool = False,
    progress: bool = True,
) -> FileAlignment:
    """Sentences of two files aligned: the pipeline of ``build`` for one known pair, with the
    encoder ``embedding`` names."""
    src, tgt = file_sentences(src_path, presegmented), file_sentences(tgt_path, presegmented)
    encoder = load_encoder(embedding.model, embedding.precision)
    beads = align_texts(src, tgt, encoder, embedding.batch_size, progress, rescore_merges)
    return FileAlignment(src, tgt, beads, encoder.n_encoded)


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
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(out) as tmp:
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
                table = pa.Table.from_pylist(rows, ALIGNMENT_SCHEMA)
                pq.write_table(table, tmp, compression="zstd")
            else:
                tmp.write_text(alignment_text(src, tgt, beads, fmt), encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"{out}: cannot write output ({exc.strerror or exc})") from exc
