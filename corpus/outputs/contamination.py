"""Test-set contamination: which rows of a build hold a sentence of a standard test set.

A crawl of news sites routinely contains the articles that FLORES, NTREX or WMT newstest
were made from. ``check_build`` reads each test set (plain text, TSV, JSON lines or
Parquet: ``read_test_set``) and reports, per test set and config, the rows with a side that
matches one of its sentences, and how many of its sentences the build holds; with
``remove``, it rewrites the build without those rows and records the check in the card.

Two sentences match when their keys are equal (``splits.sentence_key``: NFKC, case folded,
digits as 0, only letters with their marks and digits), so punctuation, case and numbers do
not hide a copy; or, for sentences of at least ``MIN_WORDS`` words, when one word inserted,
deleted or replaced makes them equal: each sentence is also indexed with each of its words
left out (the symmetric-delete idea of SymSpell, Garbe 2012, over words instead of letters),
so a lookup is a few set probes per sentence and the check is linear in rows and test
sentences. Keys under ``MIN_WHOLE_CHARS`` characters are not compared, and those under
``splits.MIN_KEY_CHARS`` only whole.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.errors import UsageError
from corpus.outputs.card import rewrite_card
from corpus.outputs.exports import MULTIWAY, pair_names
from corpus.outputs.folder import rewritten_build
from corpus.outputs.splits import MIN_KEY_CHARS, sentence_words
from corpus.outputs.writing import write_split

# Shorter sentences match only whole. Chosen on NTREX's English file against 31,102 Bible
# verses (scripts/bench_contamination.py): 6 words found 94-97% of one-word changes, 4
# words 95-99%, with no false match either way.
MIN_WORDS = 4
# A whole key this short ("0", "ok") says nothing; from 5 characters ("He is free.") a copy
# is a copy. Test sets hold short lines that a crawl copies too.
MIN_WHOLE_CHARS = 5
_TEXT_COLUMNS = ("text", "sentence", "segment")


def _dropped(words: list[str]) -> list[str]:
    """The sentence's key with each of its words left out in turn."""
    return ["".join(words[:k] + words[k + 1 :]) for k in range(len(words))]


def sentence_variants(text: str) -> set[str]:
    """The keys a sentence is found under: its whole key and, from ``MIN_WORDS`` words and
    ``MIN_KEY_CHARS`` characters on, its key with each word left out (marked, so that a
    short sentence's whole key never equals a long one's variant). Empty for a key under
    ``MIN_WHOLE_CHARS`` characters."""
    words = sentence_words(text)
    key = "".join(words)
    if len(key) < MIN_WHOLE_CHARS:
        return set()
    variants = {key}
    if len(words) >= MIN_WORDS and len(key) >= MIN_KEY_CHARS:
        variants |= {"~" + d for d in _dropped(words)}
    return variants


@dataclass
class EvalSet:
    """One test set (an evaluation set: FLORES, NTREX, WMT newstest): its sentences and the
    index of their variants (variant -> sentence)."""

    name: str
    sentences: list[str]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for k, sentence in enumerate(self.sentences):
            for variant in sentence_variants(sentence):
                self.index.setdefault(variant, k)

    def match(self, text: str) -> int | None:
        """The index of a sentence of the set that ``text`` matches, else None."""
        return self.find(probes(text))

    def find(self, keys: list[str]) -> int | None:
        """The sentence of the first of ``keys`` (``probes`` of a text) in the index."""
        return next((self.index[k] for k in keys if k in self.index), None)


def probes(text: str) -> list[str]:
    """The keys under which ``text`` finds a sentence it matches: its whole key, then, from
    ``MIN_WORDS`` - 1 words on, its key marked as a variant (a word of the test sentence
    missing here), its variants (one word replaced) and, above ``MIN_WORDS`` words, its
    keys with a word left out (one word added here: short sentences match only whole)."""
    words = sentence_words(text)
    key = "".join(words)
    if len(key) < MIN_WHOLE_CHARS:
        return []
    if len(words) < MIN_WORDS - 1 or len(key) < MIN_KEY_CHARS:
        return [key]
    dropped = _dropped(words)
    keys = [key, "~" + key, *("~" + d for d in dropped)]
    return keys + dropped if len(words) > MIN_WORDS else keys


