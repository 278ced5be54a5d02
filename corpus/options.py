"""What a build is asked to do (``BuildOptions``, with ``EmbedOptions`` for its encoder) and
what it did (``BuildSummary``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.inputs.extraction import DEFAULT_FIELDS, FieldNames
from corpus.outputs.filters import FilterOptions, LengthRatio
from corpus.records import Skipped


@dataclass(frozen=True)
class EmbedOptions:
    """The encoder of a build or of ``corpus align`` (the embed stage's settings)."""

    model: str | None = None  # None: the bundled multilingual-e5-small
    precision: str = "auto"  # encoder.PRECISIONS: the machine's best, or one forced
    batch_size: int = 32
    threads: int | None = None  # torch threads; None: the library's default


@dataclass(frozen=True)
class BuildOptions:
    embedding: EmbedOptions = field(default_factory=EmbedOptions)
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
