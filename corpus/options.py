"""What a build is asked to do (``BuildOptions``, with the embed stage's ``EmbedOptions`` for
its encoder and the filter stage's ``FilterOptions``); what it did is
``corpus.outputs.summary.BuildSummary``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.embedding.embed import EmbedOptions
from corpus.inputs.extraction import DEFAULT_FIELDS, FieldNames
from corpus.outputs.filters import FilterOptions


@dataclass(frozen=True)
class BuildOptions:
    embedding: EmbedOptions = field(default_factory=EmbedOptions)
    filters: FilterOptions = field(default_factory=FilterOptions)
    progress: bool = True
    force: bool = False  # replace an --out folder that this tool did not write
    command: str = ""  # the command line, recorded in the dataset card
    license: str = "unknown"  # the corpus's licence, a Hub licence id (cc-by-4.0), for the card
    source: str = ""  # where the articles come from (free text or a URL), for the card
    cache: bool = True  # reuse embeddings of sentences seen in earlier builds
    cache_dir: Path | None = None  # None: default_cache_dir(out)
    fields: FieldNames = DEFAULT_FIELDS  # field names of JSON-lines and Parquet dumps
    data_files_only: bool | None = None  # read dumps only (a dataset); None: detect
    engine: str = "embedded"  # a name of engines.ENGINES: this process, or Ray Data
    ray_address: str | None = None  # --engine ray: None starts a local Ray; "auto", HOST:PORT
    files_per_batch: int = 64  # files read, identified, segmented and embedded together
