"""Record types shared by the stages: beads, multi-way beads and the bead notation.

This module sits at the bottom of the package: stages import it, it imports no stage.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

# Sentence ids of a bead's two sides, as gold files and ``corpus align --format beads`` write them.
BeadIds = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Bead:
    """Source and target sentence indices (0-based, consecutive) and a confidence in [0, 1]."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float

    @property
    def align_type(self) -> str:
        return f"{len(self.src)}-{len(self.tgt)}"


@dataclass(frozen=True)
class MultiBead:
    """Sentences of several languages that the pairwise alignments tie together."""

    ids: dict[str, tuple[int, ...]]  # language -> sentence indices in that language's file
    score: float  # mean confidence of the pairwise beads inside the tuple


_INDEX_LIST = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)?\s*\]")


def _parse_indices(field: str) -> tuple[int, ...] | None:
    match = _INDEX_LIST.fullmatch(field.strip())
    if match is None:
        return None
    return tuple(int(i) for i in match.group(1).split(",")) if match.group(1) else ()


def parse_beads(text: str) -> list[BeadIds]:
    """Parse ``[src ids]:[tgt ids]`` lines, one bead per line, 0-based indices.

    A third ``:score`` field (aligner output) is ignored. Blank lines are skipped. Beads are
    returned as written: cleaning (empty beads, duplicates) is the scorer's job.
    """
    beads: list[BeadIds] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(":")
        src = _parse_indices(fields[0])
        tgt = _parse_indices(fields[1]) if len(fields) > 1 else None
        if src is None or tgt is None or len(fields) > 3:
            raise ValueError(f"line {lineno}: expected '[src ids]:[tgt ids][:score]', got {line!r}")
        beads.append((src, tgt))
    return beads


def format_bead(bead: BeadIds, score: float | None = None) -> str:
    """Format a bead as ``[0]:[0, 1]`` or, with a score, ``[0]:[0, 1]:0.87``."""
    src, tgt = bead
    text = f"{list(src)}:{list(tgt)}"
    return text if score is None else f"{text}:{score}"


@dataclass(frozen=True)
class ArticleFile:
    key: str  # stable identity of the file content (sha256)
    lang: str
    embeddings: np.ndarray  # (n_sentences, dim), unit rows
    text: str = ""  # the document text: near-duplicate checks and shared numbers/URLs
    lengths: np.ndarray | None = None  # characters per sentence; None: length evidence unused
    name: str = ""  # how reasons name the file (its path)
    mixed: bool = False  # paragraphs in more than one language (langid)
    sentences: tuple[str, ...] = ()  # sentence texts; near-duplicate checks set boilerplate apart


@dataclass(frozen=True)
class Link:
    a: int  # index into the files
    b: int
    score: float  # translation_score (near duplicates) or pair probability (translations)
    damage: str | None = None  # near duplicates: why ``a`` is a damaged copy of ``b``


@dataclass(frozen=True)
class Grouping:
    article_ids: list[str | None]  # per file; None when the file stays alone
    links: list[Link]  # the accepted links that formed the articles
    article_scores: list[float | None]  # per grouped file: probability it belongs there
    alone_reasons: list[str | None]  # per file left alone: why
    # Probability of every two files of one article (a < b), and of each variant with the
    # files of its article in other languages: bead scores fold it in.
    pair_probabilities: dict[tuple[int, int], float] = field(default_factory=dict)
    # Files left alone that are a second rendering of an article in a language code it
    # already holds (``_variants``): file index -> that article's id. To be aligned with the
    # article's files of other languages; their pairs share the article's config names.
    variants: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    path: str  # relative to the input root
    reason: str  # short, for people, e.g. "binary file (PNG image)"


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


# A container file (WARC, JSON lines, Parquet: records named FILE#KEY) with more skipped records
# than this is summarised: a line per kind of reason, with this many of its first keys.
SKIPS_LISTED = 3


def skip_lines(skipped: list[Skipped], *, markdown: bool = False) -> list[str]:
    """``PATH: REASON`` per skipped input, in order; the records of a container with more than
    ``SKIPS_LISTED`` of them summed up per kind of reason (its numbers aside): ``FILE: N
    records skipped: REASON (first: #a, #b, #c)``, with the reason of the first of them.
    ``markdown``: paths in backticks."""

    def name(path: str) -> str:
        return f"`{path}`" if markdown else path

    by_container: dict[str, list[Skipped]] = defaultdict(list)
    for s in skipped:
        by_container[s.path.split("#")[0]].append(s)
    lines = []
    for container, items in by_container.items():
        if len(items) <= SKIPS_LISTED:
            lines += [f"{name(s.path)}: {s.reason}" for s in items]
            continue
        kinds: dict[str, list[Skipped]] = defaultdict(list)
        for s in items:
            kinds[re.sub(r"\d+(?:[.,]\d+)*", "N", s.reason)].append(s)
        for group in kinds.values():
            first = ", ".join("#" + s.path.split("#", 1)[1] for s in group[:SKIPS_LISTED])
            more = ", ..." if len(group) > SKIPS_LISTED else ""
            what = "record skipped" if len(group) == 1 else "records skipped"
            lines.append(
                f"{name(container)}: {len(group)} {what}: {group[0].reason} (first: {first}{more})"
            )
    return lines
