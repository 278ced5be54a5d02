"""Candidate-search benchmark: FAISS nearest neighbours over 10k, 100k and 1M synthetic
document vectors (``corpus.alignment.neighbours.nearest``), in the shape grouping uses it: every
document of one language queries the index of another language for its k nearest.

    python scripts/bench_candidates.py [--sizes 10000 100000 1000000] [--k 10]

Synthetic vectors (dim 384, as e5-small): documents cluster around n / 200 topics (unit
centre plus Gaussian noise of the same norm: cosine about 0.7 to their topic, as articles of
one beat), and each query is a "translation" of one document (the document plus half its
norm of noise: cosine about 0.9). Each size runs in a fresh process, so its peak RSS is its
own. Recall is measured against exact search (brute force in blocks) on 2,000 queries: the
share whose true nearest neighbour is the first result. Prints a table and writes
``output/bench/candidates.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from harness import BENCH, run_worker, write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
from corpus.alignment.neighbours import EXACT_LIMIT, NPROBE, nearest  # noqa: E402

DIM = 384
RECALL_QUERIES = 2_000


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(documents, translations), each (n, DIM) float32 unit rows, built in blocks."""
    rng = np.random.default_rng(seed)
    topics = _unit(rng.standard_normal((max(1, n // 200), DIM)).astype(np.float32))
    docs = np.empty((n, DIM), np.float32)
    queries = np.empty((n, DIM), np.float32)
    scale = np.float32(1 / np.sqrt(DIM))  # noise of norm about 1
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        noise = rng.standard_normal((m, DIM), dtype=np.float32) * scale
        doc = _unit(topics[rng.integers(0, len(topics), m)] + noise)
        docs[start : start + m] = doc
        noise = rng.standard_normal((m, DIM), dtype=np.float32) * scale
        queries[start : start + m] = _unit(doc + 0.5 * noise)
    return docs, queries


def exact_top1(docs: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The true nearest document of each query, by brute force in blocks of documents."""
    best = np.full(len(queries), -np.inf, np.float32)
    arg = np.zeros(len(queries), np.int64)
    for start in range(0, len(docs), 200_000):
        sim = queries @ docs[start : start + 200_000].T
        top = sim.argmax(1)
        value = sim[np.arange(len(queries)), top]
        better = value > best
        best[better], arg[better] = value[better], top[better] + start
    return arg


def worker(n: int, k: int) -> dict:
    docs, queries = synthetic(n)
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    _, indices = nearest(docs, queries, k)
    seconds = time.perf_counter() - start
    sample = np.random.default_rng(1).choice(n, min(n, RECALL_QUERIES), replace=False)
    truth = exact_top1(docs, queries[sample])
    return {
        "n": n,
        "index": "flat (exact)" if n <= EXACT_LIMIT else f"IVF, nprobe {NPROBE}",
        "search_s": round(seconds, 2),
        "us_per_query": round(1e6 * seconds / n, 1),
        "recall_at_1": float(np.mean(indices[sample, 0] == truth)),
        "translation_in_top_k": float(np.mean(indices == np.arange(n)[:, None]) * k),
        "rss_vectors_mib": round(rss_data),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.k)))
        return
    rows = []
    for n in args.sizes:
        rows.append(run_worker(__file__, [str(n), "--k", str(args.k)]))
        print(json.dumps(rows[-1]), flush=True)
    for a, b in itertools.pairwise(rows):
        growth = b["search_s"] / a["search_s"]
        ratio = b["n"] / a["n"]
        print(f"{a['n']:>9,} -> {b['n']:>9,}: n x{ratio:.0f}, search time x{growth:.1f} "
              f"(n log n: x{ratio * np.log(b['n']) / np.log(a['n']):.1f})")  # fmt: skip
    write_json(BENCH / "candidates.json", {"sizes": rows})


if __name__ == "__main__":
    main()
