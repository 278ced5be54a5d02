"""The build pipeline: one function that wires the stages together."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import resource
import signal
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from corpus import alignment, card
from corpus.alignment import AlignParams, Bead, MultiBead, align, joined_embedder, multiway
from corpus.embedding import (
    DEFAULT_MODEL,
    Encoder,
    default_model_covers,
    load_encoder,
    model_folder,
)
from corpus.errors import CorpusError
from corpus.extraction import DEFAULT_FIELDS, FieldNames
from corpus.filtering import FilterOptions, LengthRatio, filter_pairs
from corpus.grouping import ArticleFile, group_articles, near_duplicates
from corpus.langid import LanguageGuess, base_language, identify
from corpus.plots import write_plots
from corpus.reading import Document, Skipped, read_document, read_inputs
from corpus.segmentation import Sentence, segment
from corpus.store import (
    AlignmentStore,
    EmbeddingStore,
    default_cache_dir,
    encode_cached,
    model_id,
)
from corpus.url_matching import url_candidates
from corpus.writing import (
    ARTICLES_SCHEMA,
    SENTENCES_SCHEMA,
    atomic_output,
    bead_table,
    check_output,
    output_lock,
    pause_point,
    write_config,
    write_table,
)

# A long article has a few hundred sentences and a whole book tens of thousands; beyond this
# a file is a dump, not an article, and embedding it would take hours.
MAX_SENTENCES_PER_FILE = 50_000


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


@dataclass
class SourceFile:
    """One input file as it moves through the stages."""

    doc: Document
    lang: LanguageGuess
    sentences: list[Sentence]
    first_sentence_id: int  # global id of its first sentence in sentences.parquet
    embeddings: np.ndarray | None = None
    article_id: str | None = None
    article_score: float | None = None  # probability that the file belongs to its article
    alone_reason: str | None = None  # why a file has no article

    def grouping_view(self) -> ArticleFile:
        """What grouping sees of the file."""
        return ArticleFile(
            self.doc.sha256,
            self.lang.lang,
            self.embeddings,
            self.doc.text,
            np.array([len(s.text) for s in self.sentences]),
            self.doc.path,
            self.lang.mixed,
            tuple(s.text for s in self.sentences),
        )

    def span_text(self, ids: tuple[int, ...]) -> str:
        """Text from the first to the last of consecutive sentences, whitespace collapsed."""
        start, end = self.sentences[ids[0]].start, self.sentences[ids[-1]].end
        return " ".join(self.doc.text[start:end].split())

    def global_ids(self, ids: tuple[int, ...]) -> list[int]:
        return [self.first_sentence_id + i for i in ids]


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
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    cpu: dict[str, float] = field(default_factory=dict)  # process CPU seconds per stage
    n_encoded: int = 0  # sentences passed to the model
    n_cached: int = 0  # distinct sentences whose embedding came from the cache
    removed: dict[str, dict[str, int]] = field(default_factory=dict)  # per pair, per filter
    n_not_text: int = 0  # control characters and non-characters removed at read time
    n_files_not_text: int = 0  # files they were removed from
    length_ratios: dict[str, LengthRatio] = field(default_factory=dict)  # per pair
    close_pairs: list[str] = field(default_factory=list)  # pairs langid does not separate


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished worker processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@contextmanager
def _timed(timings: dict[str, float], stage: str, cpu: dict[str, float]) -> Iterator[None]:
    """Add the stage's wall time and its CPU time (cpu / wall = cores busy)."""
    start, start_cpu = time.perf_counter(), cpu_seconds()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start
    cpu[stage] = cpu.get(stage, 0.0) + cpu_seconds() - start_cpu
    pause_point(stage)


# Below this many articles, starting worker processes costs more than it saves.
MIN_ARTICLES_PER_WORKER = 8


