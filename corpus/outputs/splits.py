"""Train, validation and test splits of a finished build, by article, without leakage.

A researcher who cuts dev and test rows at random leaks: sentences of one article land on
both sides, and near-identical sentences (a site's templates, a story reposted) recur
across articles. ``split_build`` assigns whole articles to a split, deterministically (an
article's place is the hash of the seed and its id), joining into one cluster the articles
that share a near-duplicate sentence held by at most ``MAX_CLUSTER_ARTICLES`` articles
(reposts and updates of one story). A sentence shared more widely (a template) cannot hold
its articles together, so a row of train (or validation) that holds a near-duplicate of a
sentence of a test (or validation) article is removed, and counted. Two sentences are
near-duplicates when their keys are equal: NFKC, case folded, digits as 0, everything but
letters, their marks and digits dropped (``sentence_key``); keys under ``MIN_KEY_CHARS`` characters
(captions, bylines) are not compared.

Each config's rows are rewritten as ``train``, ``validation`` and ``test`` shards, the card's
configs list each split's files, and its "Splits" section gives the sizes. The folder is
replaced as a build replaces it: whole, or not at all.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import regex

from corpus.errors import UsageError
from corpus.outputs.card import rewrite_card
from corpus.outputs.exports import MULTIWAY, pair_names
from corpus.outputs.folder import rewritten_build
from corpus.outputs.writing import write_split

SPLITS = ("train", "validation", "test")
MIN_KEY_CHARS = 12
MAX_CLUSTER_ARTICLES = 3
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_DIGIT = regex.compile(r"\p{Nd}")


def sentence_words(text: str) -> list[str]:
    """The runs of letters (with their combining marks: Devanagari vowel signs, Thai vowels)
    and digits of a sentence, NFKC, case folded, every digit 0."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _WORD.findall(_DIGIT.sub("0", folded))


def sentence_key(text: str) -> str:
    """The near-duplicate key of a sentence: its words joined (``sentence_words``), so
    "Colombo, 12 May: ..." and "colombo 13 may ..." share one."""
    return "".join(sentence_words(text))


@dataclass
class SplitReport:
    """What ``split_build`` did: articles per split, rows per config and split, and the rows
    removed from a split because they hold a near-duplicate of a later split's sentence."""

    articles: dict[str, int] = field(default_factory=dict)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> split -> rows
    removed: dict[str, int] = field(default_factory=dict)  # split -> rows removed (leaks)


def split_build(out: Path, dev: int, test: int, seed: int = 0) -> SplitReport:
    """Split the build in ``out`` into ``dev`` validation and ``test`` test articles (at
    least that many: a cluster is never cut), the rest train, in place. UsageError when
    ``out`` is not a build or has too few articles for the splits asked."""
    configs = [*pair_names(out), MULTIWAY]
    sentences = pq.read_table(out / "sentences.parquet", columns=["article_id", "text"])
    article_of, keys = _sentence_keys(sentences)
    articles = sorted({a for a in article_of if a is not None})
    if dev + test >= len(articles):
        raise UsageError(
            f"{out}: {len(articles)} articles; --dev {dev} and --test {test} would leave no train"
        )
    split_of = _assign(articles, _clusters(article_of, keys), dev, test, seed)
    if "train" not in split_of.values():
        raise UsageError(
            f"{out}: articles that share sentences stay together, and --dev {dev} --test "
            f"{test} takes all {len(articles)}; ask for fewer"
        )
    report = SplitReport(articles={s: sum(v == s for v in split_of.values()) for s in SPLITS})
    # A sentence key seen in a split: rows of earlier splits that hold it leak into it.
    seen: dict[str, set[str]] = defaultdict(set)
    for article, key in zip(article_of, keys, strict=True):
        if article is not None and key:
            seen[split_of[article]].add(key)
    with rewritten_build(out) as staging:
        files = {
            name: _split_config(out, staging, name, split_of, keys, seen, report)
            for name in configs
        }
        _write_card(out / "README.md", staging / "README.md", files, report, seed)
    return report


