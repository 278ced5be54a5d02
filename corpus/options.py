"""What a build is asked to do (``BuildOptions``) and what it did (``BuildSummary``)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from corpus.inputs.extraction import DEFAULT_FIELDS, FieldNames
from corpus.outputs.filters import FilterOptions, LengthRatio
from corpus.records import Skipped


@dataclass(frozen=True)
class BuildOptions:
    model: str | None = None  # None: the bundled multilingual-e5-small
    batch_size: int = 32
    precision: str = "auto"  # embedding.PRECISIONS: the machine's best, or one forced
    filters: FilterOptions = field(default_factory=FilterOptions)
    progress: bool = True
    force: bool = False  # replace an --out folder that this tool did not write
    command: str = ""  # the command line, recorded in the dataset card
    cache: bool = True  # reuse embeddings of sentences seen in earlier builds
    cache_dir: Path | None = None  # None: default_cache_dir(out)
    fields: FieldNames = DEFAULT_FIELDS  # field names of JSON-lines and Parquet dumps
    data_files_only: bool | None = None  # read dumps only (a dataset); None: detect
    engine: str = "embedded"  # a name of engines.ENGINES: this process, or Ray Data
    ray_address: str | None = None  # --engine ray: None starts a local Ray; "auto", HOST:PORT
    files_per_batch: int = 64  # files read, identified, segmented and embedded together


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


@dataclass
class BuildSummary:
    out: Path
    n_files: int
    n_articles: int
    n_sentences: int
    pairs: dict[str, int]  # rows per language-pair config, e.g. {"ar-sv": 25}
    n_multiway: int
    skipped: list[Skipped]
    warnings: list[str]
    engine: str = "embedded"
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    cpu: dict[str, float] = field(default_factory=dict)  # process CPU seconds per stage
    n_encoded: int = 0  # sentences passed to the model
    n_cached: int = 0  # distinct sentences whose embedding came from the cache
    removed: dict[str, dict[str, int]] = field(default_factory=dict)  # per pair, per filter
    n_not_text: int = 0  # control characters and non-characters removed at read time
    n_files_not_text: int = 0  # files they were removed from
    length_ratios: dict[str, LengthRatio] = field(default_factory=dict)  # per pair
    close_pairs: list[str] = field(default_factory=list)  # pairs langid does not separate
