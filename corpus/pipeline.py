"""The driver: runs the stage graph (``corpus.graph``) over a build, in its order.

The stages that run per batch of files (read, identify, segment, embed) and per article
(align) run on the engine (``corpus.engines``: this process, or Ray Data); the driver lists
the input, keeps the embedded files in a spill, groups them into articles, turns beads into
rows, filters and writes (``corpus build --explain`` prints the graph). It holds per file
only its ``FileFacts`` (and grouping's document vectors); texts, sentences and embeddings
are read back from the spill when a stage needs them.
"""

from __future__ import annotations

import hashlib
import resource
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from corpus.alignment.article_alignment import (
    aligned_articles,
    alignment_cache,
    fold_pair_probability,
)
from corpus.alignment.grouping import group_articles
from corpus.alignment.near_duplicates import near_duplicates
from corpus.embedding.backend import model_folder
from corpus.embedding.encoder import DEFAULT_MODEL
from corpus.embedding.store import default_cache_dir
from corpus.engines import Engine, engine_for
from corpus.errors import CorpusError, UsageError
from corpus.graph import FileSettings
from corpus.inputs.listing import list_inputs
from corpus.inputs.reading import ExactDuplicates
from corpus.inputs.url_matching import url_candidates
from corpus.interrupts import pause_point
from corpus.options import BuildOptions
from corpus.outputs import card
from corpus.outputs.figures import plot_columns, write_plots
from corpus.outputs.filters import filter_pairs
from corpus.outputs.folder import atomic_output, check_output, output_lock, work_folder
from corpus.outputs.rows import (
    RowFiles,
    articles_table,
    first_sentence_ids,
    sentences_per_lang,
    write_sentences,
)
from corpus.outputs.summary import BuildSummary
from corpus.outputs.writing import write_split, write_table
from corpus.records import Grouping, Skipped, document_of
from corpus.spill import FileFacts, FileSpill, SpilledFiles, facts_of
from corpus.text.identification import SentenceLanguages


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished worker processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


# What the progress bar says while a stage runs (the engine's stage names, graph.STAGES).
DOING = {
    "load model": "loading the model",
    "read": "reading",
    "identify": "identifying languages",
    "segment": "segmenting",
    "embed": "embedding",
}


