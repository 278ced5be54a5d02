"""The build: the order of the stages, and the driver's share of the work.

    list      the input folder's files (reading.list_inputs)
    read      \\
    identify   | per batch of files, by the runner (engines: embedded or Ray Data),
    segment    | stages.read_files ... stages.EmbedSentences
    embed     /
    spill     embedded files to disk; exact duplicates and skipped files set apart (driver)
    group     near duplicates, candidate pairs, verified links, articles (grouping; driver)
    align     per article, by the runner (stages.align_articles), or from the alignment cache
    rows      beads times the files' pair probability, pair and multi-way rows (driver)
    filter    per language pair (filtering)
    write     Parquet, figures and the dataset card, swapped in atomically (output_folder)

The driver holds per file only its ``FileFacts`` (and grouping's document vectors); texts,
sentences and embeddings are read back from the spill when a stage needs them.
"""

from __future__ import annotations

import hashlib
import resource
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from corpus.alignment import sentence_alignment
from corpus.alignment.grouping import Grouping, group_articles, near_duplicates
from corpus.alignment.sentence_alignment import AlignParams, multiway
from corpus.embedding.encoder import DEFAULT_MODEL, model_folder
from corpus.embedding.store import AlignmentStore, default_cache_dir
from corpus.engines import Engine
from corpus.engines.embedded import EmbeddedEngine
from corpus.engines.spill import FileFacts, FileSpill, SpilledFile, SpilledFiles, facts_of
from corpus.errors import CorpusError, UsageError
from corpus.inputs.reading import ExactDuplicates, Skipped, list_inputs
from corpus.inputs.url_matching import url_candidates
from corpus.options import BuildOptions, BuildSummary
from corpus.outputs import card
from corpus.outputs.figures import plot_columns, write_plots
from corpus.outputs.filters import LengthRatio, filter_pairs
from corpus.outputs.folder import (
    atomic_output,
    check_output,
    output_lock,
    pause_point,
    work_folder,
)
from corpus.outputs.writing import write_config, write_table
from corpus.records import Bead, MultiBead
from corpus.stages import (
    EmbedOptions,
    EmbedSentences,
    SentenceLanguages,
    align_articles,
    align_input_schema,
    article_pairs,
    document_of,
    pair_beads,
)
from corpus.tables import ARTICLES_SCHEMA, SENTENCES_SCHEMA, bead_table

