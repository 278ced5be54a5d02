"""Embedding-store benchmark: anti-join and lookup against stores of 10k, 100k and 1M keys
(``corpus.embedding.store.EmbeddingStore``), and compaction of a store written as a build writes it.

    python scripts/bench_store.py [--sizes 10000 100000 1000000] [--query 10000]
                                  [--compact 100000] [--work /tmp/corpus-bench-store]

Synthetic store: n keys (``text_keys`` of "synthetic sentence i") with random unit vectors of
dim 384 (e5-small), written as compacted parts of ``COMPACT_ROWS`` rows. The query is what
``encode_cached`` asks of a store for one build: ``--query`` distinct texts, half of them
stored (drawn at random over the whole store) and half new; the anti-join (``missing``, the
key column only) is timed, then the lookup of the stored half (``lookup``, keys and vectors),
then a lookup of ``ARTICLE`` stored keys (one article read back).
Each size is filled in one fresh process and queried in another, so each peak RSS is that
process's own; the store's files are in the page cache (just written), as in a rebuild.
Compaction: ``--compact`` keys written in parts of ``STORE_EVERY`` rows, as ``encode_cached``
appends them, merged into parts of ``COMPACT_ROWS`` when the store is opened. Prints one JSON
line per measurement and writes ``output/bench/store.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from harness import run_worker, write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
from corpus.embedding.store import STORE_EVERY, EmbeddingStore  # noqa: E402
from corpus.stores import COMPACT_ROWS  # noqa: E402

DIM = 384
MODEL = "synthetic model"
ARTICLE = 50  # keys of one lookup timed apart: about one article's sentences


def _texts(start: int, stop: int) -> list[str]:
    return [f"synthetic sentence {i}" for i in range(start, stop)]


def _rss_mib() -> float:
    """The resident set now (VmRSS), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _du_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def fill(folder: Path, n: int, part_rows: int) -> dict:
    """Write n keys with random unit vectors as parts of ``part_rows`` rows."""
    store = EmbeddingStore(folder, MODEL, DIM)
    rng = np.random.default_rng(n)
    start = time.perf_counter()
    for first in range(0, n, part_rows):
        texts = _texts(first, min(n, first + part_rows))
        rows = rng.standard_normal((len(texts), DIM), dtype=np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        store.append(store.keys(texts), rows)
    return {
        "n": n,
        "parts": len(store.parts),
        "write_s": round(time.perf_counter() - start, 2),
        "store_mib": round(_du_mib(store.path), 1),
        "peak_rss_mib": round(_peak_mib()),
    }


def query(folder: Path, n: int, q: int) -> dict:
    """Anti-join and lookup of q texts (half stored, half new) against the n-key store."""
    rng = np.random.default_rng(0)
    stored = rng.choice(n, q // 2, replace=False)
    texts = [f"synthetic sentence {i}" for i in stored] + _texts(n, n + q - q // 2)
    store = EmbeddingStore(folder, MODEL, DIM)
    keys = store.keys(texts)
    rss_before = _rss_mib()
    start = time.perf_counter()
    missing = store.missing(keys)
    anti_join_s = time.perf_counter() - start
    present = [k for k, gone in zip(keys, missing, strict=True) if not gone]
    start = time.perf_counter()
    rows, found = store.lookup(present)
    lookup_s = time.perf_counter() - start
    assert int(missing.sum()) == q - q // 2 and found.all() and store.warnings == []
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)
    # One article's sentences, as a streaming runner reads them back.
    article = store.keys([f"synthetic sentence {i}" for i in rng.choice(n, ARTICLE, replace=False)])
    start = time.perf_counter()
    _, found = store.lookup(article)
    article_s = time.perf_counter() - start
    assert found.all()
    return {
        "n": n,
        "query": q,
        "parts": len(store.parts),
        "anti_join_s": round(anti_join_s, 3),
        "lookup_s": round(lookup_s, 3),
        "lookup_us_per_key": round(1e6 * lookup_s / len(present), 1),
        f"lookup_{ARTICLE}_keys_s": round(article_s, 3),
        "rss_before_mib": round(rss_before),
        "peak_rss_mib": round(_peak_mib()),
    }


def compact(folder: Path, n: int) -> dict:
    """Compaction of the n-key store written in parts of STORE_EVERY rows: opening it
    compacts it (more than MAX_SMALL_PARTS small parts)."""
    before = len(list(folder.glob("embeddings/*/part-*.parquet")))
    rss_before = _rss_mib()
    start = time.perf_counter()
    store = EmbeddingStore(folder, MODEL, DIM)
    seconds = time.perf_counter() - start
    assert len(store) == n and store.warnings == [] and store.compact() == 0
    return {
        "n": n,
        "parts_before": before,
        "parts_after": len(store.parts),
        "compact_s": round(seconds, 2),
        "rss_before_mib": round(rss_before),
        "peak_rss_mib": round(_peak_mib()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--query", type=int, default=10_000)
    parser.add_argument("--compact", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-bench-store"))
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        job, folder, n, extra = args.worker
        result = {
            "fill": lambda: fill(Path(folder), int(n), int(extra)),
            "query": lambda: query(Path(folder), int(n), int(extra)),
            "compact": lambda: compact(Path(folder), int(n)),
        }[job]()
        print(json.dumps(result))
        return
    shutil.rmtree(args.work, ignore_errors=True)
    report: dict = {
        "dim": DIM,
        "compact_rows": COMPACT_ROWS,
        "store_every": STORE_EVERY,
        "cpu": os.cpu_count(),
        "sizes": [],
    }
    try:
        for n in args.sizes:
            folder = args.work / str(n)
            row = {"fill": run_worker(__file__, ["fill", str(folder), str(n), str(COMPACT_ROWS)])}
            row["query"] = run_worker(__file__, ["query", str(folder), str(n), str(args.query)])
            print(json.dumps(row), flush=True)
            report["sizes"].append(row)
            shutil.rmtree(folder)
        if args.compact:
            folder = args.work / f"compact-{args.compact}"
            fill = ["fill", str(folder), str(args.compact), str(STORE_EVERY)]
            row = {"fill": run_worker(__file__, fill)}
            row["compact"] = run_worker(__file__, ["compact", str(folder), str(args.compact), "0"])
            print(json.dumps(row), flush=True)
            report["compaction"] = row
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    out = ROOT / "output" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "store.json", report)


if __name__ == "__main__":
    main()