def _sentence_keys(sentences: pa.Table) -> tuple[list[str | None], list[str]]:
    """Per sentence id: its article (None for a file left alone) and its key ('' when
    shorter than ``MIN_KEY_CHARS``)."""
    keys = [sentence_key(t) for t in sentences.column("text").to_pylist()]
    keys = [k if len(k) >= MIN_KEY_CHARS else "" for k in keys]
    return sentences.column("article_id").to_pylist(), keys


def _clusters(article_of: list[str | None], keys: list[str]) -> dict[str, str]:
    """Each article's cluster (named by its smallest article id): articles joined by a key
    that at most ``MAX_CLUSTER_ARTICLES`` articles hold (union-find)."""
    holders: dict[str, set[str]] = defaultdict(set)
    parent: dict[str, str] = {}
    for article, key in zip(article_of, keys, strict=True):
        if article is not None:
            parent.setdefault(article, article)
            if key:
                holders[key].add(article)

    def root(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for group in holders.values():
        if 1 < len(group) <= MAX_CLUSTER_ARTICLES:
            first, *rest = sorted(group)
            for other in rest:
                ra, rb = root(first), root(other)
                parent[max(ra, rb)] = min(ra, rb)
    return {a: root(a) for a in parent}


def _assign(
    articles: list[str], cluster: dict[str, str], dev: int, test: int, seed: int
) -> dict[str, str]:
    """Split per article: clusters in the order of sha256(seed, cluster name) fill test up
    to ``test`` articles, then validation up to ``dev``, the rest is train."""
    members: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        members[cluster[a]].append(a)
    order = sorted(members, key=lambda c: hashlib.sha256(f"{seed}\0{c}".encode()).digest())
    split_of: dict[str, str] = {}
    wanted = {"test": test, "validation": dev}
    for name in order:
        split = next((s for s in ("test", "validation") if wanted[s] > 0), "train")
        wanted[split] = wanted.get(split, 0) - len(members[name])
        split_of.update(dict.fromkeys(members[name], split))
    return split_of


def _split_config(
    out: Path,
    staging: Path,
    name: str,
    split_of: dict[str, str],
    keys: list[str],
    seen: dict[str, set[str]],
    report: SplitReport,
) -> dict[str, list[str]]:
    """One config's rows into split shards; returns the files of each split with rows."""
    table = pq.read_table(out / "data" / name)
    article = table.column("article_id").to_pylist()
    ids = table.column("sentence_ids").to_pylist()
    later = {"train": ("validation", "test"), "validation": ("test",), "test": ()}
    chosen: dict[str, list[int]] = defaultdict(list)
    for k, (a, sides) in enumerate(zip(article, ids, strict=True)):
        split = split_of[a]
        row_keys = {keys[i] for side in sides.values() if side for i in side} - {""}
        if any(row_keys & seen[s] for s in later[split]):
            report.removed[split] = report.removed.get(split, 0) + 1
            continue
        chosen[split].append(k)
    files: dict[str, list[str]] = {}
    report.rows[name] = {}
    for split in SPLITS:
        part = table.take(pa.array(chosen[split], pa.int64()))
        report.rows[name][split] = part.num_rows
        if part.num_rows:
            files[split] = write_split(part, staging, name, split)
    return files


def _write_card(
    card: Path,
    target: Path,
    files: dict[str, dict[str, list[str]]],
    report: SplitReport,
    seed: int,
) -> None:
    """The build's card with each config's splits listed and a "Splits" section."""
    removed = ", ".join(f"{s}: {n}" for s, n in sorted(report.removed.items())) or "none"
    lines = [
        f"By article (`corpus split`, seed {seed}): articles sharing a near-duplicate sentence "
        f"held by at most {MAX_CLUSTER_ARTICLES} articles stay in one split; rows holding a "
        "near-duplicate of a sentence of a later split (validation, then test) are removed "
        f"from the earlier one ({removed}). Articles: "
        + ", ".join(f"{s} {report.articles[s]}" for s in SPLITS)
        + ".",
        "",
        "| config | " + " | ".join(SPLITS) + " |",
        "| --- |" + " --- |" * len(SPLITS),
        *[
            f"| {name} | " + " | ".join(str(rows[s]) for s in SPLITS) + " |"
            for name, rows in report.rows.items()
        ],
    ]
    rewrite_card(card, target, files, "Splits", lines)