# Sentences per Parquet row group of sentences.parquet, written as the spill is read back.
SENTENCE_ROWS_PER_WRITE = 50_000


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished worker processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class _Clock:
    """Wall and CPU seconds per stage (cpu / wall = cores busy); a stage may be timed in
    several pieces (every batch of files). After each piece, ``pause_point(stage)``."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
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
    if options.model is not None and options.model != DEFAULT_MODEL:
        model_folder(options.model)  # a missing model fails now, not after reading
    if options.engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError("--engine ray needs Ray Data: pip install 'corpus[ray]'") from None
    with output_lock(out) as lock_warnings:
        summary = _build(input_dir, out, options)
    summary.warnings[:0] = lock_warnings
    return summary


def _engine(options: BuildOptions, clock: _Clock) -> Engine:
    if options.engine == "ray":
        from corpus.engines.ray_data import RayEngine

        return RayEngine(options.ray_address, options.progress, clock)
    return EmbeddedEngine(clock)


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
    embed = EmbedSentences(
        EmbedOptions(
            model=options.model,
            precision=options.precision,
            batch_size=options.batch_size,
            cache_dir=cache_dir,
        )
    )
    with work_folder(out) as work, _engine(options, clock) as engine:
        spill = FileSpill(work / "files.arrow")
        try:
            files = _embedded_files(input_dir, names, options, engine, embed, spill)
            files.skipped += skipped
            summary = _group_align_write(input_dir, out, options, engine, files, work, clock)
        finally:
            spill.close()
    return summary


def _embedded_files(
    input_dir: Path | str,
    names: list[str],
    options: BuildOptions,
    engine: Engine,
    embed: EmbedSentences,
    spill: FileSpill,
) -> _Files:
    """Every input file through the runner's read ... embed stages, into the spill."""
    size = options.files_per_batch
    batches = [names[k : k + size] for k in range(0, len(names), size)]
    default_model = options.model in (None, DEFAULT_MODEL)
    files = _Files(spill)
    duplicates = ExactDuplicates()
    # 8-byte digests of every sentence text, 8 bytes a sentence: distinct ones counted at the end.
    digests: list[np.ndarray] = []
    bar = tqdm(total=len(names), desc="embedding", unit="file", disable=not options.progress)
    with bar:
        tables = engine.files(input_dir, batches, options.fields, default_model, embed)
        for names_in_batch, table in zip(batches, tables, strict=True):
            keep = []
            for k, row in enumerate(table.select(["path", "skipped", "warnings"]).to_pylist()):
                files.warnings += row["warnings"]
                if row["skipped"] is not None:
                    files.skipped.append(Skipped(row["path"], row["skipped"]))
                    continue
                keep.append(k)
            kept = table.take(pa.array(keep, pa.int64()))
            light = kept.drop_columns(["embeddings"]).to_pylist()
            keep = []
            for k, row in enumerate(light):
                first = duplicates.first_with(document_of(row))
                if first is not None:
                    files.skipped.append(Skipped(row["path"], f"exact duplicate of {first}"))
                    continue
                keep.append(k)
                files.facts.append(facts_of(row))
                files.n_not_text += row["n_not_text"]
                files.n_files_not_text += row["n_not_text"] > 0
                digests.append(
                    np.array(
                        [
                            int.from_bytes(
                                hashlib.blake2b(s["text"].encode(), digest_size=8).digest()
                            )
                            for s in row["sentences"]
                        ],
                        np.uint64,
                    )
                )
            start = spill.append(kept.take(pa.array(keep, pa.int64())))
            files.positions += range(start, start + len(keep))
            files.n_encoded += sum(table.column("n_encoded").to_pylist())
            if table.num_rows:
                files.model = table.column("embedded_by")[0].as_py()
                files.dim = table.schema.field("embeddings").type.value_type.list_size
            bar.update(len(names_in_batch))
    spill.close_writing()
    files.n_distinct = len(np.unique(np.concatenate(digests))) if digests else 0
    if not files.facts:
        raise CorpusError(f"{input_dir}: no readable text files")
    return files