def read_test_set(path: Path) -> EvalSet:
    """A test set's sentences: a plain text file (a sentence per line), TSV (the column
    named text, sentence or segment, else every column), JSON lines (the same names, else
    every string value) or Parquet (the same). UsageError for an unreadable file."""
    try:
        sentences = list(_sentences(path))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot read the test set ({exc})") from None
    sentences = [s.strip() for s in sentences if s and s.strip()]
    if not sentences:
        raise UsageError(f"{path}: no sentences in the test set")
    return EvalSet(path.name, sentences)


def _sentences(path: Path) -> Iterator[str]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = pq.read_table(path)
        names = [c for c in _TEXT_COLUMNS if c in table.column_names] or table.column_names
        for name in names:
            yield from (v for v in table.column(name).to_pylist() if isinstance(v, str))
        return
    with path.open(encoding="utf-8", newline="") as handle:
        if suffix == ".jsonl":
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    named = [record[c] for c in _TEXT_COLUMNS if c in record]
                    yield from (v for v in named or record.values() if isinstance(v, str))
        elif suffix == ".tsv":
            rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
            header = [c.casefold() for c in rows[0]] if rows else []
            column = next((header.index(c) for c in _TEXT_COLUMNS if c in header), None)
            for row in rows[1:] if column is not None else rows:
                yield from [row[column]] if column is not None and column < len(row) else row
        else:
            yield from handle


@dataclass
class Overlap:
    """What one test set shares with a build: rows per config with a matching side, and
    the set's sentences found."""

    test_set: str
    n_sentences: int
    rows: Counter[str] = field(default_factory=Counter)
    found: set[int] = field(default_factory=set)


def check_build(out: Path, test_sets: list[EvalSet], remove: bool = False) -> list[Overlap]:
    """Every config of the build in ``out`` against every test set, a shard (with
    ``remove``: a split) at a time. With ``remove``, the build is rewritten without the
    rows found (each split of a config keeps its name) and its card gets a "Test-set
    overlap" section; the folder is replaced whole, as a build replaces it."""
    configs = [*pair_names(out), MULTIWAY]
    overlaps = [Overlap(t.name, len(t.sentences)) for t in test_sets]
    if not remove:
        for name in configs:
            for shard in sorted((out / "data" / name).glob("*.parquet")):
                _matched(pq.read_table(shard, columns=["translation"]), name, test_sets, overlaps)
        return overlaps
    with rewritten_build(out) as staging:
        files: dict[str, dict[str, list[str]]] = {}
        for name in configs:
            files[name] = {}
            by_split: dict[str, list[Path]] = defaultdict(list)
            for shard in sorted((out / "data" / name).glob("*.parquet")):
                by_split[shard.name.split("-")[0]].append(shard)
            for split, shards in by_split.items():
                table = pq.read_table(shards)
                found = _matched(table, name, test_sets, overlaps)
                kept = table.filter(pa.array([not f for f in found], pa.bool_()))
                if kept.num_rows:
                    files[name][split] = write_split(kept, staging, name, split)
        rewrite_card(out / "README.md", staging / "README.md", files, TITLE, _card_lines(overlaps))
    return overlaps


TITLE = "Test-set overlap"


def _matched(
    table: pa.Table, name: str, test_sets: list[EvalSet], overlaps: list[Overlap]
) -> list[bool]:
    """Per row of one config's ``table``: whether a side matches a sentence of any test set;
    what each set found is counted into its overlap."""
    translation = table.column("translation").combine_chunks()
    sides = [translation.field(k).to_pylist() for k in range(translation.type.num_fields)]
    found = []
    for texts in zip(*sides, strict=True):
        keys = [probes(t) for t in texts if t]
        hit = False
        for test_set, overlap in zip(test_sets, overlaps, strict=True):
            hits = {test_set.find(k) for k in keys} - {None}
            if hits:
                overlap.rows[name] += 1
                overlap.found.update(hits)
                hit = True
        found.append(hit)
    return found


def _card_lines(overlaps: list[Overlap]) -> list[str]:
    """The card's record of the check: per test set, its sentences found and the rows
    removed per config."""
    lines = [
        "Rows holding a sentence of these test sets (a normalised copy, or one word apart: "
        "`corpus check --remove`) were removed:",
        "",
        "| test set | sentences found | rows removed |",
        "| --- | --- | --- |",
    ]
    for o in overlaps:
        rows = ", ".join(f"{name} {n}" for name, n in sorted(o.rows.items())) or "none"
        lines.append(f"| {o.test_set} | {len(o.found)} of {o.n_sentences} | {rows} |")
    return lines
