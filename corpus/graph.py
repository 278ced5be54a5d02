"""The build's stage graph, stated once: what each stage takes, gives, and where it runs.

Both engines (``corpus.engines``) run ``FILE_STAGES`` in this order over each batch of
files, and the driver (``corpus.pipeline``) runs the rest in this order; ``corpus build
--explain`` prints this list. A stage is named by ``module:attribute`` and imported only
when it runs, so that reading the graph costs nothing.

A per-file stage is a function ``table -> table`` whose keyword arguments are named in
``settings`` (fields of ``FileSettings``), or, where it holds something expensive (a model),
a class built from those settings whose ``setup()`` loads it once per process and whose
``__call__(table) -> table`` handles one batch: the shape of Ray Data's ``map_batches``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from corpus.embedding.embed import EmbedOptions
    from corpus.inputs.extraction import FieldNames

# Where a stage runs: on the engine (per batch of files or per article, in parallel, in
# this process or on Ray) or on the driver (once per build, over what the engine gave).
ENGINE, DRIVER = "engine", "driver"


@dataclass(frozen=True)
class FileSettings:
    """What the per-file stages are told about a build (each takes the fields it names)."""

    root: str  # the input folder, or a pyarrow.fs URI of one
    fields: FieldNames  # JSONL/Parquet dumps: which fields hold text, id, language, URL
    default_model: bool  # the bundled model embeds: warn of languages it was not trained on
    cache_dir: Path | None  # the stores of languages and embeddings; None: no cache
    options: EmbedOptions  # the encoder, its precision, batch size and threads


@dataclass(frozen=True)
class Stage:
    """One stage of the graph. ``takes`` and ``gives`` name the data between stages (the
    Arrow schemas of ``corpus.tables`` or the records of ``corpus.records``)."""

    name: str
    run: str  # "module:attribute", imported when the stage runs
    where: str  # ENGINE or DRIVER
    unit: str  # what one call handles
    takes: str
    gives: str
    settings: tuple[str, ...] = ()  # FileSettings fields passed to it
    setup: bool = False  # a class: built once per process, ``setup()`` before the first batch

    def load(self) -> Callable[..., Any]:
        """The stage's function or class (imports its module)."""
        module, attribute = self.run.split(":")
        return getattr(import_module(module), attribute)

    def arguments(self, settings: FileSettings) -> dict[str, Any]:
        """The keyword arguments it takes from ``settings``."""
        return {name: getattr(settings, name) for name in self.settings}

    def bind(self, settings: FileSettings) -> Callable[[pa.Table], pa.Table]:
        """A callable ``table -> table`` over one batch: the function with its arguments, or
        an instance of the class, set up."""
        target, arguments = self.load(), self.arguments(settings)
        if self.setup:
            instance = target(**arguments)
            instance.setup()
            return instance
        return lambda table: target(table, **arguments)


STAGES = (
    Stage("list", "corpus.inputs.listing:list_inputs", DRIVER, "build",
          "the input folder or URI", "file paths; files set apart (not text, an earlier build)"),
    Stage("read", "corpus.inputs.reading:read_files", ENGINE, "batch of files",
          "file paths", "files table: tables.READ_SCHEMA", ("root", "fields")),
    Stage("identify", "corpus.text.identification:identify_languages", ENGINE, "batch of files",
          "tables.READ_SCHEMA", "+ lang, lang_confidence, lang_mixed (a row per language part)",
          ("default_model", "cache_dir")),
    Stage("segment", "corpus.text.segmentation:segment_files", ENGINE, "batch of files",
          "tables.IDENTIFIED_SCHEMA", "+ sentences (text, start, end)"),
    Stage("embed", "corpus.embedding.embed:EmbedSentences", ENGINE, "batch of files",
          "tables.SEGMENTED_SCHEMA", "+ embeddings, n_encoded, embedded_by",
          ("options", "cache_dir"),
          setup=True),
    Stage("spill", "corpus.spill:FileSpill", DRIVER, "batch of files",
          "embedded files tables", "files on disk; FileFacts per file; exact duplicates set apart"),
    Stage("group", "corpus.alignment.grouping:group_articles", DRIVER, "build",
          "FileFacts, document and sentence vectors", "records.Grouping: articles, variants, "
          "pair probabilities; near duplicates and damaged copies set apart"),
    Stage("align", "corpus.alignment.article_alignment:align_articles", ENGINE, "article",
          "tables.align_input_schema", "beads table: tables.BEADS_SCHEMA (or the alignment cache)"),
    Stage("rows", "corpus.outputs.rows:RowFiles", DRIVER, "article",
          "beads, files", "pair rows per config and multi-way rows (tables.bead_table)"),
    Stage("filter", "corpus.outputs.filters:filter_pairs", DRIVER, "config",
          "a config's rows", "rows kept; removed counts per filter; learnt length ratio"),
    Stage("write", "corpus.outputs.writing:write_config", DRIVER, "config",
          "rows kept", "data/CONFIG/*.parquet, sentences.parquet, articles.parquet"),
    Stage("card", "corpus.outputs.card:render", DRIVER, "build",
          "summary.BuildSummary, rows kept",
          "README.md (dataset card) and figures, swapped in atomically"),
)  # fmt: skip
FILE_STAGES = tuple(s for s in STAGES if s.where == ENGINE and s.unit == "batch of files")
ARTICLE_STAGE = next(s for s in STAGES if s.name == "align")


def explain() -> str:
    """The graph as text, one stage a line: name, where and per what it runs, what it
    takes and gives, and the code that runs it (``corpus build --explain``)."""
    lines = []
    for s in STAGES:
        lines.append(f"{s.name:<9} {s.where} per {s.unit}: {s.run}")
        lines.append(f"{'':<9}   takes {s.takes}")
        lines.append(f"{'':<9}   gives {s.gives}")
    return "\n".join(lines)