def _group_align_write(
    input_dir: Path | str,
    out: Path,
    options: BuildOptions,
    engine: Engine,
    files: _Files,
    work: Path,
    clock: _Clock,
) -> BuildSummary:
    with clock("group"):
        grouping, kept = _grouping(files)
    facts = [files.facts[i] for i in kept]
    view = SpilledFiles(files.spill, facts, [files.positions[i] for i in kept])
    article_ids = grouping.article_ids
    articles: dict[str, list[int]] = defaultdict(list)
    for k, article_id in enumerate(article_ids):
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
    first_ids = _first_sentence_ids(facts)
    order = sorted(articles)
    # Per article, its files in the order the align stage numbers them: members by language,
    # then its variants (a second file in a language it holds) by path.
    variants: dict[str, list[int]] = defaultdict(list)
    for k, article_id in sorted(grouping.variants.items(), key=lambda x: facts[x[0]].path):
        variants[article_id].append(k)
    n_members = {aid: len(articles[aid]) for aid in order}
    inputs = {
        aid: sorted(articles[aid], key=lambda k: facts[k].lang) + variants[aid] for aid in order
    }
    all_langs = sorted({facts[k].lang for ks in articles.values() for k in ks})
    # Rows go to disk as each article is aligned (one Parquet file per config in the work
    # folder), so the build never holds more than one config's rows.
    rows = _RowFiles(work / "rows")
    pairs: dict[str, tuple[str, str]] = {}  # config name -> its two languages
    with _alignment_cache(out, options, files) as cache, clock("align"), rows:
        aligned = _aligned_articles(order, inputs, n_members, view, engine, cache, work)
        for article_id, beads in tqdm(
            aligned, total=len(order), desc="aligning", unit="article", disable=not options.progress
        ):
            ks = inputs[article_id]
            read = [view.read(k) for k in ks]
            beads = _fold_pair_probability(beads, ks, grouping.pair_probabilities)
            for (a, b), pair in beads.items():
                la, lb = read[a].facts.lang, read[b].facts.lang
                pairs[f"{la}-{lb}"] = (la, lb)
                rows.append(
                    f"{la}-{lb}",
                    _pair_table(
                        read[a], read[b], first_ids[ks[a]], first_ids[ks[b]], pair, article_id
                    ),
                )
            # Multi-way tuples tie the members together (one file per language).
            members = range(n_members[article_id])
            tuples = multiway(
                {
                    (read[a].facts.lang, read[b].facts.lang): pair
                    for (a, b), pair in beads.items()
                    if a in members and b in members
                }
            )
            rows.append(
                "multiway",
                _multiway_table(
                    {read[p].facts.lang: (first_ids[ks[p]], read[p]) for p in members},
                    [t for t in tuples if t.score >= options.filters.min_score],
                    all_langs,
                    article_id,
                ),
            )

    removed: dict[str, dict[str, int]] = {}
    ratios: dict[str, LengthRatio] = {}
    close_pairs: list[str] = []
    counts: dict[str, int] = {}
    plotted: dict[str, pa.Table] = {}  # per pair config: its plot_columns
    data_files: dict[str, list[str]] = {}
    detect = SentenceLanguages(_cache_folder(out, options))
    with atomic_output(out, force=options.force) as staging:
        for name in [*sorted(pairs), "multiway"]:
            table = rows.read(name)
            if name in pairs:
                langs = pairs[name]
                with clock("filter"):
                    translation = table.column("translation").combine_chunks()
                    detect.prefetch(
                        [t for lang in langs for t in translation.field(lang).to_pylist()]
                    )
                    table, report = filter_pairs(table, langs, options.filters, detect)
                    detect.flush()
                removed[name] = dict(report.removed)
                ratios[name] = report.length_ratio
                if report.close_languages:
                    close_pairs.append(name)
                counts[name] = table.num_rows
                plotted[name] = plot_columns(table, langs)
            with clock("write"):
                shards = write_config(table, staging / "data" / name)
            data_files[name] = [f"data/{name}/{file}" for file in shards]
            n_multiway = table.num_rows
            del table
        with clock("write"):
            _write_sentences(view, article_ids, first_ids, staging / "sentences.parquet")
            articles_table = _articles_table(facts, grouping)
            write_table(articles_table, staging / "articles.parquet")
        summary = BuildSummary(
            out=out,
            n_files=len(facts),
            n_articles=len(articles),
            n_sentences=sum(f.n_sentences for f in facts),
            pairs=counts,
            n_multiway=n_multiway,
            skipped=sorted(files.skipped, key=lambda entry: entry.path),
            warnings=files.warnings,
            engine=options.engine,
            timings=clock.wall,
            cpu=clock.cpu,
            n_encoded=files.n_encoded,
            n_cached=max(0, files.n_distinct - files.n_encoded),
            removed=removed,
            n_not_text=files.n_not_text,
            n_files_not_text=files.n_files_not_text,
            length_ratios=ratios,
            close_pairs=close_pairs,
        )
        summary.warnings.extend(w for w in detect.warnings if w not in summary.warnings)
        with clock("write"):
            card_text = card.render(
                summary,
                files_langs=[f.lang for f in facts],
                model=files.model,
                options=options,
                tables=plotted,
                figures=write_plots(plotted, staging, _cache_folder(out, options)),
                sentences_per_lang=_sentences_per_lang(facts),
                data_files=data_files,
                articles=articles_table,
            )
            (staging / "README.md").write_text(card_text, encoding="utf-8")
    return summary


