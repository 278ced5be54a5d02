"""Engines: where the stages of the graph (``corpus.graph``) that run per batch of files and
per article run: in this process (``embedded``, the default) or on Ray Data (``ray_data``).

An engine does the work that is embarrassingly parallel: files through ``FILE_STAGES`` (read,
identify, segment, embed), a batch at a time, and articles through the align stage. The
driver (``corpus.pipeline``) does the rest, whichever engine it uses. A new engine is one
module here that runs ``graph.FILE_STAGES`` in their order and ``graph.ARTICLE_STAGE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from corpus.graph import FileSettings

ENGINES = ("embedded", "ray")


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0))


class Engine(Protocol):
    def files(self, batches: list[list[str]], settings: FileSettings) -> Iterator[pa.Table]:
        """Each batch of input files (paths relative to ``settings.root``) through
        ``graph.FILE_STAGES``: one embedded files table per batch, in the order given."""
        ...

    def beads(
        self, articles: Iterator[pa.Table], n_articles: int, work: Path
    ) -> Iterator[pa.Table]:
        """Beads tables of the articles (``tables.align_input_schema`` tables, one per
        article, sorted by article id), in that order; ``work`` is a scratch folder."""
        ...
