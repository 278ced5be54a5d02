"""Every language the model covers: segmentation, language identification, grouping and pair
precision/recall over NTREX news in 52 languages (``ntrex-world``), per language.

    python scripts/bench_langs.py ../shared/benchmarks [--langs eng,jpn,tha] [--docs N]
        [--work DIR] [--cache-dir DIR]

1. One file per document and language (NTREX codes, ``--langs``; default all) is written to
   ``WORK/input`` under a hashed name (a line per NTREX unit); nothing is copied into the
   project.
2. The folder is built with ``corpus.pipeline.build`` (default options, the embedding cache
   in ``--cache-dir`` so that batches and reruns reuse embeddings).
3. Scored per language: the code it was identified as; segmentation (sentences per source
   line, share of files with as many sentences as lines); grouping (a file is right when its
   article holds only files of its document and all of them in languages the model
   covers); the share of aligned rows the filters kept; and pair precision and recall. A
   pair is right when its two sides overlap the same ``unit_id``: each side is located in
   its file by its sentences' character offsets (the file text NFC-normalised, as
   ``sentences.parquet`` indexes it). Recall: the units of the documents both languages
   have that some right pair covers on both sides.
   Per language, precision and recall are pooled over its pairs; a language the bundled
   model covers (XLM-R's languages) is pooled over its pairs with covered languages only,
   and an uncovered one over all its pairs. A variant (a second file of a code its article
   holds, ``variant_of``) counts as grouped with the article it renders.
4. The issue's targets, per covered language: pair precision >= 0.98, recall >= 0.95,
   share kept >= 0.95, and rows for every pair of covered languages.

Prints a table and merges the results into ``output/bench/langs.json`` (a batch per set
of languages; a later run of the same language replaces its entry).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import platform
import resource
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import pyarrow.parquet as pq
from harness import write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
from corpus.embedding.encoder import default_model_covers  # noqa: E402
from corpus.options import BuildOptions  # noqa: E402
from corpus.pipeline import build  # noqa: E402
from corpus.text.segmentation import SPACE_SEPARATED  # noqa: E402

Unit = tuple[str, str]  # (doc_id, unit_id)


def read_ntrex(folder: Path, codes: list[str]) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """NTREX code -> doc_id -> [(unit_id, text)] in file order."""
    data: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for code in codes:
        docs: dict[str, list[tuple[str, str]]] = defaultdict(list)
        with (folder / f"{code}.tsv").open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)
            for doc_id, unit_id, text in reader:
                docs[doc_id].append((unit_id, text))
        data[code] = dict(docs)
    return data


def write_input(data, input_dir: Path, n_docs: int) -> dict[str, dict]:
    """One hashed-name file per document and language; returns per file name its code,
    document and unit spans (start, end, unit_id) in the NFC text."""
    input_dir.mkdir(parents=True, exist_ok=True)
    for old in input_dir.glob("*.txt"):
        old.unlink()
    doc_ids = sorted({d for docs in data.values() for d in docs})[: n_docs or None]
    files = {}
    for code, docs in data.items():
        for doc_id in doc_ids:
            if doc_id not in docs:
                continue
            name = hashlib.sha1(f"{doc_id}/{code}".encode()).hexdigest()[:16] + ".txt"
            spans, parts, at = [], [], 0
            for unit_id, text in docs[doc_id]:
                line = unicodedata.normalize("NFC", " ".join(text.split()))
                spans.append((at, at + len(line), unit_id))
                parts.append(line)
                at += len(line) + 1
            (input_dir / name).write_text("\n".join(parts) + "\n", encoding="utf-8")
            files[name] = {"code": code, "doc": doc_id, "spans": spans}
    return files


def units_of(spans: list[tuple[int, int, str]], start: int, end: int) -> set[str]:
    return {unit for a, b, unit in spans if a < end and start < b}


def score(out: Path, files: dict[str, dict], summary) -> dict:
    articles = pq.read_table(out / "articles.parquet").to_pylist()
    sentences = pq.read_table(out / "sentences.parquet").to_pylist()
    by_path = {a["path"]: a for a in articles}
    code_of_lang: dict[str, Counter] = defaultdict(Counter)
    for a in articles:
        code_of_lang[a["lang"]][files[a["path"]]["code"]] += 1
    # Grouping: the article of each file (a variant's: the article it renders) holds only
    # files of its document, and all of them but those in languages the model does not
    # cover (which it may leave alone), its variants included.
    article_of = {a["path"]: a["article_id"] or a["variant_of"] for a in articles}
    members: dict[str, set[str]] = defaultdict(set)
    for path, article_id in article_of.items():
        if article_id is not None:
            members[article_id].add(path)
    doc_files: dict[str, set[str]] = defaultdict(set)
    doc_covered: dict[str, set[str]] = defaultdict(set)
    for a in articles:
        doc_files[files[a["path"]]["doc"]].add(a["path"])
        if default_model_covers(a["lang"]):
            doc_covered[files[a["path"]]["doc"]].add(a["path"])
    per_lang: dict[str, dict] = {}
    for code in sorted({f["code"] for f in files.values()}):
        mine = [a for a in articles if files[a["path"]]["code"] == code]
        n_lines = sum(len(files[a["path"]]["spans"]) for a in mine)
        n_sents = sum(a["n_sentences"] for a in mine)
        grouped = sum(
            article_of[a["path"]] is not None
            and doc_covered[files[a["path"]]["doc"]]
            <= members[article_of[a["path"]]]
            <= doc_files[files[a["path"]]["doc"]]
            for a in mine
        )
        langs = Counter(a["lang"] for a in mine)
        per_lang[code] = {
            "files": len(mine),
            "identified_as": dict(langs),
            "segmenter": SPACE_SEPARATED[langs.most_common(1)[0][0]][0]
            if langs and langs.most_common(1)[0][0] in SPACE_SEPARATED
            else "sentencex + Unicode repairs",
            "lines": n_lines,
            "sentences": n_sents,
            "sentences_per_line": round(n_sents / max(n_lines, 1), 3),
            "files_with_one_sentence_per_line": round(
                sum(a["n_sentences"] == len(files[a["path"]]["spans"]) for a in mine)
                / max(len(mine), 1),
                3,
            ),
            "grouped_right": round(grouped / max(len(mine), 1), 3),
        }
    sentence = {s["sentence_id"]: s for s in sentences}
    # Pairs: per config, rows right (both sides overlap a common unit) and units recalled.
    pair_stats: dict[str, dict] = {}
    lang_pool: dict[str, Counter] = defaultdict(Counter)
    for config in summary.pairs:
        la, lb = config.split("-")
        rows = pq.read_table(out / "data" / config).to_pylist()
        right, recalled = 0, set()
        for row in rows:
            sides = []
            for lang in (la, lb):
                ids = row["sentence_ids"][lang]
                first, last = sentence[ids[0]], sentence[ids[-1]]
                f = files[first["path"]]
                sides.append(
                    (f["doc"], units_of(f["spans"], first["char_start"], last["char_end"]))
                )
            (doc_a, units_a), (doc_b, units_b) = sides
            common = units_a & units_b if doc_a == doc_b else set()
            if common:
                right += 1
                recalled.update((doc_a, u) for u in common)
        # Gold: every unit of the documents both languages have (a grouping miss costs recall).
        docs_a = {files[a["path"]]["doc"] for a in articles if a["lang"] == la}
        gold_docs = docs_a & {files[a["path"]]["doc"] for a in articles if a["lang"] == lb}
        gold = set()
        for name, f in files.items():
            if f["doc"] in gold_docs and name in by_path and by_path[name]["lang"] == la:
                gold.update((f["doc"], u) for _, _, u in f["spans"])
        kept = len(rows)
        removed = sum(summary.removed.get(config, {}).values())
        pair_stats[config] = {
            "rows": kept,
            "removed_by_filters": summary.removed.get(config, {}),
            "precision": round(right / kept, 4) if kept else None,
            "recall": round(len(recalled) / len(gold), 4) if gold else None,
            "length_ratio": summary.length_ratios[config].describe()
            if config in summary.length_ratios
            else None,
        }
        for lang, other in ((la, lb), (lb, la)):
            # A language the model covers is judged on its pairs with covered languages: an
            # uncovered partner (reported on its own) would hide its figures.
            if default_model_covers(lang) and not default_model_covers(other):
                continue
            pool = lang_pool[lang]
            pool["rows"] += kept
            pool["right"] += right
            pool["gold"] += len(gold)
            pool["recalled"] += len(recalled)
            pool["aligned"] += kept + removed
    # Per NTREX code: pooled over the pairs of the language code it was mostly identified as.
    for stats in per_lang.values():
        lang = max(stats["identified_as"], key=stats["identified_as"].get, default=None)
        pool = lang_pool.get(lang, Counter())
        stats["covered"] = lang is not None and default_model_covers(lang)
        stats["pairs_rows"] = pool["rows"]
        stats["share_kept"] = round(pool["rows"] / pool["aligned"], 4) if pool["aligned"] else None
        stats["precision"] = round(pool["right"] / pool["rows"], 4) if pool["rows"] else None
        stats["recall"] = round(pool["recalled"] / pool["gold"], 4) if pool["gold"] else None
    langs_built = sorted(code_of_lang)
    missing = [
        f"{a}-{b}"
        for a, b in combinations(langs_built, 2)
        if f"{a}-{b}" not in summary.pairs or not summary.pairs[f"{a}-{b}"]
    ]
    return {"languages": per_lang, "pairs": pair_stats, "pairs_without_rows": missing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("benchmarks", type=Path)
    parser.add_argument("--langs", default="", help="NTREX codes, comma-separated (default all)")
    parser.add_argument("--docs", type=int, default=0, help="first N documents (0: all 61)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-bench-langs"))
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench" / "langs.json")
    args = parser.parse_args()
    folder = args.benchmarks / "ntrex-world"
    codes = [c for c in args.langs.split(",") if c] or sorted(p.stem for p in folder.glob("*.tsv"))
    data = read_ntrex(folder, codes)
    work = args.work / "-".join(sorted(codes))[:80]
    files = write_input(data, work / "input", args.docs)
    start = time.perf_counter()
    summary = build(
        work / "input",
        work / "out",
        BuildOptions(progress=False, cache_dir=args.cache_dir or args.work / "cache", force=True),
    )
    wall = time.perf_counter() - start
    result = score(work / "out", files, summary)
    result.update(
        {
            "langs": codes,
            "docs": args.docs or "all",
            "n_files": summary.n_files,
            "n_sentences": summary.n_sentences,
            "n_encoded": summary.n_encoded,
            "wall_s": round(wall, 1),
            "timings_s": {k: round(v, 1) for k, v in summary.timings.items()},
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "warnings": summary.warnings,
            "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
            ).stdout.strip(),
            "machine": platform.machine(),
        }
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(args.json.read_text()) if args.json.exists() else {}
    merged.setdefault("batches", {})[",".join(sorted(codes))] = result
    merged.setdefault("languages", {}).update(result["languages"])
    write_json(args.json, merged)
    print("| language | identified as | segmenter | sentences/line | grouped | kept | P | R |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for code, s in result["languages"].items():
        ident = ", ".join(f"{k} {v}" for k, v in s["identified_as"].items())
        print(
            f"| {code} | {ident} | {s['segmenter']} | {s['sentences_per_line']} | "
            f"{s['grouped_right']} | {s['share_kept']} | {s['precision']} | {s['recall']} |"
        )
    print(f"pairs without rows: {result['pairs_without_rows']}")
    covered = {c: s for c, s in result["languages"].items() if s["covered"]}
    targets = {"precision": 0.98, "recall": 0.95, "share_kept": 0.95}
    failing = [c for c, s in covered.items() if any((s[k] or 0) < t for k, t in targets.items())]
    print(
        f"covered languages: {len(covered)}; below a target (P 0.98, R 0.95, kept 0.95): "
        f"{', '.join(failing) or 'none'}; uncovered: "
        f"{', '.join(c for c in result['languages'] if c not in covered) or 'none'}"
    )
    print(f"wall {wall:.0f} s, {summary.n_sentences} sentences, {summary.n_encoded} embedded")


if __name__ == "__main__":
    main()
