"""The align stage: the beads of every pair of files of whole articles.

Takes ``tables.align_input_schema(dim)`` rows (the files of whole articles) and gives the
beads table (``tables.BEADS_SCHEMA``); the DP that aligns two files is
``corpus.alignment.sentence_alignment``. Pure: no model, no store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import pyarrow as pa

from corpus.alignment import dp, sentence_alignment
from corpus.alignment.dp import AlignParams
from corpus.alignment.sentence_alignment import align
from corpus.embedding.embed import file_embeddings
from corpus.records import Bead
from corpus.spill import FileFacts, SpilledFiles
from corpus.stores import AlignmentStore
from corpus.tables import BEADS_SCHEMA, align_input_schema


def article_pairs(langs: Sequence[str], variant: Sequence[bool]) -> list[tuple[int, int]]:
    """The file pairs of one article to align, as positions (a, b) with ``langs[a] <
    langs[b]``: every two members, and each variant with every member of another language
    (never two variants, never two files of one language)."""
    pairs = []
    for a, b in combinations(range(len(langs)), 2):
        if langs[a] != langs[b] and not (variant[a] and variant[b]):
            pairs.append((a, b) if langs[a] < langs[b] else (b, a))
    return sorted(pairs, key=lambda p: (variant[p[0]] or variant[p[1]], langs[p[0]], langs[p[1]]))


def align_articles(batch: pa.Table) -> pa.Table:
    """Align stage: the beads of every pair of files (``article_pairs``) of each article in
    ``batch`` (rows: ``align_input_schema``, whole articles, each in its order), in article
    order as given, then pair by pair, then by position. Pure: no model, no store."""
    article_ids = batch.column("article_id").to_pylist()
    langs = batch.column("lang").to_pylist()
    variant = batch.column("variant").to_pylist()
    lengths = batch.column("lengths").to_pylist()
    column = batch.column("embeddings").combine_chunks()
    dim = column.type.value_type.list_size
    rows_of: dict[str, list[int]] = {}
    for k, article_id in enumerate(article_ids):
        rows_of.setdefault(article_id, []).append(k)
    out: dict[str, list] = {name: [] for name in BEADS_SCHEMA.names}
    for article_id, rows in rows_of.items():
        pairs = article_pairs([langs[k] for k in rows], [variant[k] for k in rows])
        for side_a, side_b in pairs:
            a, b = rows[side_a], rows[side_b]
            beads: list[Bead] = align(
                file_embeddings(column, a, dim),
                file_embeddings(column, b, dim),
                lengths[a],
                lengths[b],
            )
            for bead in beads:
                out["article_id"].append(article_id)
                out["side_a"].append(side_a)
                out["side_b"].append(side_b)
                out["src"].append(list(bead.src))
                out["tgt"].append(list(bead.tgt))
                out["score"].append(bead.score)
    return pa.Table.from_pydict(out, BEADS_SCHEMA)


def pair_beads(beads: pa.Table) -> dict[tuple[int, int], list[Bead]]:
    """The beads of one article's rows of a beads table, per pair of file positions."""
    out: dict[tuple[int, int], list[Bead]] = {}
    for row in beads.to_pylist():
        bead = Bead(tuple(row["src"]), tuple(row["tgt"]), row["score"])
        out.setdefault((row["side_a"], row["side_b"]), []).append(bead)
    return out


# What an alignment depends on besides its input: the aligner's code and parameters.
_ALIGNER_ID = hashlib.sha256(
    Path(dp.__file__).read_bytes()
    + Path(sentence_alignment.__file__).read_bytes()
    + repr(AlignParams()).encode()
).digest()


def article_key(files: Iterable[FileFacts]) -> bytes:
    """Cache key of an article's alignment: aligner, languages and exact sentence texts
    (the cache file is per model, so the texts determine the embeddings)."""
    digest = hashlib.sha256(_ALIGNER_ID)
    for f in files:
        digest.update(f.lang.encode() + b"\0" + f.sentences_sha256 + b"\x1e")
    return digest.digest()


# Articles whose stored beads are read, or whose new beads are stored, at a time: the build
# holds the beads of this many articles, not of the corpus.
ARTICLES_PER_STORE_CALL = 256


