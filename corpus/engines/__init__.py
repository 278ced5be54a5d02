"""Engines: where the stages of the graph (``corpus.graph``) that run per batch of files and
per article run: in this process (``embedded``, the default) or on Ray Data (``ray_data``).

An engine does the work that is embarrassingly parallel: files through ``FILE_STAGES`` (read,
identify, segment, embed), a batch at a time, and articles through the align stage. The
driver (``corpus.pipeline``) does the rest, whichever engine it uses. A new engine is one
module here that runs ``graph.FILE_STAGES`` in their order and ``graph.ARTICLE_STAGE``, and
its line in ``ENGINES`` (the CLI's ``--engine`` choices come from it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from corpus.graph import FileSettings

if TYPE_CHECKING:
    from corpus.options import BuildOptions

# Each engine by its --engine name: "module:class", a class built from (BuildOptions, timed),
# where ``timed(stage)`` is a context manager that measures a stage. Imported when chosen.
ENGINES = {
    "embedded": "corpus.engines.embedded:EmbeddedEngine",
    "ray": "corpus.engines.ray_data:RayEngine",
}


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def engine_for(
    options: BuildOptions, timed: Callable[[str], AbstractContextManager[None]]
) -> Engine:
    """The engine ``options.engine`` names (``ENGINES``), built for this build."""
    module, name = ENGINES[options.engine].split(":")
    return getattr(import_module(module), name)(options, timed)


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