class _Clock:
    """Wall and CPU seconds per stage (cpu / wall = cores busy); a stage may be timed in
    several pieces (every batch of files). While ``bar`` is set, it names the stage that
    runs (``DOING``). After each piece, ``pause_point(stage)``."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.bar: tqdm | None = None

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        if self.bar is not None:
            self.bar.set_description_str(DOING.get(stage, stage))
        start, start_cpu = time.perf_counter(), cpu_seconds()
        yield
        self.wall[stage] = self.wall.get(stage, 0.0) + time.perf_counter() - start
        self.cpu[stage] = self.cpu.get(stage, 0.0) + cpu_seconds() - start_cpu
        pause_point(stage)


def build(input_dir: Path | str, out: Path, options: BuildOptions = BuildOptions()) -> BuildSummary:
    """Build an aligned corpus from the files under ``input_dir`` (a local folder, or a
    ``pyarrow.fs`` URI of one such as ``s3://bucket/news``) into the local folder ``out``.

    Every problem with ``out`` is found before any work: one it may not replace (it is,
    contains or lies inside the input folder, or holds files no build wrote) raises
    UsageError; the output lock is taken next, so a second build into ``out`` or an
    unwritable ``out`` is refused at once rather than after its embedding work. Raises
    CorpusError when nothing can be built (no readable file, no two translations).
    """
    check_output(input_dir, out, force=options.force)
    if options.embedding.model not in (None, DEFAULT_MODEL):
        model_folder(options.embedding.model)  # a missing model fails now, not after reading
    if options.engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError("--engine ray needs Ray Data: pip install 'corpus[ray]'") from None
    with output_lock(out) as lock_warnings:
        summary = _build(input_dir, out, options)
    summary.warnings[:0] = lock_warnings
    return summary


@dataclass
class _Files:
    """The driver's record of the embedded files: facts in input order, their place in the
    spill, and what was set apart."""

    spill: FileSpill
    facts: list[FileFacts] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # of each file in the spill
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model: str = ""  # model_id of the embeddings
    dim: int = 0
    n_encoded: int = 0
    n_distinct: int = 0  # distinct sentence texts
    n_not_text: int = 0
    n_files_not_text: int = 0


def _build(input_dir: Path | str, out: Path, options: BuildOptions) -> BuildSummary:
    clock = _Clock()
    with clock("read"):
        names, skipped = list_inputs(input_dir, data_files_only=options.data_files_only)
    if not names:
        raise CorpusError(f"{input_dir}: no readable text files")
    cache_dir = _cache_folder(out, options)
    settings = FileSettings(
        root=str(input_dir),
        fields=options.fields,
        default_model=options.embedding.model in (None, DEFAULT_MODEL),
        cache_dir=cache_dir,
        options=options.embedding,
    )
    with work_folder(out) as work, engine_for(options, clock) as engine:
        spill = FileSpill(work / "files.arrow")
        try:
            files = _embedded_files(input_dir, names, options, engine, settings, spill, clock)
            files.skipped += skipped
            with clock("group"):
                articles = _articles(input_dir, files)
            with RowFiles(work / "rows") as rows, clock("align"):
                pairs = _align(out, options, engine, files, articles, rows, work)
            summary = _write(out, options, files, articles, rows, pairs, clock)
        finally:
            spill.close()
    return summary


def _embedded_files(
    input_dir: Path | str,
    names: list[str],
    options: BuildOptions,
    engine: Engine,
    settings: FileSettings,
    spill: FileSpill,
    clock: _Clock,
) -> _Files:
    """Every input file through the engine's ``graph.FILE_STAGES``, into the spill."""
    size = options.files_per_batch
    batches = [names[k : k + size] for k in range(0, len(names), size)]
    files = _Files(spill)
    duplicates = ExactDuplicates()
    # 8-byte digests of every sentence text: the distinct ones are counted at the end.
    digests: list[np.ndarray] = []
    bar = tqdm(total=len(names), desc="files", unit="file", disable=not options.progress)
    clock.bar = bar if options.progress else None
    with bar:
        try:
            tables = engine.files(batches, settings)
            for names_in_batch, table in zip(batches, tables, strict=True):
                digests += _spill_batch(table, files, duplicates)
                bar.update(len(names_in_batch))
        finally:
            clock.bar = None
    spill.close_writing()
    files.n_distinct = len(np.unique(np.concatenate(digests))) if digests else 0
    if not files.facts:
        raise CorpusError(f"{input_dir}: no readable text files")
    return files


def _spill_batch(table: pa.Table, files: _Files, duplicates: ExactDuplicates) -> list[np.ndarray]:
    """One embedded files table into the spill: skipped rows and exact duplicates set apart
    (``files.skipped``), the rest appended with their facts. Returns the 8-byte digests of
    each kept file's sentence texts, to count the distinct sentences."""
    keep = []
    for k, row in enumerate(table.select(["path", "skipped", "warnings"]).to_pylist()):
        files.warnings += row["warnings"]
        if row["skipped"] is not None:
            files.skipped.append(Skipped(row["path"], row["skipped"]))
            continue
        keep.append(k)
    kept = table.take(pa.array(keep, pa.int64()))
    keep, digests = [], []
    for k, row in enumerate(kept.drop_columns(["embeddings"]).to_pylist()):
        document = document_of(row)
        first = duplicates.first_with(document)
        if first is not None:
            files.skipped.append(Skipped(document.path, f"exact duplicate of {first}"))
            continue
        keep.append(k)
        files.facts.append(facts_of(document, row))
        files.n_not_text += document.n_not_text
        files.n_files_not_text += document.n_not_text > 0
        texts = [s["text"].encode() for s in row["sentences"]]
        digests.append(
            np.array(
                [int.from_bytes(hashlib.blake2b(t, digest_size=8).digest()) for t in texts],
                np.uint64,
            )
        )
    start = files.spill.append(kept.take(pa.array(keep, pa.int64())))
    files.positions += range(start, start + len(keep))
    files.n_encoded += sum(table.column("n_encoded").to_pylist())
    if table.num_rows:
        files.model = table.column("embedded_by")[0].as_py()
        files.dim = table.schema.field("embeddings").type.value_type.list_size
    return digests


@dataclass(frozen=True)
class _Articles:
    """The grouping's articles, in the order they are aligned and written: per article, its
    files (indices into ``facts``) as the align stage numbers them, members by language then
    variants by path, and how many of them are members."""

    grouping: Grouping
    facts: list[FileFacts]
    view: SpilledFiles
    order: list[str]
    inputs: dict[str, list[int]]
    n_members: dict[str, int]
    first_ids: list[int]  # global id of each file's first sentence
    langs: list[str]  # every language of an article, sorted


def _articles(input_dir: Path | str, files: _Files) -> _Articles:
    """Group the files into articles; CorpusError when no two files are translations."""
    grouping, kept = _grouping(files)
    facts = [files.facts[i] for i in kept]
    view = SpilledFiles(files.spill, facts, [files.positions[i] for i in kept])
    articles: dict[str, list[int]] = defaultdict(list)
    for k, article_id in enumerate(grouping.article_ids):
        if article_id is not None:
            articles[article_id].append(k)
    if not articles:
        langs = sorted({f.lang for f in facts})
        reason = next(
            (f"; {f.path}: {r}" for f, r in zip(facts, grouping.alone_reasons, strict=True)), ""
        )
        raise CorpusError(
            f"{input_dir}: no two files are translations of each other "
            f"({len(facts)} files in {', '.join(langs)}{reason}); nothing to align"
        )
    order = sorted(articles)
    variants: dict[str, list[int]] = defaultdict(list)
    for k, article_id in sorted(grouping.variants.items(), key=lambda x: facts[x[0]].path):
        variants[article_id].append(k)
    inputs = {
        aid: sorted(articles[aid], key=lambda k: facts[k].lang) + variants[aid] for aid in order
    }
    return _Articles(
        grouping,
        facts,
        view,
        order,
        inputs,
        n_members={aid: len(articles[aid]) for aid in order},
        first_ids=first_sentence_ids(facts),
        langs=sorted({facts[k].lang for ks in articles.values() for k in ks}),
    )


def _align(
    out: Path, options: BuildOptions, engine: Engine, files: _Files, articles: _Articles,
    rows: RowFiles, work: Path,
) -> dict[str, tuple[str, str]]:  # fmt: skip
    """Align every article (align stage, or the alignment cache) and append its pair and
    multi-way rows to ``rows`` as it comes; returns each pair config's two languages."""
    a = articles
    pairs: dict[str, tuple[str, str]] = {}
    with alignment_cache(_cache_folder(out, options), files.model, files.warnings) as cache:
        aligned = aligned_articles(
            a.order, a.inputs, a.n_members, a.view,
            lambda tables, n: engine.beads(tables, n, work), cache,
        )  # fmt: skip
        progress = tqdm(
            aligned, total=len(a.order), desc="aligning", unit="article",
            disable=not options.progress,
        )  # fmt: skip
        for article_id, beads in progress:
            ks = a.inputs[article_id]
            beads = fold_pair_probability(beads, ks, a.grouping.pair_probabilities)
            pairs |= rows.append_article(
                article_id, [a.view.read(k) for k in ks], [a.first_ids[k] for k in ks],
                beads, a.n_members[article_id], a.langs, options.filters.min_score,
            )  # fmt: skip
    return pairs


def _write(
    out: Path, options: BuildOptions, files: _Files, articles: _Articles, rows: RowFiles,
    pairs: dict[str, tuple[str, str]], clock: _Clock,
) -> BuildSummary:  # fmt: skip
    """Filter each config, write the dataset (Parquet, figures, card) into a staging folder
    and swap it in for ``out``."""
    a = articles
    summary = BuildSummary(
        out=out, n_files=len(a.facts), n_articles=len(a.n_members),
        n_sentences=sum(f.n_sentences for f in a.facts), pairs={}, n_multiway=0,
        skipped=sorted(files.skipped, key=lambda entry: entry.path), warnings=files.warnings,
        engine=options.engine, timings=clock.wall, cpu=clock.cpu, n_encoded=files.n_encoded,
        n_cached=max(0, files.n_distinct - files.n_encoded), n_not_text=files.n_not_text,
        n_files_not_text=files.n_files_not_text,
    )  # fmt: skip
    plotted: dict[str, pa.Table] = {}  # per pair config: its plot_columns
    data_files: dict[str, list[str]] = {}
    detect = SentenceLanguages(_cache_folder(out, options))
    with atomic_output(out, force=options.force) as staging:
        for name in [*sorted(pairs), "multiway"]:
            table = rows.read(name)
            if name in pairs:
                with clock("filter"):
                    table = _filtered(table, name, pairs[name], options, detect, summary)
                plotted[name] = plot_columns(table, pairs[name])
            with clock("write"):
                data_files[name] = write_split(table, staging, name)
            summary.n_multiway = table.num_rows
            del table
        with clock("write"):
            sentences = staging / "sentences.parquet"
            write_sentences(a.view, a.grouping.article_ids, a.first_ids, sentences)
            files_table = articles_table(a.facts, a.grouping)
            write_table(files_table, staging / "articles.parquet")
        summary.warnings.extend(w for w in detect.warnings if w not in summary.warnings)
        with clock("write"):
            card_text = card.render(
                summary,
                files_langs=[f.lang for f in a.facts],
                model=files.model,
                filters=options.filters,
                command=options.command,
                license=options.license,
                source=options.source,
                tables=plotted,
                figures=write_plots(plotted, staging, _cache_folder(out, options)),
                sentences_per_lang=sentences_per_lang(a.facts),
                data_files=data_files,
                articles=files_table,
            )
            (staging / "README.md").write_text(card_text, encoding="utf-8")
    return summary


def _filtered(
    table: pa.Table, name: str, langs: tuple[str, str], options: BuildOptions,
    detect: SentenceLanguages, summary: BuildSummary,
) -> pa.Table:  # fmt: skip
    """A pair config's rows that pass the filters; what they removed and learnt goes into
    ``summary``."""
    translation = table.column("translation").combine_chunks()
    detect.prefetch([t for lang in langs for t in translation.field(lang).to_pylist()])
    table, report = filter_pairs(table, langs, options.filters, detect)
    detect.flush()
    summary.removed[name] = dict(report.removed)
    summary.length_ratios[name] = report.length_ratio
    if report.close_languages:
        summary.close_pairs.append(name)
    summary.pairs[name] = table.num_rows
    return table


def _grouping(files: _Files) -> tuple[Grouping, list[int]]:
    """Near duplicates set apart, then the articles of the rest: the grouping and the
    indices (into ``files.facts``) of the files it is about."""
    every = SpilledFiles(files.spill, files.facts, files.positions)
    copies = near_duplicates(every)
    files.skipped += [
        Skipped(
            files.facts[c.a].path,
            f"damaged copy of {files.facts[c.b].path}: {c.damage}; its translations match "
            f"{files.facts[c.b].path} better"
            if c.damage
            else f"near duplicate of {files.facts[c.b].path} "
            f"({c.score:.0%} of its sentences match in order)",
        )
        for c in copies
    ]
    dropped = {c.a for c in copies}
    kept = [i for i in range(len(files.facts)) if i not in dropped]
    facts = [files.facts[i] for i in kept]
    view = SpilledFiles(files.spill, facts, [files.positions[i] for i in kept])
    grouping = group_articles(
        view,
        metadata_pairs=url_candidates(
            [f.url for f in facts], [f.lang for f in facts], [f.hreflang for f in facts]
        ),
    )
    return grouping, kept


def _cache_folder(out: Path, options: BuildOptions) -> Path | None:
    """The folder of the build's stores (embeddings, languages, alignments); None with
    ``--no-cache``."""
    return (options.cache_dir or default_cache_dir(out)) if options.cache else None
