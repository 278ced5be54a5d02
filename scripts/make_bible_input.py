"""Turn the bible-5lang benchmark into unlabelled input: one file per chapter and language.

    python scripts/make_bible_input.py ../shared/benchmarks --out /tmp/corpus-bench/bible

writes ``OUT/input/<random>.txt`` (one verse per line, so a paragraph per verse; names say
nothing about chapter or language) and ``OUT/mapping.json`` beside the input folder:
per file name its language, chapter and the verse id of each line, for scoring.
``--chapters N`` keeps N chapters spread evenly over the Bible (default: all 1,189).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
from collections import defaultdict
from pathlib import Path

LANGS = ("ar", "en", "fa", "hi", "sv")


def read_chapters(bible: Path, lang: str) -> dict[str, list[tuple[str, str]]]:
    """Chapter id -> [(verse id, text)] in canonical order, empty verses dropped."""
    chapters: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with (bible / f"{lang}.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["text"].strip():
                chapters[row["doc_id"]].append((row["unit_id"], row["text"].strip()))
    return chapters


def spread(items: list[str], n: int) -> list[str]:
    """``n`` items evenly spaced over ``items`` (all of them when n is 0 or too large)."""
    if n <= 0 or n >= len(items):
        return items
    return [items[round(k * (len(items) - 1) / (n - 1))] for k in range(n)] if n > 1 else items[:1]


def make_input(benchmarks: Path, out: Path, chapters: int = 0, seed: int = 0) -> dict:
    bible = benchmarks / "bible-5lang"
    texts = {lang: read_chapters(bible, lang) for lang in LANGS}
    order = list(texts["en"])  # canonical book order
    chosen = spread(order, chapters)
    shutil.rmtree(out / "input", ignore_errors=True)
    (out / "input").mkdir(parents=True)
    rng = random.Random(seed)
    mapping = {}
    for chapter in chosen:
        for lang in LANGS:
            verses = texts[lang].get(chapter)
            if not verses:
                continue
            name = f"{rng.getrandbits(64):016x}.txt"
            text = "\n".join(v for _, v in verses) + "\n"
            (out / "input" / name).write_text(text, encoding="utf-8")
            mapping[name] = {"lang": lang, "chapter": chapter, "verses": [u for u, _ in verses]}
    meta = {"chapters": chosen, "files": mapping}
    (out / "mapping.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", type=Path, nargs="?", default=Path("../shared/benchmarks"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/corpus-bench/bible"))
    parser.add_argument("--chapters", type=int, default=0, help="0: all 1,189 chapters")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    meta = make_input(args.benchmarks, args.out, args.chapters, args.seed)
    print(f"{len(meta['files'])} files, {len(meta['chapters'])} chapters in {args.out / 'input'}")


if __name__ == "__main__":
    main()
