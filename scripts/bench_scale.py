"""Scale-out benchmark: both engines, bounded memory, the whole Bible.

    python scripts/bench_scale.py --benchmarks ../shared/benchmarks [--parts same,overhead,memory]
        [--chapters 100,300,1189] [--store DIR] [--work DIR]

Parts (each a fresh process per build, so each has its own peak RSS; results are merged into
``output/bench/scale.json``, so a part can be run again alone):

- ``same``: the embedded and the Ray engine on the sample and on the first size of Bible
  chapters (``--chapters``), cold (no store): identical Parquet files, names and rows.
- ``overhead``: the same chapters, embedded against Ray (local, started by the build):
  wall time cold (an empty store each) and warm (the store filled by the cold run).
- ``memory``: the embedded engine from a warm store at every size of ``--chapters`` (the
  largest, 1,189, is the whole Bible, 5,945 files): peak RSS, and its growth between the
  last two sizes. A size whose store is not warm yet is filled first by a build that may be
  stopped and run again (the store keeps every committed batch: ``--store``).

The FAISS candidate search at 10k, 100k and 1M document vectors is ``make bench-candidates``
(``output/bench/candidates.json``); its figures are copied into the report when present.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
from harness import run_worker, write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
from bench_build import score_grouping, subset  # noqa: E402
from make_bible_input import make_input, spread  # noqa: E402

SAMPLE = ROOT / "samples" / "news"


def worker_build(src: str, out: str, engine: str, store: str) -> dict:
    """One build in this process: wall time, peak RSS and what it did."""
    from corpus.options import BuildOptions
    from corpus.pipeline import build

    start = time.perf_counter()
    options = BuildOptions(
        progress=False,
        engine=engine,
        cache=store != "-",
        cache_dir=Path(store) if store != "-" else None,
    )
    summary = build(Path(src), Path(out), options)
    return {
        "engine": engine,
        "wall_s": round(time.perf_counter() - start, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "n_files": summary.n_files,
        "n_sentences": summary.n_sentences,
        "n_encoded": summary.n_encoded,
        "n_articles": summary.n_articles,
        "timings_s": {k: round(v, 2) for k, v in summary.timings.items()},
    }


def parquet_files(out: Path) -> dict[str, list[dict]]:
    """Every Parquet file of a build (relative path, content hash included) -> its rows."""
    return {
        p.relative_to(out).as_posix(): pq.read_table(p).to_pylist() for p in out.rglob("*.parquet")
    }


def build(src: Path, out: Path, engine: str, store: Path | None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    return run_worker(__file__, ["build", str(src), str(out), engine, str(store or "-")])


def same(work: Path, chapters_src: Path, n: int) -> dict:
    """Cold builds by both engines: identical Parquet?"""
    result = {}
    for name, src in (("sample", SAMPLE), (f"bible_{n}_chapters", chapters_src)):
        runs = {e: build(src, work / f"same-{name}-{e}", e, None) for e in ("embedded", "ray")}
        files = {e: parquet_files(work / f"same-{name}-{e}") for e in runs}
        result[name] = {
            "identical_parquet": files["embedded"] == files["ray"],
            "parquet_files": len(files["ray"]),
            "rows": sum(len(rows) for rows in files["ray"].values()),
            "wall_s": {e: r["wall_s"] for e, r in runs.items()},
        }
        print(f"same {name}: {result[name]}", file=sys.stderr)
    return result


def overhead(work: Path, src: Path, n: int) -> dict:
    """Ray local against embedded on the same chapters, cold (fresh store) and warm."""
    result: dict = {"chapters": n}
    for engine in ("embedded", "ray"):
        store = work / f"overhead-store-{engine}"
        shutil.rmtree(store, ignore_errors=True)
        cold = build(src, work / f"overhead-{engine}", engine, store)
        warm = build(src, work / f"overhead-{engine}", engine, store)
        result[engine] = {"cold": cold, "warm": warm}
        print(
            f"overhead {engine}: cold {cold['wall_s']} s, warm {warm['wall_s']} s", file=sys.stderr
        )
    for kind in ("cold", "warm"):
        result[f"ray_over_embedded_{kind}"] = round(
            result["ray"][kind]["wall_s"] / result["embedded"][kind]["wall_s"], 3
        )
    return result


def memory(work: Path, meta: dict, sizes: list[int], store: Path) -> dict:
    """Peak RSS of the embedded engine from a warm store, per number of chapters."""
    result: dict = {"store": str(store), "sizes": {}}
    everything = meta["chapters"]
    for n in sizes:
        chosen = everything if n >= len(everything) else spread(everything, n)
        src = work / f"memory-{n}" / "input"
        shutil.rmtree(src.parent, ignore_errors=True)
        subset(meta, chosen, work / "bible" / "input", src)
        out = work / f"memory-{n}" / "out"
        fill = build(src, out, "embedded", store)  # fills the store; a no-op when it is warm
        run = build(src, out, "embedded", store) if fill["n_encoded"] else fill
        grouping = score_grouping(out, meta["files"])
        result["sizes"][str(n)] = {
            "chapters": len(chosen),
            "files": run["n_files"],
            "sentences": run["n_sentences"],
            "embedded_in_fill_run": fill["n_encoded"],
            "warm": run,
            "files_in_right_article": round(grouping["accuracy"], 4),
            "mixed_articles": grouping["mixed_articles"],
        }
        print(f"memory {n}: {run['peak_rss_mib']} MiB, {run['wall_s']} s", file=sys.stderr)
    if len(sizes) >= 2:
        a, b = (result["sizes"][str(n)]["warm"]["peak_rss_mib"] for n in sizes[-2:])
        result[f"growth_{sizes[-2]}_to_{sizes[-1]}"] = round(b / a - 1, 4)
    return result


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker_build(*sys.argv[3:])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--parts", default="same,overhead,memory")
    parser.add_argument("--chapters", default="100,300,1189")
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-bench-scale"))
    parser.add_argument("--store", type=Path, default=None, help="memory part's store")
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench" / "scale.json")
    args = parser.parse_args()
    work = args.work.absolute()
    sizes = [int(n) for n in args.chapters.split(",")]
    meta = make_input(args.benchmarks, work / "bible", 0)
    first = work / f"chapters-{sizes[0]}" / "input"
    if not first.exists():
        subset(meta, spread(meta["chapters"], sizes[0]), work / "bible" / "input", first)
    report = json.loads(args.json.read_text()) if args.json.exists() else {}
    report["machine"] = {
        "cpus": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
    }
    parts = args.parts.split(",")
    if "same" in parts:
        report["same"] = same(work, first, sizes[0])
    if "overhead" in parts:
        report["overhead"] = overhead(work, first, sizes[0])
    if "memory" in parts:
        report["memory"] = memory(work, meta, sizes, args.store or work / "store")
    candidates = ROOT / "output" / "bench" / "candidates.json"
    if candidates.exists():
        report["candidates"] = json.loads(candidates.read_text())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, report)
    print(json.dumps({k: v for k, v in report.items() if k != "candidates"}, indent=2))


if __name__ == "__main__":
    main()