@dataclass(frozen=True)
class ArticleInput:
    """What aligning one article needs, per language (sorted): embeddings, sentence lengths."""

    langs: list[str]
    embeddings: list[np.ndarray]
    lengths: list[list[int]]


def align_article(article: ArticleInput) -> dict[tuple[str, str], list[Bead]]:
    """Beads of every language pair of one article, keyed by the sorted language codes."""
    sides = list(zip(article.langs, article.embeddings, article.lengths, strict=True))
    return {
        (la, lb): align(ea, eb, lengths_a, lengths_b)
        for (la, ea, lengths_a), (lb, eb, lengths_b) in combinations(sides, 2)
    }


def _align_all(
    articles: Iterable[ArticleInput], n_articles: int
) -> Iterator[dict[tuple[str, str], list[Bead]]]:
    """``align_article`` over articles, in order, on every core when there are enough.

    The aligner is single-threaded numpy (see ``align``), so one worker per core keeps the
    machine busy; results come back in input order, so builds stay deterministic. Workers
    ignore SIGINT and SIGTERM (Ctrl-C signals the whole process group): the parent alone
    handles an interruption, and stops them without waiting (`_stop_pool`).
    """
    workers = min(len(os.sched_getaffinity(0)), n_articles // MIN_ARTICLES_PER_WORKER)
    if workers <= 1:
        yield from map(align_article, articles)
        return
    # spawn: the parent holds OpenMP threads of the encoder, which fork does not copy safely.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_interruptions)
    try:
        for k, beads in enumerate(pool.map(align_article, articles, chunksize=4)):
            if k == 0:
                pause_point("aligning")  # pool running: the interruption tests signal here
            yield beads
    except BaseException:  # an interruption, an error, or the consumer closing this generator
        _stop_pool(pool)
        raise
    pool.shutdown()


def _ignore_interruptions() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and kill the workers now, not after their current articles.

    ``_processes`` is the only way to the workers before Python 3.14's ``kill_workers``.
    """
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()


def _pair_table(a: SourceFile, b: SourceFile, beads: list[Bead]) -> pa.Table:
    la, lb = a.lang.lang, b.lang.lang
    aligned = [bead for bead in beads if bead.src and bead.tgt]
    return bead_table(
        [la, lb],
        texts={
            la: [a.span_text(x.src) for x in aligned],
            lb: [b.span_text(x.tgt) for x in aligned],
        },
        sentence_ids={
            la: [a.global_ids(x.src) for x in aligned],
            lb: [b.global_ids(x.tgt) for x in aligned],
        },
        scores=[x.score for x in aligned],
        article_id=a.article_id,
        align_types=[x.align_type for x in aligned],
        urls={la: a.doc.url, lb: b.doc.url},
    )


def _multiway_table(
    by_lang: dict[str, SourceFile], tuples: list[MultiBead], all_langs: list[str]
) -> pa.Table:
    """An article's tuples with one field per language of the corpus, null where absent."""
    article_langs = sorted(by_lang)
    return bead_table(
        all_langs,
        texts={
            lang: [by_lang[lang].span_text(t.ids[lang]) if lang in t.ids else None for t in tuples]
            for lang in all_langs
        },
        sentence_ids={
            lang: [by_lang[lang].global_ids(t.ids[lang]) if lang in t.ids else None for t in tuples]
            for lang in all_langs
        },
        scores=[t.score for t in tuples],
        article_id=next(iter(by_lang.values())).article_id,
        align_types=[
            "-".join(str(len(t.ids.get(lang, ()))) for lang in article_langs) for t in tuples
        ],
        urls={lang: f.doc.url for lang, f in by_lang.items()},
    )


def build(input_dir: Path, out: Path, options: BuildOptions = BuildOptions()) -> BuildSummary:
    """Build an aligned corpus from the files under ``input_dir`` into ``out``.

    Every problem with ``out`` is found before any work: one it may not replace (it is,
    contains or lies inside the input folder, or holds files no build wrote) raises
    UsageError; the output lock is taken next, so a second build into ``out`` or an
    unwritable ``out`` is refused at once rather than after its embedding work.
    """
    check_output(input_dir, out, force=options.force)
    if options.model is not None and options.model != DEFAULT_MODEL:
        model_folder(options.model)  # a missing model fails now, not after reading
    with output_lock(out) as lock_warnings:
        summary = _build(input_dir, out, options)
    summary.warnings[:0] = lock_warnings
    return summary


def _build(input_dir: Path, out: Path, options: BuildOptions) -> BuildSummary:
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    with _timed(timings, "read", cpu):
        read = read_inputs(
            input_dir,
            progress=options.progress,
            fields=options.fields,
            data_files_only=options.data_files_only,
        )
    if not read.documents:
        raise CorpusError(f"{input_dir}: no readable text files")

    with _timed(timings, "identify", cpu):
        guesses = [_language(doc) for doc in read.documents]
    warnings = list(read.warnings)
    warnings += [
        f"{doc.path}: paragraphs in more than one language (file identified as {g.lang})"
        for doc, g in zip(read.documents, guesses, strict=True)
        if g.mixed
    ]
    if options.model in (None, DEFAULT_MODEL):
        warnings += [
            f"{doc.path}: language {g.lang} is not among the languages the embedding model "
            "was trained on (XLM-R's 100); its pairs may be poor"
            for doc, g in zip(read.documents, guesses, strict=True)
            if not default_model_covers(g.lang)
        ]

    skipped = list(read.skipped)
    with _timed(timings, "segment", cpu):
        files: list[SourceFile] = []
        next_id = 0
        for doc, guess in zip(read.documents, guesses, strict=True):
            sentences = segment(doc.text, base_language(guess.lang), doc.paragraphs)
            if len(sentences) > MAX_SENTENCES_PER_FILE:
                reason = f"too many sentences ({len(sentences)} > {MAX_SENTENCES_PER_FILE})"
                skipped.append(Skipped(doc.path, f"{reason}; split it into articles"))
                continue
            files.append(SourceFile(doc, guess, sentences, next_id))
            next_id += len(sentences)

    with _timed(timings, "load model", cpu):
        encoder = load_encoder(options.model, options.precision)
    # The stores are needed from embedding to alignment; their warnings are kept however
    # that ends.
    with _opened_cache(out, encoder, options, warnings) as (store, beads_store):
        with _timed(timings, "embed", cpu):
            texts = [s.text for f in files for s in f.sentences]
            embeddings, n_cached = encode_cached(
                encoder,
                texts,
                store,
                batch_size=options.batch_size,
                show_progress_bar=options.progress,
            )
            for f in files:
                start = f.first_sentence_id
                f.embeddings = embeddings[start : start + len(f.sentences)]

        with _timed(timings, "group", cpu):
            copies = near_duplicates([f.grouping_view() for f in files])
            skipped += [
                Skipped(
                    files[c.a].doc.path,
                    f"near duplicate of {files[c.b].doc.path} "
                    f"({c.score:.0%} of its sentences match in order)",
                )
                for c in copies
            ]
            files = [f for k, f in enumerate(files) if k not in {c.a for c in copies}]
            next_id = 0  # sentence ids stay consecutive without the copies
            for f in files:
                f.first_sentence_id = next_id
                next_id += len(f.sentences)
            grouping = group_articles(
                [f.grouping_view() for f in files],
                metadata_pairs=url_candidates(
                    [f.doc.url for f in files],
                    [f.lang.lang for f in files],
                    [f.doc.hreflang for f in files],
                ),
            )
            articles: dict[str, list[SourceFile]] = defaultdict(list)
            for k, f in enumerate(files):
                f.article_id = grouping.article_ids[k]
                f.article_score = grouping.article_scores[k]
                f.alone_reason = grouping.alone_reasons[k]
                if f.article_id is not None:
                    articles[f.article_id].append(f)
            # Per two files of an article (paths in order): the probability they translate.
            pair_probability = {
                (files[i].doc.path, files[j].doc.path): p
                for (i, j), p in grouping.pair_probabilities.items()
            }
        if not articles:
            langs = sorted({f.lang.lang for f in files})
            reason = next((f"; {f.doc.path}: {f.alone_reason}" for f in files), "")
            raise CorpusError(
                f"{input_dir}: no two files are translations of each other "
                f"({len(files)} files in {', '.join(langs)}{reason}); nothing to align"
            )

        all_langs = sorted({f.lang.lang for f in files if f.article_id is not None})
        # Rows are kept as one small Arrow table per article and language pair (columnar, a
        # fraction of the memory of Python rows) and concatenated per config when written.
        pair_tables: dict[tuple[str, str], list[pa.Table]] = defaultdict(list)
        multi_tables: list[pa.Table] = []
        article_ids = sorted(articles)
        members = {aid: sorted(articles[aid], key=lambda f: f.lang.lang) for aid in article_ids}
        # closing: an interruption stops the aligner's worker processes at once.
        with (
            _timed(timings, "align", cpu),
            closing(
                _aligned_articles([members[aid] for aid in article_ids], beads_store)
            ) as aligned,
        ):
            for article_id, pair_beads in tqdm(
                zip(article_ids, aligned, strict=True),
                total=len(article_ids),
                desc="aligning",
                unit="article",
                disable=not options.progress,
            ):
                by_lang = {f.lang.lang: f for f in members[article_id]}
                pair_beads = _fold_pair_probability(pair_beads, by_lang, pair_probability)
                for (la, lb), beads in pair_beads.items():
                    pair_tables[(la, lb)].append(_pair_table(by_lang[la], by_lang[lb], beads))
                tuples = [t for t in multiway(pair_beads) if t.score >= options.filters.min_score]
                multi_tables.append(_multiway_table(by_lang, tuples, all_langs))

    removed: dict[str, dict[str, int]] = {}
    ratios: dict[str, LengthRatio] = {}
    close_pairs: list[str] = []
    tables: dict[str, pa.Table] = {}
    with _timed(timings, "filter", cpu):
        for la, lb in sorted(pair_tables):
            name = f"{la}-{lb}"
            table = pa.concat_tables(pair_tables.pop((la, lb)))
            tables[name], report = filter_pairs(table, (la, lb), options.filters)
            removed[name] = dict(report.removed)
            ratios[name] = report.length_ratio
            if report.close_languages:
                close_pairs.append(name)

    with _timed(timings, "write", cpu), atomic_output(out, force=options.force) as staging:
        write_table(_sentences_table(files), staging / "sentences.parquet")
        articles_table = _articles_table(files)
        write_table(articles_table, staging / "articles.parquet")
        multi = pa.concat_tables(multi_tables)
        data_files = {
            name: [f"data/{name}/{file}" for file in write_config(table, staging / "data" / name)]
            for name, table in [*tables.items(), ("multiway", multi)]
        }
        counts = {name: table.num_rows for name, table in tables.items()}
        summary = BuildSummary(
            out=out,
            n_files=len(files),
            n_articles=len(articles),
            n_sentences=next_id,
            pairs=counts,
            n_multiway=multi.num_rows,
            skipped=sorted(skipped, key=lambda entry: entry.path),
            warnings=warnings,
            timings=timings,
            cpu=cpu,
            n_encoded=encoder.n_encoded,
            n_cached=n_cached,
            removed=removed,
            n_not_text=sum(doc.n_not_text for doc in read.documents),
            n_files_not_text=sum(doc.n_not_text > 0 for doc in read.documents),
            length_ratios=ratios,
            close_pairs=close_pairs,
        )
        (staging / "README.md").write_text(
            card.render(
                summary,
                files_langs=[f.lang.lang for f in files],
                encoder=encoder,
                options=options,
                tables=tables,
                figures=write_plots(tables, staging),
                sentences_per_lang=_sentences_per_lang(files),
                data_files=data_files,
                articles=articles_table,
            ),
            encoding="utf-8",
        )
    return summary


def _fold_pair_probability(
    pair_beads: dict[tuple[str, str], list[Bead]],
    by_lang: dict[str, SourceFile],
    probabilities: dict[tuple[str, str], float],
) -> dict[tuple[str, str], list[Bead]]:
    """Bead scores times the probability that the two files translate each other.

    A bead's score is P(bead right | the files are translations); the product is the
    probability that it is right at all, so no bead of a doubtful pair of files keeps a
    confident score and ``--min-score`` removes it.
    """
    folded = {}
    for (la, lb), beads in pair_beads.items():
        a, b = by_lang[la].doc.path, by_lang[lb].doc.path
        p = probabilities[(a, b)] if (a, b) in probabilities else probabilities[(b, a)]
        folded[(la, lb)] = [replace(bead, score=bead.score * p) for bead in beads]
    return folded


# What an alignment depends on besides its input: the aligner's code and parameters.
_ALIGNER_ID = hashlib.sha256(
    Path(alignment.__file__).read_bytes() + repr(AlignParams()).encode()
).digest()


def _article_key(members: list[SourceFile]) -> bytes:
    """Cache key of an article's alignment: aligner, languages and exact sentence texts
    (the alignment store is per model, so the texts determine the embeddings)."""
    digest = hashlib.sha256(_ALIGNER_ID)
    for f in members:
        digest.update(f.lang.lang.encode() + b"\0")
        digest.update("\x1f".join(s.text for s in f.sentences).encode() + b"\x1e")
    return digest.digest()


def _aligned_articles(
    articles: list[list[SourceFile]], cache: AlignmentStore | None
) -> Iterator[dict[tuple[str, str], list[Bead]]]:
    """The beads of each article (members sorted by language), in order: from the cache
    when an earlier build aligned the same texts with the same aligner, else aligned
    (on every core) and stored."""
    keys = [_article_key(members) for members in articles]
    sizes = [{f.lang.lang: len(f.sentences) for f in members} for members in articles]
    cached = cache.get(keys, sizes) if cache is not None else {}
    todo = [k for k, key in enumerate(keys) if key not in cached]
    fresh = _align_all(
        (
            ArticleInput(
                [f.lang.lang for f in articles[k]],
                [f.embeddings for f in articles[k]],
                [[len(s.text) for s in f.sentences] for f in articles[k]],
            )
            for k in todo
        ),
        len(todo),
    )
    new: dict[bytes, dict[tuple[str, str], list[Bead]]] = {}
    with closing(fresh):  # closed however this ends: an interrupted pool stops at once
        for key in keys:
            if key in cached:
                yield cached[key]
            else:
                new[key] = next(fresh)
                yield new[key]
        next(fresh, None)  # past its last result: the worker pool shuts down
    if cache is not None and new:
        cache.put(new)


@contextmanager
def _opened_cache(
    out: Path, encoder: Encoder, options: BuildOptions, warnings: list[str]
) -> Iterator[tuple[EmbeddingStore | None, AlignmentStore | None]]:
    """The embedding and alignment stores, or Nones (with a warning) when they cannot be
    used. On exit what they warned of is added to ``warnings``."""
    stores: tuple[EmbeddingStore | None, AlignmentStore | None] = (None, None)
    if options.cache:
        folder = options.cache_dir or default_cache_dir(out)
        try:
            model = model_id(encoder)
            stores = (EmbeddingStore(folder, model, encoder.dim), AlignmentStore(folder, model))
        except OSError as exc:
            warnings.append(f"{folder}: embedding cache unusable ({exc}); embedding everything")
    try:
        yield stores
    finally:
        warnings.extend(w for store in stores if store is not None for w in store.warnings)


def _language(doc: Document) -> LanguageGuess:
    """The document's language: identified, or the one a dump declares for it.

    A declared language is taken as it is (the user named the field), refined only where
    identification finds a variant of it (declared "zh", identified "zh_Hant").
    """
    guess = identify(doc.text, doc.paragraphs)
    if doc.declared_lang is None or guess.lang.split("_")[0] == doc.declared_lang:
        return guess
    return LanguageGuess(doc.declared_lang, 1.0, False)


def _sentences_per_lang(files: list[SourceFile]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for f in files:
        counts[f.lang.lang] += len(f.sentences)
    return dict(counts)


@dataclass(frozen=True)
class FileAlignment:
    """``corpus align``'s result: the sentences of both files and the beads between them."""

    src: list[str]
    tgt: list[str]
    beads: list[Bead]
    n_encoded: int  # strings passed to the encoder, joined spans included


def file_sentences(path: Path, presegmented: bool) -> list[str]:
    """One file's sentences: its lines as they are, or segmented like ``build`` does."""
    path = path.absolute()
    doc = read_document(path, path.parent)
    if presegmented:
        lines = doc.text.split("\n")
        return lines[:-1] if lines[-1] == "" else lines
    guess = identify(doc.text, doc.paragraphs)
    return [s.text for s in segment(doc.text, base_language(guess.lang), doc.paragraphs)]


def align_texts(
    src: list[str],
    tgt: list[str],
    encoder: Encoder,
    batch_size: int = 32,
    progress: bool = False,
    rescore_merges: bool = False,
) -> list[Bead]:
    """Align two lists of sentences with the aligner ``build`` uses.

    ``rescore_merges`` adds the second pass that embeds the joined text of merge
    candidates (about 0.2 more strings per sentence).
    """
    emb = encoder.encode(src + tgt, batch_size=batch_size, show_progress_bar=progress)
    return align(
        emb[: len(src)],
        emb[len(src) :],
        [len(t) for t in src],
        [len(t) for t in tgt],
        AlignParams(),
        joined_embedder(encoder, src, tgt, batch_size) if rescore_merges else None,
    )


def align_files(
    src_path: Path,
    tgt_path: Path,
    options: BuildOptions,
    presegmented: bool = False,
    rescore_merges: bool = False,
) -> FileAlignment:
    """Sentences of two files aligned: the pipeline of ``build`` for one known pair."""
    src, tgt = file_sentences(src_path, presegmented), file_sentences(tgt_path, presegmented)
    encoder = load_encoder(options.model, options.precision)
    beads = align_texts(src, tgt, encoder, options.batch_size, options.progress, rescore_merges)
    return FileAlignment(src, tgt, beads, encoder.n_encoded)


def _sentences_table(files: list[SourceFile]) -> pa.Table:
    rows = [
        {
            "sentence_id": f.first_sentence_id + k,
            "path": f.doc.path,
            "article_id": f.article_id,
            "lang": f.lang.lang,
            "text": s.text,
            "char_start": s.start,
            "char_end": s.end,
        }
        for f in files
        for k, s in enumerate(f.sentences)
    ]
    return pa.Table.from_pylist(rows, SENTENCES_SCHEMA)


def _articles_table(files: list[SourceFile]) -> pa.Table:
    rows = [
        {
            "path": f.doc.path,
            "sha256": f.doc.sha256,
            "lang": f.lang.lang,
            "lang_confidence": f.lang.confidence,
            "lang_mixed": f.lang.mixed,
            "article_id": f.article_id,
            "n_sentences": len(f.sentences),
            "url": f.doc.url,
            "title": f.doc.title,
            "date": f.doc.date,
            "article_score": f.article_score,
            "alone_reason": f.alone_reason,
        }
        for f in files
    ]
    return pa.Table.from_pylist(rows, ARTICLES_SCHEMA)
