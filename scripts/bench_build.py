"""Scale benchmark: build the Bible in five languages from unlabelled files, in one run.

    python scripts/bench_build.py ../shared/benchmarks [--chapters N] [--work DIR]

1. ``make_bible_input`` writes one shuffled-name file per chapter and language.
2. A quarter, a half and all of the chapters are built, each in a fresh process with a
   fresh cache (wall and CPU time per stage, sentences per second, peak RSS).
3. The encoder alone embeds the same distinct sentences with the same batch size.
4. The full build is scored: files in the article of their chapter, and pair precision at
   verse level (a pair is right when its two sides share a verse id; chapters listed in
   ``known_issues.tsv`` are scored separately).
5. Incremental rebuilds: the unchanged corpus, then with one verse of one file edited.

Prints a table and writes it as JSON to ``output/bench/``. Default: all 1,189 chapters
(5,945 files, hours of embedding on a small CPU); ``--chapters N`` measures a sample.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

import pyarrow.parquet as pq
from harness import run_worker, write_json

ROOT = Path(__file__).resolve().parents[1]
# This checkout's corpus package and the sibling script, whatever is installed.
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
from make_bible_input import make_input  # noqa: E402


def worker_build(
    src: str, out: str, cache_dir: str, batch_size: str, precision: str = "auto"
) -> dict:
    from corpus.embedding.embed import EmbedOptions
    from corpus.options import BuildOptions
    from corpus.pipeline import build, cpu_seconds

    start = time.perf_counter()
    embedding = EmbedOptions(batch_size=int(batch_size), precision=precision)
    options = BuildOptions(embedding=embedding, progress=False, cache_dir=Path(cache_dir))
    summary = build(Path(src), Path(out), options)
    wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "cpu_s": cpu_seconds(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_files": summary.n_files,
        "n_articles": summary.n_articles,
        "n_sentences": summary.n_sentences,
        "n_encoded": summary.n_encoded,
        "n_cached": summary.n_cached,
        "pairs": summary.pairs,
        "timings_s": summary.timings,
        "cpu_s_per_stage": summary.cpu,
        "warnings": summary.warnings,
    }


def worker_raw(out: str, batch_size: str) -> dict:
    """The encoder alone on the distinct sentences of a build, as the build embeds them."""
    from corpus.embedding.encoder import load_encoder

    texts = list(dict.fromkeys(pq.read_table(Path(out) / "sentences.parquet")["text"].to_pylist()))
    encoder = load_encoder()
    start, start_cpu = time.perf_counter(), time.process_time()
    encoder.encode(sorted(texts, key=len), batch_size=int(batch_size))
    wall = time.perf_counter() - start
    return {
        "n": len(texts),
        "wall_s": wall,
        "sentences_per_s": len(texts) / wall,
        "cores_busy": (time.process_time() - start_cpu) / wall,
    }


def subset(meta: dict, chapters: list[str], src: Path, dst: Path) -> None:
    """Hard-link the files of ``chapters`` into ``dst`` (a smaller corpus, same bytes)."""
    keep = set(chapters)
    dst.mkdir(parents=True, exist_ok=True)
    for name, info in meta["files"].items():
        if info["chapter"] in keep and not (dst / name).exists():
            os.link(src / name, dst / name)


def known_issue_chapters(bible: Path) -> set[str]:
    with (bible / "known_issues.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return {r["id"] if r["scope"] == "doc" else r["id"].rsplit(".", 1)[0] for r in rows}


def score_grouping(out: Path, files: dict) -> dict:
    """A file is right when its article is its chapter's largest one and holds that chapter
    in the majority; an article is mixed when its files come from more than one chapter."""
    rows = pq.read_table(out / "articles.parquet").to_pylist()
    members: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["article_id"] is not None:
            members[row["article_id"]].append(files[row["path"]]["chapter"])
    majority = {a: Counter(ch).most_common(1)[0][0] for a, ch in members.items()}
    main: dict[str, str] = {}
    for a in sorted(members, key=lambda a: -len(members[a])):
        main.setdefault(majority[a], a)
    right = sum(
        1
        for row in rows
        if row["article_id"] is not None
        and main.get(files[row["path"]]["chapter"]) == row["article_id"]
        and majority[row["article_id"]] == files[row["path"]]["chapter"]
    )
    return {
        "files": len(rows),
        "right": right,
        "accuracy": right / len(rows),
        "alone": sum(row["article_id"] is None for row in rows),
        "mixed_articles": sum(len(set(ch)) > 1 for ch in members.values()),
        "articles": len(members),
    }


def score_pairs(out: Path, src: Path, files: dict, hard: set[str]) -> dict:
    """Verse-level pair precision per language pair, chapters with known issues apart."""
    from corpus.inputs.reading import read_inputs

    # Each input line is one verse: a sentence's verse is the line its first character is on.
    starts = {doc.path: [a for a, _ in doc.paragraphs] for doc in read_inputs(src).documents}
    for path, info in files.items():
        assert len(starts[path]) == len(info["verses"]), path
    sentences = pq.read_table(out / "sentences.parquet").to_pandas()
    verse = [
        files[p]["verses"][bisect_right(starts[p], c) - 1]
        for p, c in zip(sentences.path, sentences.char_start, strict=True)
    ]
    chapter = [files[p]["chapter"] for p in sentences.path]
    result = {}
    for config in sorted(p.name for p in (out / "data").iterdir() if p.name != "multiway"):
        la, lb = config.split("-")
        counts = {"clean": [0, 0], "known_issues": [0, 0]}
        for ids in pq.read_table(out / "data" / config, columns=["sentence_ids"])[
            "sentence_ids"
        ].to_pylist():
            va = {verse[i] for i in ids[la]}
            vb = {verse[i] for i in ids[lb]}
            bucket = "known_issues" if chapter[ids[la][0]] in hard else "clean"
            counts[bucket][0] += bool(va & vb)
            counts[bucket][1] += 1
        result[config] = {
            k: {"pairs": n, "precision": right / n if n else None}
            for k, (right, n) in counts.items()
        }
    total = [sum(r["clean"]["pairs"] * (r["clean"]["precision"] or 0) for r in result.values())]
    n_clean = sum(r["clean"]["pairs"] for r in result.values())
    result["all_clean"] = {"pairs": n_clean, "precision": total[0] / n_clean if n_clean else None}
    return result


def edit_one_file(src: Path) -> tuple[str, int]:
    """Change one word of the first verse of one file; returns its name and the lines changed."""
    path = sorted(src.iterdir())[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[0] = lines[0] + " (edited)"
    path.unlink()  # the file is a hard link shared with the other corpus sizes
    path.write_text("\n".join(lines), encoding="utf-8")
    return path.name, 1


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        kind, *rest = sys.argv[2:]
        result = worker_build(*rest) if kind == "build" else worker_raw(*rest)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", type=Path, nargs="?", default=Path("../shared/benchmarks"))
    parser.add_argument("--chapters", type=int, default=0, help="sample size; 0: all 1,189")
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-bench"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench" / "build.json")
    args = parser.parse_args()
    work = args.work.absolute()
    meta = make_input(args.benchmarks, work / "bible", args.chapters)
    src_all, files = work / "bible" / "input", meta["files"]
    chapters = meta["chapters"]
    sizes = {"quarter": chapters[::4], "half": chapters[::2], "full": chapters}
    report: dict = {
        "sample": {
            "chapters": len(chapters),
            "files": len(files),
            "of_full_benchmark": f"{len(chapters)} of 1189 chapters",
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset (all cores)"),
        "batch_size": args.batch_size,
        "builds": {},
    }
    for size, chosen in sizes.items():
        src = work / size / "input"
        subprocess.run(["rm", "-rf", str(work / size)], check=True)
        subset(meta, chosen, src_all, src)
        build = run_worker(
            __file__,
            [
                "build",
                str(src),
                str(work / size / "out"),
                str(work / size / "cache"),
                str(args.batch_size),
            ],
        )
        build["chapters"] = len(chosen)
        report["builds"][size] = build
        print(f"{size}: {len(chosen)} chapters, {build['wall_s']:.1f} s", file=sys.stderr)
    full, out = report["builds"]["full"], work / "full" / "out"
    raw = run_worker(__file__, ["raw", str(out), str(args.batch_size)])
    report["raw_encoder"] = raw
    other = full["wall_s"] - full["timings_s"]["embed"]
    report["cost"] = {
        "end_to_end_sentences_per_s": full["n_encoded"] / full["wall_s"],
        "raw_encoder_sentences_per_s": raw["sentences_per_s"],
        "ratio_end_to_end_to_raw": full["n_encoded"] / full["wall_s"] / raw["sentences_per_s"],
        "non_embedding_share_of_wall": other / full["wall_s"],
        "cores_busy": {
            stage: full["cpu_s_per_stage"][stage] / max(t, 1e-9)
            for stage, t in full["timings_s"].items()
        },
    }
    q = report["builds"]["quarter"]
    report["growth"] = {
        "time_full_over_quarter": full["wall_s"] / q["wall_s"],
        "sentences_full_over_quarter": full["n_sentences"] / q["n_sentences"],
        "rss_mib": {k: b["peak_rss_mib"] for k, b in report["builds"].items()},
    }
    report["grouping"] = score_grouping(out, files)
    bible = args.benchmarks / "bible-5lang"
    report["pair_precision"] = score_pairs(
        out, work / "full" / "input", files, known_issue_chapters(bible)
    )
    cache_args = [str(work / "full" / "cache"), str(args.batch_size)]
    again = run_worker(__file__, ["build", str(work / "full" / "input"), str(out), *cache_args])
    edited_name, _ = edit_one_file(work / "full" / "input")
    edited = run_worker(__file__, ["build", str(work / "full" / "input"), str(out), *cache_args])
    report["incremental"] = {
        "unchanged": {k: again[k] for k in ("wall_s", "n_encoded", "n_cached", "timings_s")},
        "unchanged_over_first": again["wall_s"] / full["wall_s"],
        "one_file_edited": {"file": edited_name, "verses_changed": 1}
        | {k: edited[k] for k in ("wall_s", "n_encoded", "n_cached", "timings_s")},
    }
    print_table(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, json.loads(json.dumps(report, default=asdict)))
    print(f"written to {args.json}")


def print_table(r: dict) -> None:
    full = r["builds"]["full"]
    s = r["sample"]
    lines = [
        f"sample: {s['chapters']} chapters x 5 languages = {s['files']} files "
        f"({s['of_full_benchmark']})",
        f"{'size':8} {'chapters':>8} {'files':>6} {'sentences':>9} {'wall s':>8} "
        f"{'sent/s':>7} {'RSS MiB':>8}",
    ]
    for size, b in r["builds"].items():
        lines.append(
            f"{size:8} {b['chapters']:>8} {b['n_files']:>6} {b['n_sentences']:>9} "
            f"{b['wall_s']:>8.1f} {b['n_encoded'] / b['wall_s']:>7.1f} {b['peak_rss_mib']:>8.0f}"
        )
    busy = r["cost"]["cores_busy"]
    stages = [f"{k} {v:.1f}s ({busy[k]:.2f} cores)" for k, v in full["timings_s"].items()]
    lines.append("stages (full): " + ", ".join(stages))
    c, g, inc = r["cost"], r["grouping"], r["incremental"]
    lines += [
        f"raw encoder: {c['raw_encoder_sentences_per_s']:.1f} sent/s; end to end "
        f"{c['end_to_end_sentences_per_s']:.1f} sent/s = {c['ratio_end_to_end_to_raw']:.2f} x raw",
        f"non-embedding share of wall: {c['non_embedding_share_of_wall']:.1%}; "
        f"full / quarter time: {r['growth']['time_full_over_quarter']:.2f} "
        f"(sentences x{r['growth']['sentences_full_over_quarter']:.2f})",
        f"grouping: {g['right']}/{g['files']} = {g['accuracy']:.2%} right, {g['alone']} alone, "
        f"{g['mixed_articles']} mixed articles",
    ]
    for config, p in r["pair_precision"].items():
        if config == "all_clean":
            lines.append(f"pairs all clean: {p['pairs']} precision {p['precision']:.3f}")
            continue
        lines.append(
            f"pairs {config}: clean {p['clean']['pairs']} @ {p['clean']['precision'] or 0:.3f}; "
            f"known issues {p['known_issues']['pairs']} @ {p['known_issues']['precision'] or 0:.3f}"
        )
    lines += [
        f"rebuild unchanged: {inc['unchanged']['wall_s']:.1f} s = "
        f"{inc['unchanged_over_first']:.1%} of first, {inc['unchanged']['n_encoded']} embedded",
        f"one file edited: {inc['one_file_edited']['n_encoded']} embedded, "
        f"{inc['one_file_edited']['n_cached']} from cache",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
