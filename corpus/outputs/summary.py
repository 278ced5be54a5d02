"""What a build did (``BuildSummary``): files, articles, sentences, rows per config, what each
filter removed and learnt, timings per stage, skipped inputs and warnings. The CLI reports
it and the dataset card is written from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.outputs.filters import LengthRatio
from corpus.records import Skipped


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