def aligned_articles(
    order: list[str],
    inputs: dict[str, list[int]],
    n_members: dict[str, int],
    view: SpilledFiles,
    engine_beads: Callable[[Iterator[pa.Table], int], Iterator[pa.Table]],
    cache: AlignmentStore | None,
) -> Iterator[tuple[str, dict[tuple[int, int], list[Bead]]]]:
    """(article id, beads per pair of file positions in ``inputs[article id]``) for each
    article of ``order``, in order: from the store when an earlier build aligned the same
    texts with the same aligner, else by the engine (``engine_beads(tables, n)``, which runs
    ``align_articles``) and stored. Every pair of ``article_pairs`` is present, with no beads
    if none were found. Stored beads are read, and new ones written,
    ``ARTICLES_PER_STORE_CALL`` at a time."""
    keys = {aid: article_key(view.facts[k] for k in inputs[aid]) for aid in order}
    stored = cache.stored(list(keys.values())) if cache is not None else set()
    todo = [aid for aid in order if keys[aid] not in stored]
    tables = (align_input(aid, inputs[aid], n_members[aid], view) for aid in todo)
    fresh = _by_article(engine_beads(tables, len(todo)))
    cached: dict[bytes, dict[tuple[str, str], list[Bead]]] = {}
    new: dict[bytes, dict[tuple[str, str], list[Bead]]] = {}
    waiting: dict[str, pa.Table] = {}
    try:
        for n, aid in enumerate(order):
            if cache is not None and n % ARTICLES_PER_STORE_CALL == 0:
                cache.put(new)
                new = {}
                chunk = [a for a in order[n : n + ARTICLES_PER_STORE_CALL] if keys[a] in stored]
                cached = _stored_beads(cache, chunk, keys, inputs, view)
            langs = [view.facts[k].lang for k in inputs[aid]]
            variant = [p >= n_members[aid] for p in range(len(langs))]
            beads: dict[tuple[int, int], list[Bead]] = {
                pair: [] for pair in article_pairs(langs, variant)
            }
            if keys[aid] in cached:
                beads.update({(int(a), int(b)): x for (a, b), x in cached[keys[aid]].items()})
            else:  # not stored, or stored unusable (the store warned): aligned now
                table = _engine_beads(aid, fresh, waiting, keys[aid] not in stored)
                if table is None and keys[aid] in stored:
                    table = align_articles(align_input(aid, inputs[aid], n_members[aid], view))
                if table is not None:
                    beads.update(pair_beads(table))
                new[keys[aid]] = {(str(a), str(b)): x for (a, b), x in beads.items()}
            yield aid, beads
        next(fresh, None)  # past its last result: the worker pool shuts down
    finally:
        fresh.close()
    if cache is not None:
        cache.put(new)


def _stored_beads(
    cache: AlignmentStore,
    chunk: list[str],
    keys: dict[str, bytes],
    inputs: dict[str, list[int]],
    view: SpilledFiles,
) -> dict[bytes, dict[tuple[str, str], list[Bead]]]:
    """The stored beads of the articles of ``chunk``, by key. The store names an article's
    files by position, "0", "1", ... (as the align stage does), and checks the beads cover
    each file's sentences."""
    sizes = [{str(p): view.facts[k].n_sentences for p, k in enumerate(inputs[a])} for a in chunk]
    return cache.get([keys[a] for a in chunk], sizes)


def _engine_beads(
    aid: str,
    fresh: Iterator[tuple[str, pa.Table]],
    waiting: dict[str, pa.Table],
    from_engine: bool,
) -> pa.Table | None:
    """The beads table of article ``aid``: one set aside in ``waiting`` earlier, else (when
    the engine aligns it, ``from_engine``) the engine's next tables until it comes, the
    others set aside (the engine's order may differ); None when there is none."""
    table = waiting.pop(aid, None)
    while table is None and from_engine:
        got = next(fresh, None)
        if got is None or got[0] == aid:
            return got[1] if got is not None else None
        waiting[got[0]] = got[1]
    return table


def _by_article(tables: Iterator[pa.Table]) -> Iterator[tuple[str, pa.Table]]:
    """Beads tables regrouped into one table per article (rows of an article are
    consecutive in the engine's output)."""
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


def align_input(article_id: str, files: list[int], n_members: int, view: SpilledFiles) -> pa.Table:
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


@contextmanager
def alignment_cache(
    folder: Path | None, model: str, warnings: list[str]
) -> Iterator[AlignmentStore | None]:
    """The beads of earlier builds' articles aligned on ``model``'s embeddings
    (``store.AlignmentStore`` in the cache ``folder``), or None when caching is off (no
    folder) or the folder is unusable; its warnings are appended to ``warnings`` once."""
    store = None
    if folder is not None:
        try:
            store = AlignmentStore(folder, model)
        except OSError as exc:
            warning = f"{folder}: alignment cache unusable ({exc.strerror or exc}); aligning all"
            warnings.append(warning)
    try:
        yield store
    finally:
        if store is not None:
            warnings.extend(w for w in store.warnings if w not in warnings)


def fold_pair_probability(
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
