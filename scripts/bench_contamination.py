"""How well the contamination check finds a test set's sentences, and what it costs.

    python scripts/bench_contamination.py [BENCHMARKS] [--json output/bench/contamination.json]

The test set is NTREX's English file (ntrex-world/eng.tsv, 970 sentences). Rows are made
from it: exact copies, and copies changed the ways a crawl changes a sentence (punctuation
and case, a number, one word replaced, left out or added; seeded). Recall is the share of
its sentences each kind of copy finds (``contamination.EvalSet.match``), over every sentence
(those too short to be compared count as missed). False matches are counted on 31,102
English Bible verses, none of which is in NTREX, per 10,000 rows. Seconds per 10,000 rows
are the lookups alone (``probes`` and ``find``), one process.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path

from harness import BENCH, ROOT, write_json

from corpus.outputs.contamination import EvalSet, probes
from corpus.outputs.splits import sentence_key


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "benchmarks", type=Path, nargs="?", default=ROOT.parent / "shared/benchmarks"
    )
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
    for kind, share in recall.items():
        print(f"recall, {kind}: {share:.4f}")
    print(
        f"false matches: {false} in {len(bible)} rows; {result['seconds_per_10k_rows']} s per 10k"
    )
    write_json(args.json, result)


if __name__ == "__main__":
    main()
