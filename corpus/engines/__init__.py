"""Runners of the build's stages (``corpus.stages``): the same stage code in this process
(``embedded``, the default) or on a Ray cluster (``ray_data``).

A runner does the work that is embarrassingly parallel: files through read, identify,
segment and embed, a batch at a time, and articles through alignment. The driver
(``corpus.pipeline``) does the rest, whichever runner it uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from corpus.inputs.extraction import FieldNames
from corpus.stages import EmbedSentences

ENGINES = ("embedded", "ray")


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0))


class Engine(Protocol):
    def files(
        self,
        root: Path | str,
        batches: list[list[str]],
        fields: FieldNames,
        default_model: bool,
        embed: EmbedSentences,
    ) -> Iterator[pa.Table]:
        """Each batch of input files (paths relative to ``root``) through read, identify,
        segment and embed: one embedded files table per batch, in the order given."""
        ...

    def beads(
        self, articles: Iterator[pa.Table], n_articles: int, work: Path
    ) -> Iterator[pa.Table]:
        """Beads tables of the articles (``stages.align_input_schema`` tables, one per
        article, sorted by article id), in that order; ``work`` is a scratch folder."""
        ...
