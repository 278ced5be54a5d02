"""How well the contamination check finds a test set's sentences, and what it and the split
by article cost on a whole build.

    python scripts/bench_contamination.py [BENCHMARKS] [--build OUT]
        [--json output/bench/contamination.json]

The test set is NTREX's English file (ntrex-world/eng.tsv, 970 sentences). Rows are made
from it: exact copies, and copies changed the ways a crawl changes a sentence (punctuation
and case, a number, one word replaced, left out or added; seeded). Recall is the share of
its sentences each kind of copy finds (``contamination.EvalSet.match``), over every sentence
(those too short to be compared count as missed). False matches are counted on 31,102
English Bible verses, none of which is in NTREX, per 10,000 rows. Seconds per 10,000 rows
are the lookups alone (``probes`` and ``find``), one process.

With ``--build OUT`` (a finished build, e.g. ``make hashes``' 100 Bible chapters), a copy of
it is split (``splits.split_build``, 5 validation and 10 test articles) and then checked
against NTREX's English file and the English Bible with ``remove`` (``check_build``): wall
seconds of each, and per 10,000 rows of the build.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from harness import BENCH, ROOT, write_json

from corpus.outputs.contamination import EvalSet, check_build, probes
from corpus.outputs.splits import sentence_key, split_build


def column(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [row["text"] for row in rows if row["text"].strip()]


def changed(sentence: str, how: str, rng: random.Random) -> str:
    """``sentence`` changed one way (see the module docstring)."""
    words = sentence.split()
    k = rng.randrange(len(words))
    if how == "punctuation and case":
        return "".join(c for c in sentence if c.isalnum() or c.isspace()).upper()
    if how == "a number":
        return sentence + " 2024"
    if how == "one word replaced":
        return " ".join([*words[:k], "zebra", *words[k + 1 :]])
    if how == "one word left out":
        return " ".join(words[:k] + words[k + 1 :])
    if how == "one word added":
        return " ".join([*words[:k], "indeed", *words[k:]])
    return sentence


KINDS = (
    "exact",
    "punctuation and case",
    "a number",
    "one word replaced",
    "one word left out",
    "one word added",
)


def on_build(build: Path, test_sets: list[EvalSet]) -> dict:
    """Split a copy of ``build`` by article, then check it against ``test_sets`` with
    ``remove``: rows, and wall seconds of each in total and per 10,000 rows."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "out"
        shutil.copytree(build, out)
        rows = sum(pq.read_metadata(p).num_rows for p in out.glob("data/*/*.parquet"))
        start = time.perf_counter()
        split_build(out, dev=5, test=10)
        split_s = time.perf_counter() - start
        start = time.perf_counter()
        overlaps = check_build(out, test_sets, remove=True)
        check_s = time.perf_counter() - start
    return {
        "rows": rows,
        "split_s": round(split_s, 2),
        "split_s_per_10k_rows": round(split_s / rows * 10_000, 3),
        "check_s": round(check_s, 2),
        "check_s_per_10k_rows": round(check_s / rows * 10_000, 3),
        "rows_removed": {o.test_set: sum(o.rows.values()) for o in overlaps},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "benchmarks", type=Path, nargs="?", default=ROOT.parent / "shared/benchmarks"
    )
    parser.add_argument("--build", type=Path, help="a finished build to split and check")
    parser.add_argument("--json", type=Path, default=BENCH / "contamination.json")
    args = parser.parse_args()
    ntrex = column(args.benchmarks / "ntrex-world" / "eng.tsv")
    bible = column(args.benchmarks / "bible-5lang" / "en.tsv")
    start = time.perf_counter()
    test_set = EvalSet("ntrex eng", ntrex)
    index_s = time.perf_counter() - start
    keys = [sentence_key(s) for s in ntrex]
    rng = random.Random(0)
    recall = {}
    for kind in KINDS:
        rows = [changed(s, kind, rng) for s in ntrex]
        # Found: matched to that sentence, or to another of the set with the same key.
        matched = [test_set.match(row) for row in rows]
        found = sum(m is not None and keys[m] == keys[k] for k, m in enumerate(matched))
        recall[kind] = round(found / len(ntrex), 4)
    start = time.perf_counter()
    false = sum(test_set.find(probes(verse)) is not None for verse in bible)
    seconds = time.perf_counter() - start
    result = {
        "test_sentences": len(ntrex),
        "recall": recall,
        "negative_rows": len(bible),
        "false_matches": false,
        "false_matches_per_10k_rows": round(false / len(bible) * 10_000, 2),
        "index_s": round(index_s, 3),
        "seconds_per_10k_rows": round(seconds / len(bible) * 10_000, 3),
    }
    if args.build:
        result["build"] = on_build(args.build, [test_set, EvalSet("bible en", bible)])
        print(f"on {args.build}: {result['build']}")
    for kind, share in recall.items():
        print(f"recall, {kind}: {share:.4f}")
    print(
        f"false matches: {false} in {len(bible)} rows; {result['seconds_per_10k_rows']} s per 10k"
    )
    write_json(args.json, result)


if __name__ == "__main__":
    main()