class _RowFiles:
    """Rows of each config appended to its own Parquet file as they are made; ``read``
    gives one config back whole once the writers are closed (leaving the ``with``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writers: dict[str, pq.ParquetWriter] = {}

    def append(self, name: str, table: pa.Table) -> None:
        if name not in self._writers:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema)
        self._writers[name].write_table(table)

    def read(self, name: str) -> pa.Table:
        return pq.read_table(self.folder / f"{name}.parquet")

    def __enter__(self) -> _RowFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for writer in self._writers.values():
            writer.close()


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


def _first_sentence_ids(facts: list[FileFacts]) -> list[int]:
    """Global id of each file's first sentence in sentences.parquet (consecutive)."""
    ids, next_id = [], 0
    for f in facts:
        ids.append(next_id)
        next_id += f.n_sentences
    return ids


# What an alignment depends on besides its input: the aligner's code and parameters.
_ALIGNER_ID = hashlib.sha256(
    Path(sentence_alignment.__file__).read_bytes() + repr(AlignParams()).encode()
).digest()


def _article_key(files: Iterable[FileFacts]) -> bytes:
    """Cache key of an article's alignment: aligner, languages and exact sentence texts
    (the cache file is per model, so the texts determine the embeddings)."""
    digest = hashlib.sha256(_ALIGNER_ID)
    for f in files:
        digest.update(f.lang.encode() + b"\0" + f.sentences_sha256 + b"\x1e")
    return digest.digest()


# Articles whose stored beads are read, or whose new beads are stored, at a time: the build
# holds the beads of this many articles, not of the corpus.
ARTICLES_PER_STORE_CALL = 256


def _aligned_articles(
    order: list[str],
    inputs: dict[str, list[int]],
    n_members: dict[str, int],
    view: SpilledFiles,
    engine: Engine,
    cache: AlignmentStore | None,
    work: Path,
) -> Iterator[tuple[str, dict[tuple[int, int], list[Bead]]]]:
    """(article id, beads per pair of file positions in ``inputs[article id]``) for each
    article of ``order``, in order: from the store when an earlier build aligned the same
    texts with the same aligner, else by the runner (``stages.align_articles``) and stored.
    Every pair of ``stages.article_pairs`` is present, with no beads if none were found.
    Stored beads are read, and new ones written, ``ARTICLES_PER_STORE_CALL`` at a time."""
    keys = {aid: _article_key(view.facts[k] for k in inputs[aid]) for aid in order}
    stored = cache.stored(list(keys.values())) if cache is not None else set()
    todo = [aid for aid in order if keys[aid] not in stored]
    tables = (_align_input(aid, inputs[aid], n_members[aid], view) for aid in todo)
    fresh = _by_article(engine.beads(tables, len(todo), work))
    cached: dict[bytes, dict[tuple[str, str], list[Bead]]] = {}
    new: dict[bytes, dict[tuple[str, str], list[Bead]]] = {}
    waiting: dict[str, pa.Table] = {}
    try:
        for n, aid in enumerate(order):
            if cache is not None and n % ARTICLES_PER_STORE_CALL == 0:
                cache.put(new)
                new = {}
                chunk = [a for a in order[n : n + ARTICLES_PER_STORE_CALL] if keys[a] in stored]
                # The store names an article's files by position, "0", "1", ... (as the align
                # stage does), and checks the beads cover each file's sentences.
                sizes = [
                    {str(p): view.facts[k].n_sentences for p, k in enumerate(inputs[a])}
                    for a in chunk
                ]
                cached = cache.get([keys[a] for a in chunk], sizes)
            langs = [view.facts[k].lang for k in inputs[aid]]
            variant = [p >= n_members[aid] for p in range(len(langs))]
            beads: dict[tuple[int, int], list[Bead]] = {
                pair: [] for pair in article_pairs(langs, variant)
            }
            if keys[aid] in cached:
                beads.update({(int(a), int(b)): x for (a, b), x in cached[keys[aid]].items()})
            else:  # not stored, or stored unusable (the store warned): aligned now
                table = waiting.pop(aid, None)
                while table is None and keys[aid] not in stored:
                    got = next(fresh, None)
                    if got is None or got[0] == aid:
                        table = got[1] if got is not None else None
                        break
                    waiting[got[0]] = got[1]  # the runner's order differs: keep for later
                if table is None and keys[aid] in stored:
                    table = align_articles(_align_input(aid, inputs[aid], n_members[aid], view))
                if table is not None:
                    beads.update(pair_beads(table))
                new[keys[aid]] = {(str(a), str(b)): x for (a, b), x in beads.items()}
            yield aid, beads
        next(fresh, None)  # past its last result: the worker pool shuts down
    finally:
        fresh.close()
    if cache is not None:
        cache.put(new)


