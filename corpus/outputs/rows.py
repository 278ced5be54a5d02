"""The rows stage: beads turned into the dataset's rows, config by config.

Pair rows (one config per language pair) and multi-way rows (``tables.bead_table``) are
appended to a Parquet file per config in the work folder as each article is aligned, so a
build never holds more than one config's rows; ``sentences.parquet`` and
``articles.parquet`` are written from the spill and the grouping.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.alignment.multiway import multiway
from corpus.records import Bead, Grouping, MultiBead
from corpus.spill import FileFacts, SpilledFile, SpilledFiles
from corpus.tables import ARTICLES_SCHEMA, SENTENCES_SCHEMA, bead_table

# Sentences per Parquet row group of sentences.parquet, written as the spill is read back.
SENTENCE_ROWS_PER_WRITE = 50_000


class RowFiles:
    """Rows of each config appended to its own Parquet file in ``folder`` as they are made;
    ``read`` gives one config back whole once the writers are closed (leaving the ``with``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writers: dict[str, pq.ParquetWriter] = {}

    def append(self, name: str, table: pa.Table) -> None:
        if name not in self._writers:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema)
        self._writers[name].write_table(table)

    def append_article(
        self, article_id: str, files: list[SpilledFile], first_ids: list[int],
        beads: dict[tuple[int, int], list[Bead]], n_members: int, all_langs: list[str],
        min_score: float,
    ) -> dict[str, tuple[str, str]]:  # fmt: skip
        """Append one article's rows: a pair table per pair of its ``files`` (``beads`` keyed
        by positions in ``files``; ``first_ids``: each file's first global sentence id), and
        the multi-way tuples of its ``n_members`` members (the first files, one per
        language) scoring at least ``min_score``. Returns each pair config's languages."""
        pairs = {}
        for (a, b), pair in beads.items():
            la, lb = files[a].facts.lang, files[b].facts.lang
            pairs[f"{la}-{lb}"] = (la, lb)
            table = pair_table(files[a], files[b], first_ids[a], first_ids[b], pair, article_id)
            self.append(f"{la}-{lb}", table)
        # Multi-way tuples tie the members together (one file per language).
        members = range(n_members)
        tuples = multiway(
            {
                (files[a].facts.lang, files[b].facts.lang): pair
                for (a, b), pair in beads.items()
                if a in members and b in members
            }
        )
        by_lang = {files[p].facts.lang: (first_ids[p], files[p]) for p in members}
        kept = [t for t in tuples if t.score >= min_score]
        self.append("multiway", multiway_table(by_lang, kept, all_langs, article_id))
        return pairs

    def read(self, name: str) -> pa.Table:
        return pq.read_table(self.folder / f"{name}.parquet")

    def __enter__(self) -> RowFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for writer in self._writers.values():
            writer.close()


def first_sentence_ids(facts: list[FileFacts]) -> list[int]:
    """Global id of each file's first sentence in sentences.parquet (consecutive)."""
    ids, next_id = [], 0
    for f in facts:
        ids.append(next_id)
        next_id += f.n_sentences
    return ids


def pair_table(
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


def multiway_table(
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


def sentences_per_lang(facts: list[FileFacts]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for f in facts:
        counts[f.lang] += f.n_sentences
    return dict(counts)


def write_sentences(
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


def articles_table(facts: list[FileFacts], grouping: Grouping) -> pa.Table:
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
