"""What the damaged-input checks do to clean text: ntrex-world (every language) and our sample.

The checks of issue 23 must leave clean files alone. Over every document of ntrex-world (52
languages, 61 articles each, one file per article and language) and the sample articles:

- mojibake repair at reading (``decoding.normalise_text``, ftfy): documents changed;
- language identification: documents flagged mixed, and how many of them are cut into
  language parts (``identification.identification_of``, as the identify stage cuts them),
  with the parts;
- damaged copies (``near_duplicates.word_overlap`` against ``DAMAGED_WORD_SHARE`` and
  ``DAMAGED_PAIR_SHARE``): pairs of renderings of one article identified as one language
  that the word statistics alone would call damaged (the build also needs their
  translations to prefer one of the two).

Usage: ``scripts/bench_faults.py BENCHMARKS [--json output/bench/faults.json]``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

from harness import write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
from corpus.alignment.near_duplicates import DAMAGED_PAIR_SHARE, DAMAGED_WORD_SHARE, word_overlap  # noqa: E402
from corpus.inputs.decoding import normalise_text  # noqa: E402
from corpus.inputs.reading import read_inputs  # noqa: E402
from corpus.records import Document  # noqa: E402
from corpus.text.identification import identification_of  # noqa: E402


def ntrex_documents(benchmarks: Path) -> dict[str, dict[str, list[str]]]:
    """{article id: {NTREX language code: its lines}}."""
    docs: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for path in sorted((benchmarks / "ntrex-world").glob("*.tsv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                docs[row["doc_id"]].setdefault(path.stem, []).append(row["text"])
    return docs


def damaged(a: str, b: str) -> list[float] | None:
    """(word share, word-pair share) of two same-language texts when the word statistics
    alone would call one a damaged copy of the other, else None."""
    words, word_pairs = word_overlap(a, b)
    if words >= DAMAGED_WORD_SHARE and word_pairs <= DAMAGED_PAIR_SHARE:
        return [round(words, 3), round(word_pairs, 3)]
    return None


def check(name: str, text: str, paragraphs: list[tuple[int, int]], out: dict) -> str:
    """Identify one document as the identify stage does (``identification.identification_of``) and
    record what the checks did; returns its language."""
    found = identification_of(Document(name, text, "", "utf-8", tuple(paragraphs)))
    guess = found.guess
    out["documents"] += 1
    if guess.mixed:
        out["mixed"].append({"document": name, "lang": guess.lang, "parts": len(found.parts)})
        if found.parts:
            out["split"].append({"document": name, "parts": [p for p, _, _ in found.parts]})
    return guess.lang


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("benchmarks", type=Path)
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench" / "faults.json")
    args = parser.parse_args()
    start = time.perf_counter()
    result: dict = {}
    # ntrex-world: documents built as a file would be read (one line per paragraph).
    out = {"documents": 0, "repaired": [], "mixed": [], "split": [], "damaged_pairs": []}
    for doc, by_lang in ntrex_documents(args.benchmarks).items():
        labels = {}
        for code, lines in by_lang.items():
            normalised = normalise_text("\n".join(lines), f"{code}/{doc}")
            if normalised.repaired:
                out["repaired"].append(f"{code}/{doc}")
            spans, pos = [], 0
            for line in lines:
                spans.append((pos, pos + len(line)))
                pos += len(line) + 1
            labels[code] = check(f"{code}/{doc}", "\n".join(lines), spans, out)
        for a, b in combinations(sorted(by_lang), 2):
            if labels[a] != labels[b]:
                continue
            if shares := damaged("\n".join(by_lang[a]), "\n".join(by_lang[b])):
                out["damaged_pairs"].append([doc, a, b, *shares])
    result["ntrex-world"] = out
    # The sample, read as the build reads it.
    sample = {"documents": 0, "repaired": [], "mixed": [], "split": [], "damaged_pairs": []}
    read = read_inputs(ROOT / "samples" / "news")
    texts = {}
    for document in read.documents:
        if document.repaired:
            sample["repaired"].append(document.path)
        texts[document.path] = (
            check(document.path, document.text, list(document.paragraphs), sample),
            document.text,
        )
    for (a, (la, ta)), (b, (lb, tb)) in combinations(sorted(texts.items()), 2):
        if la == lb and (shares := damaged(ta, tb)):
            sample["damaged_pairs"].append([a, b, *shares])
    result["sample"] = sample
    result["seconds"] = round(time.perf_counter() - start, 1)
    for name in ("ntrex-world", "sample"):
        r = result[name]
        print(
            f"{name}: {r['documents']} documents, {len(r['repaired'])} repaired, "
            f"{len(r['mixed'])} flagged mixed, {len(r['split'])} cut into languages, "
            f"{len(r['damaged_pairs'])} pairs judged damaged by their words"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, result)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