def _by_article(tables: Iterator[pa.Table]) -> Iterator[tuple[str, pa.Table]]:
    """Beads tables regrouped into one table per article (rows of an article are
    consecutive in the runner's output)."""
    pending: list[pa.Table] = []
    current = None
    try:
        for table in tables:
            ids = table.column("article_id").to_pylist()
            start = 0
            for k in range(1, len(ids) + 1):
                if k == len(ids) or ids[k] != ids[start]:
                    if current is not None and ids[start] != current:
                        yield current, pa.concat_tables(pending)
                        pending = []
                    current = ids[start]
                    pending.append(table.slice(start, k - start))
                    start = k
        if current is not None:
            yield current, pa.concat_tables(pending)
    finally:
        if hasattr(tables, "close"):
            tables.close()


def _align_input(article_id: str, files: list[int], n_members: int, view: SpilledFiles) -> pa.Table:
    """The ``align_articles`` input of one article: a row per file, members then variants."""
    read = [view.read(k) for k in files]
    schema = align_input_schema(read[0].embeddings.shape[1])
    return pa.table(
        [
            pa.array([article_id] * len(read), pa.string()),
            pa.array([f.facts.lang for f in read], pa.string()),
            pa.array([p >= n_members for p in range(len(read))], pa.bool_()),
            pa.array([list(f.embeddings) for f in read], schema.field("embeddings").type),
            pa.array([f.lengths() for f in read], pa.list_(pa.int32())),
        ],
        schema=schema,
    )


def _cache_folder(out: Path, options: BuildOptions) -> Path | None:
    """The folder of the build's stores (embeddings, languages, alignments); None with
    ``--no-cache``."""
    return (options.cache_dir or default_cache_dir(out)) if options.cache else None


@contextmanager
def _alignment_cache(
    out: Path, options: BuildOptions, files: _Files
) -> Iterator[AlignmentStore | None]:
    """The beads of earlier builds' articles (``store.AlignmentStore`` in the cache folder),
    or None when caching is off or the folder is unusable (warned of once, as the embed
    stage does)."""
    store = None
    folder = _cache_folder(out, options)
    if folder is not None:
        try:
            store = AlignmentStore(folder, files.model)
        except OSError as exc:
            warning = f"{folder}: alignment cache unusable ({exc.strerror or exc}); aligning all"
            files.warnings.append(warning)
    try:
        yield store
    finally:
        if store is not None:
            files.warnings.extend(w for w in store.warnings if w not in files.warnings)


def _fold_pair_probability(
    pair_beads: dict[tuple[int, int], list[Bead]],
    files: list[int],
    probabilities: dict[tuple[int, int], float],
) -> dict[tuple[int, int], list[Bead]]:
    """Bead scores times the probability that the two files translate each other.

    A bead's score is P(bead right | the files are translations); the product is the
    probability that it is right at all, so no bead of a doubtful pair of files keeps a
    confident score and ``--min-score`` removes it. ``pair_beads`` is keyed by positions in
    ``files`` (file indices); ``probabilities`` by two file indices, smaller first
    (``Grouping.pair_probabilities``).
    """
    folded = {}
    for (a, b), beads in pair_beads.items():
        ka, kb = files[a], files[b]
        p = probabilities[(min(ka, kb), max(ka, kb))]
        folded[(a, b)] = [replace(bead, score=bead.score * p) for bead in beads]
    return folded


def _pair_table(
    a: SpilledFile, b: SpilledFile, first_a: int, first_b: int, beads: list[Bead], article_id: str
) -> pa.Table:
    la, lb = a.facts.lang, b.facts.lang
    aligned = [bead for bead in beads if bead.src and bead.tgt]
    return bead_table(
        [la, lb],
        texts={
            la: [a.span_text(x.src) for x in aligned],
            lb: [b.span_text(x.tgt) for x in aligned],
        },
        sentence_ids={
            la: [[first_a + i for i in x.src] for x in aligned],
            lb: [[first_b + i for i in x.tgt] for x in aligned],
        },
        scores=[x.score for x in aligned],
        article_id=article_id,
        align_types=[x.align_type for x in aligned],
        urls={la: a.facts.url, lb: b.facts.url},
    )


def _multiway_table(
    by_lang: dict[str, tuple[int, SpilledFile]],
    tuples: list[MultiBead],
    all_langs: list[str],
    article_id: str,
) -> pa.Table:
    """An article's tuples with one field per language of the corpus, null where absent;
    ``by_lang``: language -> (global id of the file's first sentence, the file)."""
    article_langs = sorted(by_lang)
    return bead_table(
        all_langs,
        texts={
            lang: [
                by_lang[lang][1].span_text(t.ids[lang]) if lang in t.ids else None for t in tuples
            ]
            for lang in all_langs
        },
        sentence_ids={
            lang: [
                [by_lang[lang][0] + i for i in t.ids[lang]] if lang in t.ids else None
                for t in tuples
            ]
            for lang in all_langs
        },
        scores=[t.score for t in tuples],
        article_id=article_id,
        align_types=[
            "-".join(str(len(t.ids.get(lang, ()))) for lang in article_langs) for t in tuples
        ],
        urls={lang: f.facts.url for lang, (_, f) in by_lang.items()},
    )


def _sentences_per_lang(facts: list[FileFacts]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for f in facts:
        counts[f.lang] += f.n_sentences
    return dict(counts)


def _write_sentences(
    view: SpilledFiles, article_ids: list[str | None], first_ids: list[int], path: Path
) -> None:
    """sentences.parquet, one row per sentence, written as the spill is read back."""
    columns: dict[str, list] = {name: [] for name in SENTENCES_SCHEMA.names}
    with pq.ParquetWriter(path, SENTENCES_SCHEMA, compression="zstd") as writer:
        for k in range(len(view)):
            f = view.read(k)
            for i, (text, start, end) in enumerate(f.sentences):
                columns["sentence_id"].append(first_ids[k] + i)
                columns["path"].append(f.facts.path)
                columns["article_id"].append(article_ids[k])
                columns["lang"].append(f.facts.lang)
                columns["text"].append(text)
                columns["char_start"].append(start)
                columns["char_end"].append(end)
            if len(columns["text"]) >= SENTENCE_ROWS_PER_WRITE or k == len(view) - 1:
                writer.write_table(pa.Table.from_pydict(columns, SENTENCES_SCHEMA))
                columns = {name: [] for name in SENTENCES_SCHEMA.names}


def _articles_table(facts: list[FileFacts], grouping: Grouping) -> pa.Table:
    rows = [
        {
            "path": f.path,
            "sha256": f.sha256,
            "lang": f.lang,
            "lang_confidence": f.lang_confidence,
            "lang_mixed": f.lang_mixed,
            "article_id": grouping.article_ids[k],
            "n_sentences": f.n_sentences,
            "url": f.url,
            "title": f.title,
            "date": f.date,
            "article_score": grouping.article_scores[k],
            "alone_reason": grouping.alone_reasons[k],
            "variant_of": grouping.variants.get(k),
        }
        for k, f in enumerate(facts)
    ]
    return pa.Table.from_pylist(rows, ARTICLES_SCHEMA)
